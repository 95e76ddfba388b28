package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// incomingEmailsToastTarget keeps an email's bodies out of its row. An email
// row is rewritten for every status it passes (eight versions on the way to
// completed, none HOT because the status is indexed). PostgreSQL toasts a
// row over 2 KB only until it fits under the target, by default the same
// 2 KB, so a typical body was compressed and kept inline: each version
// copied about 1.5 KB into the heap and the WAL. With a 256-byte target the
// toaster moves the bodies to the TOAST table once, at the insert, and later
// versions copy an 18-byte pointer (rows of about 360 bytes in the e2e
// bench instead of 1.5 KB).
func incomingEmailsToastTarget() *gormigrate.Migration {
	return sqlMigration("202611290010_incoming_emails_toast_target",
		[]string{`ALTER TABLE incoming_emails SET (toast_tuple_target = 256)`},
		[]string{`ALTER TABLE incoming_emails RESET (toast_tuple_target)`})
}
