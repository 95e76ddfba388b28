package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// creditorInquiries creates the portal's table only where it is absent (a
// fresh or test database); the portal owns it in production.
func creditorInquiries() *gormigrate.Migration {
	return sqlMigration("202611290003_creditor_inquiries", []string{`
CREATE TABLE IF NOT EXISTS creditor_inquiries (
  id                            bigserial PRIMARY KEY,
  client_name                   text NOT NULL,
  client_aktenzeichen           text,
  creditor_name                 text NOT NULL,
  creditor_email                text,
  debt_amount                   numeric(12,2),
  reference_number              text,
  zendesk_ticket_id             text,
  zendesk_side_conversation_id  text,
  email_subject                 text,
  email_body                    text,
  status                        text,
  response_received             boolean NOT NULL DEFAULT false,
  sent_at                       timestamptz,
  created_at                    timestamptz NOT NULL DEFAULT now(),
  updated_at                    timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_ticket_idx ON creditor_inquiries (zendesk_ticket_id)`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_sent_idx ON creditor_inquiries (sent_at DESC)`,
	}, []string{`DROP TABLE IF EXISTS creditor_inquiries`})
}
