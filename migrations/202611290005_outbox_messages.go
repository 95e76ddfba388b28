package migrations

import "github.com/go-gormigrate/gormigrate/v2"

func outboxMessages() *gormigrate.Migration {
	return sqlMigration("202611290005_outbox_messages", []string{`
CREATE TABLE outbox_messages (
  id               bigserial PRIMARY KEY,
  aggregate_type   text NOT NULL CHECK (aggregate_type IN
    ('creditor_debt_update','failure_alert','debt_notification')),
  aggregate_id     bigint NOT NULL,
  payload          jsonb NOT NULL,
  idempotency_key  text NOT NULL UNIQUE,
  attempts         integer NOT NULL DEFAULT 0,
  last_error       text,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  processed_at     timestamptz,
  outcome          text CHECK (outcome IN ('delivered','skipped','failed')),
  locked_until     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX outbox_messages_due_idx ON outbox_messages (next_attempt_at) WHERE processed_at IS NULL`,
		`CREATE INDEX outbox_messages_aggregate_idx ON outbox_messages (aggregate_id)`,
	}, []string{`DROP TABLE outbox_messages`})
}
