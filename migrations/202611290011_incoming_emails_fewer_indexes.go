package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// incomingEmailsFewerIndexes drops the two partial indexes of 202611290001.
// Every status change rewrites the email row into each of its indexes (the
// status is indexed, so updates are never HOT), and the reaper's and
// scheduler's sweeps all filter by status first and use
// (processing_status, received_at).
func incomingEmailsFewerIndexes() *gormigrate.Migration {
	return sqlMigration("202611290011_incoming_emails_fewer_indexes", []string{
		`DROP INDEX IF EXISTS incoming_emails_lease_idx`,
		`DROP INDEX IF EXISTS incoming_emails_waiting_idx`,
	}, []string{
		`CREATE INDEX IF NOT EXISTS incoming_emails_lease_idx ON incoming_emails (lease_until)
  WHERE processing_status IN ('processing','parsed','extracting','extracted','matching')`,
		`CREATE INDEX IF NOT EXISTS incoming_emails_waiting_idx ON incoming_emails (next_attempt_at)
  WHERE processing_status IN ('received','queued','retrying')`,
	})
}
