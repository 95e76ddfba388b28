package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// inquiryMatchIndexes adds the plain btree expression indexes the matcher's
// candidate lookup needs (services/matcher/candidates.go writes the same
// expressions, character for character, so the planner can use them). No
// extension is needed: pg_trgm may be unavailable on the hosted database, so
// name similarity is scored in Go on the few candidates these keys return.
func inquiryMatchIndexes() *gormigrate.Migration {
	return sqlMigration("202611290006_inquiry_match_indexes", []string{
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_aktenzeichen_norm_idx ON creditor_inquiries
  ((lower(regexp_replace(client_aktenzeichen, '[[:space:]./_-]', '', 'g'))))`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_reference_norm_idx ON creditor_inquiries
  ((lower(regexp_replace(reference_number, '[[:space:]./_-]', '', 'g'))))`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_email_lower_idx ON creditor_inquiries
  ((lower(btrim(creditor_email))))`,
		`CREATE INDEX IF NOT EXISTS creditor_inquiries_email_domain_idx ON creditor_inquiries
  ((lower(split_part(btrim(creditor_email), '@', 2))))`,
	}, []string{
		`DROP INDEX IF EXISTS creditor_inquiries_email_domain_idx`,
		`DROP INDEX IF EXISTS creditor_inquiries_email_lower_idx`,
		`DROP INDEX IF EXISTS creditor_inquiries_reference_norm_idx`,
		`DROP INDEX IF EXISTS creditor_inquiries_aktenzeichen_norm_idx`,
	})
}
