package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// emailAttemptStages adds the stages an attempt reached, with their times
// ([{"stage": …, "at": …}]), written with the attempt's end: the quick
// path (services/pipeline) records its fast stages there instead of one
// write each, and the job detail's timeline shows them. Nullable, no
// default: adding it rewrites nothing.
func emailAttemptStages() *gormigrate.Migration {
	return sqlMigration("202612054101_email_attempt_stages",
		[]string{`ALTER TABLE email_attempts ADD COLUMN stages jsonb`},
		[]string{`ALTER TABLE email_attempts DROP COLUMN stages`})
}
