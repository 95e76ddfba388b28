package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// llmTokenDays is the daily token budget's counter (LLM_DAILY_TOKEN_BUDGET,
// DESIGN.md §5), shared by every process: one row per day in Europe/Berlin
// with the input + output tokens the model calls of that day used. Each
// answered call adds to its day's row in one upsert.
func llmTokenDays() *gormigrate.Migration {
	return sqlMigration("202612054002_llm_token_days", []string{`
CREATE TABLE llm_token_days (
  day         date PRIMARY KEY,
  tokens      bigint NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
)`,
	}, []string{`DROP TABLE llm_token_days`})
}
