package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// reviewQueue adds what the review queue needs (DESIGN.md §5): the
// guard's verdict on an email that waits for a person (incoming_emails.
// review: reasons, the proposed inquiry, the amount and the previous one),
// match_status reviewed for an email a person decided, the partial index
// the queue reads oldest first, and review_decisions, one final row per
// decided email. The CHECK is replaced NOT VALID and validated separately,
// so checking the existing rows blocks no writer.
func reviewQueue() *gormigrate.Migration {
	matchCheck := func(values string) []string {
		return []string{
			`ALTER TABLE incoming_emails DROP CONSTRAINT incoming_emails_match_status_check`,
			`ALTER TABLE incoming_emails ADD CONSTRAINT incoming_emails_match_status_check
  CHECK (match_status IN (` + values + `)) NOT VALID`,
			`ALTER TABLE incoming_emails VALIDATE CONSTRAINT incoming_emails_match_status_check`,
		}
	}
	const before = `'auto_matched','needs_review','no_match'`
	up := append([]string{`ALTER TABLE incoming_emails ADD COLUMN review jsonb`},
		matchCheck(before+`,'reviewed'`)...)
	up = append(up,
		`CREATE INDEX incoming_emails_review_open_idx ON incoming_emails (received_at, id)
  WHERE match_status = 'needs_review'`,
		`CREATE TABLE review_decisions (
  id                 bigserial PRIMARY KEY,
  incoming_email_id  bigint NOT NULL UNIQUE REFERENCES incoming_emails (id) ON DELETE CASCADE,
  action             text NOT NULL CHECK (action IN ('approve','reassign','correct','reject')),
  inquiry_id         bigint,
  amount             numeric(12,2) CHECK (amount > 0),
  note               text NOT NULL DEFAULT '',
  session_id         text NOT NULL,
  decided_at         timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX review_decisions_decided_idx ON review_decisions (decided_at)`,
	)
	down := append([]string{`DROP TABLE review_decisions`, `DROP INDEX incoming_emails_review_open_idx`,
		`UPDATE incoming_emails SET match_status = 'needs_review' WHERE match_status = 'reviewed'`},
		matchCheck(before)...)
	down = append(down, `ALTER TABLE incoming_emails DROP COLUMN review`)
	return sqlMigration("202612055001_review_queue", up, down)
}
