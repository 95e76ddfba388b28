package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// emailAttemptsLLMUsage records the model's token usage per attempt
// (models.LLMUsage): uncached input, output, cache write and cache read
// tokens, answered calls, and 429/529 answers waited out. The statement that
// finishes the attempt writes them. Columns with a constant default are a
// catalog change in PostgreSQL 11+: no table rewrite, no long lock.
func emailAttemptsLLMUsage() *gormigrate.Migration {
	return sqlMigration("202612054001_email_attempts_llm_usage", []string{`
ALTER TABLE email_attempts
  ADD COLUMN llm_input_tokens       bigint  NOT NULL DEFAULT 0,
  ADD COLUMN llm_output_tokens      bigint  NOT NULL DEFAULT 0,
  ADD COLUMN llm_cache_write_tokens bigint  NOT NULL DEFAULT 0,
  ADD COLUMN llm_cache_read_tokens  bigint  NOT NULL DEFAULT 0,
  ADD COLUMN llm_calls              integer NOT NULL DEFAULT 0,
  ADD COLUMN llm_rate_limited       integer NOT NULL DEFAULT 0`,
	}, []string{`
ALTER TABLE email_attempts
  DROP COLUMN llm_input_tokens, DROP COLUMN llm_output_tokens,
  DROP COLUMN llm_cache_write_tokens, DROP COLUMN llm_cache_read_tokens,
  DROP COLUMN llm_calls, DROP COLUMN llm_rate_limited`})
}
