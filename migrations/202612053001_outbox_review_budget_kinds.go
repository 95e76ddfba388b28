package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// outboxReviewBudgetKinds lets outbox_messages carry the two kinds the
// review queue and the daily token budget add: review_needed (staff are told
// an email waits for a decision) and budget_alert (the day's model tokens
// are spent; one row per day). Added NOT VALID and validated separately, so
// checking the existing rows blocks no writer.
func outboxReviewBudgetKinds() *gormigrate.Migration {
	constraint := func(kinds string) []string {
		return []string{
			`ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_aggregate_type_check`,
			`ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_aggregate_type_check
  CHECK (aggregate_type IN (` + kinds + `)) NOT VALID`,
			`ALTER TABLE outbox_messages VALIDATE CONSTRAINT outbox_messages_aggregate_type_check`,
		}
	}
	const before = `'creditor_debt_update','failure_alert','debt_notification'`
	return sqlMigration("202612053001_outbox_review_budget_kinds",
		constraint(before+`,'review_needed','budget_alert'`), constraint(before))
}
