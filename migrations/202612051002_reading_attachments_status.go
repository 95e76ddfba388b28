package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// readingAttachmentsStatus lets processing_status hold reading_attachments,
// the stage between parsed and extracting of an email with attachments.
// The new constraint is added NOT VALID and validated separately, so the
// check of the existing rows takes no lock that blocks writers.
func readingAttachmentsStatus() *gormigrate.Migration {
	constraint := func(states string) []string {
		return []string{
			`ALTER TABLE incoming_emails DROP CONSTRAINT incoming_emails_processing_status_check`,
			`ALTER TABLE incoming_emails ADD CONSTRAINT incoming_emails_processing_status_check
  CHECK (processing_status IN (` + states + `)) NOT VALID`,
			`ALTER TABLE incoming_emails VALIDATE CONSTRAINT incoming_emails_processing_status_check`,
		}
	}
	const before = `'received','queued','processing','parsed','extracting','extracted','matching',
  'retrying','completed','not_creditor_reply','failed'`
	return sqlMigration("202612051002_reading_attachments_status",
		constraint(before+`,'reading_attachments'`), constraint(before))
}
