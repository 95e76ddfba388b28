package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// incomingEmailsRawPayload keeps what intake could not use (DESIGN.md §5).
// raw_payload is the raw body of a signed delivery whose content was
// unusable, stored as bytea because that body may hold what text and jsonb
// cannot (invalid UTF-8, \u0000); NULL for every other email. A retry
// decodes it again. intake_warnings lists what tolerant decoding fixed up,
// for every email. Adding a column with a constant default rewrites no
// rows. The payload is compressed like the bodies (202611290009).
func incomingEmailsRawPayload() *gormigrate.Migration {
	return sqlMigration("202612052001_incoming_emails_raw_payload", []string{
		`ALTER TABLE incoming_emails ADD COLUMN raw_payload bytea,
  ADD COLUMN intake_warnings jsonb NOT NULL DEFAULT '[]'`,
		`DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    EXECUTE 'ALTER TABLE incoming_emails ALTER COLUMN raw_payload SET COMPRESSION lz4';
  END IF;
END $$`,
	}, []string{`ALTER TABLE incoming_emails DROP COLUMN raw_payload, DROP COLUMN intake_warnings`})
}
