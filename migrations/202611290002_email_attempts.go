package migrations

import "github.com/go-gormigrate/gormigrate/v2"

func emailAttempts() *gormigrate.Migration {
	return sqlMigration("202611290002_email_attempts", []string{`
CREATE TABLE email_attempts (
  id                 bigserial PRIMARY KEY,
  incoming_email_id  bigint NOT NULL REFERENCES incoming_emails (id) ON DELETE CASCADE,
  attempt            integer NOT NULL,
  worker             text NOT NULL,
  lease_token        text NOT NULL UNIQUE,
  started_at         timestamptz NOT NULL,
  finished_at        timestamptz,
  outcome            text CHECK (outcome IN
    ('completed','not_creditor_reply','retry','failed','rescued','interrupted')),
  error              text
)`,
		`CREATE INDEX email_attempts_email_idx ON email_attempts (incoming_email_id, id)`,
	}, []string{`DROP TABLE email_attempts`})
}
