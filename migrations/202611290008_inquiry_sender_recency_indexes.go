package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// inquirySenderRecencyIndexes extends the sender key indexes of
// 202611290006 with the candidate order (sent_at DESC NULLS LAST, id DESC).
// A large creditor's address or domain names thousands of inquiries; with
// the order in the index the matcher reads only the most recent ones it
// scores instead of sorting all of them per reply. The new indexes start
// with the same expressions, so the single-column ones they replace go.
func inquirySenderRecencyIndexes() *gormigrate.Migration {
	return sqlMigration("202611290008_inquiry_sender_recency_indexes", []string{
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_email_recent_idx ON creditor_inquiries
  ((lower(btrim(creditor_email))), sent_at DESC NULLS LAST, id DESC)`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_domain_recent_idx ON creditor_inquiries
  ((lower(split_part(btrim(creditor_email), '@', 2))), sent_at DESC NULLS LAST, id DESC)`,
		`DROP INDEX IF EXISTS creditor_inquiries_email_lower_idx`,
		`DROP INDEX IF EXISTS creditor_inquiries_email_domain_idx`,
	}, []string{
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_email_domain_idx ON creditor_inquiries
  ((lower(split_part(btrim(creditor_email), '@', 2))))`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_email_lower_idx ON creditor_inquiries
  ((lower(btrim(creditor_email))))`,
		`DROP INDEX IF EXISTS creditor_inquiries_domain_recent_idx`,
		`DROP INDEX IF EXISTS creditor_inquiries_email_recent_idx`,
	})
}
