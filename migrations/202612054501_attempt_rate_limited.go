package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// attemptRateLimited lets email_attempts record the outcome rate_limited: an
// attempt that waited on the model's rate limit (or an overload, or the
// daily token budget) past its deadline and went back to retrying without
// counting a retry. Added NOT VALID and validated separately, so checking
// the existing rows blocks no writer.
func attemptRateLimited() *gormigrate.Migration {
	constraint := func(outcomes string) []string {
		return []string{
			`ALTER TABLE email_attempts DROP CONSTRAINT email_attempts_outcome_check`,
			`ALTER TABLE email_attempts ADD CONSTRAINT email_attempts_outcome_check
  CHECK (outcome IN (` + outcomes + `)) NOT VALID`,
			`ALTER TABLE email_attempts VALIDATE CONSTRAINT email_attempts_outcome_check`,
		}
	}
	const before = `'completed','not_creditor_reply','retry','failed','rescued','interrupted'`
	return sqlMigration("202612054501_attempt_rate_limited",
		constraint(before+`,'rate_limited'`), constraint(before))
}
