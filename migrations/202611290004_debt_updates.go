package migrations

import "github.com/go-gormigrate/gormigrate/v2"

func debtUpdates() *gormigrate.Migration {
	return sqlMigration("202611290004_debt_updates", []string{`
CREATE TABLE debt_updates (
  id                   bigserial PRIMARY KEY,
  incoming_email_id    bigint NOT NULL UNIQUE REFERENCES incoming_emails (id) ON DELETE CASCADE,
  creditor_inquiry_id  bigint,
  client_name          text NOT NULL DEFAULT '',
  client_aktenzeichen  text,
  creditor_name        text NOT NULL DEFAULT '',
  creditor_email       text NOT NULL DEFAULT '',
  previous_amount      numeric(12,2),
  amount               numeric(12,2) NOT NULL CHECK (amount > 0),
  reference_numbers    jsonb NOT NULL DEFAULT '[]',
  match_status         text NOT NULL,
  match_confidence     double precision NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX debt_updates_inquiry_idx ON debt_updates (creditor_inquiry_id)`,
	}, []string{`DROP TABLE debt_updates`})
}
