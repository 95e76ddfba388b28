package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// incomingEmailsLZ4 compresses the email bodies with lz4 instead of pglz.
// Every webhook stores 3–9 KB of body text and pglz was about a tenth of
// PostgreSQL's CPU per insert; lz4 costs a fraction of that for a slightly
// larger TOAST table. Only new values use it: old rows stay pglz and read
// the same. A server built without lz4 does not list it among the values of
// default_toast_compression; there the bodies stay pglz and the migration
// still succeeds. EXECUTE keeps a server too old to know SET COMPRESSION
// from failing on the statement's syntax.
func incomingEmailsLZ4() *gormigrate.Migration {
	return sqlMigration("202611290009_incoming_emails_lz4", []string{`
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
    EXECUTE 'ALTER TABLE incoming_emails ALTER COLUMN raw_body_html SET COMPRESSION lz4, '
      'ALTER COLUMN raw_body_text SET COMPRESSION lz4';
  END IF;
END $$`,
	}, []string{`
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression') THEN
    EXECUTE 'ALTER TABLE incoming_emails ALTER COLUMN raw_body_html SET COMPRESSION pglz, '
      'ALTER COLUMN raw_body_text SET COMPRESSION pglz';
  END IF;
END $$`,
	})
}
