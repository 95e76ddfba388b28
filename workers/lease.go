package workers

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// claimSQL moves one email queued/received → processing under a fresh lease
// and records the attempt, in one statement. It waits for a row lock rather
// than skipping it: the lock may be intake's received → queued mark, and a
// skipped claim would drop the id until the reaper re-dispatched it. After
// the wait PostgreSQL re-checks the status, so of two claimers one wins.
const claimSQL = `
WITH claimed AS (
  UPDATE incoming_emails SET
    processing_status = 'processing', lease_token = @token, lease_owner = @worker,
    lease_until = now() + make_interval(secs => @lease), started_at = coalesce(started_at, now()),
    attempt = attempt + 1, next_attempt_at = NULL, updated_at = now()
  WHERE id = (SELECT id FROM incoming_emails
              WHERE id = @id AND processing_status IN ('queued', 'received')
              FOR UPDATE)
  RETURNING *
), recorded AS (
  INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
  SELECT id, attempt, @worker, @token, now() FROM claimed
)
SELECT * FROM claimed`

// claim takes a lease on email id; it returns nil when the email is not
// claimable (already taken, finished, or a stale duplicate id from Redis).
// The claim commits asynchronously: if PostgreSQL loses it in a crash the
// email is simply queued again and the reaper re-dispatches it.
func claim(ctx context.Context, db *gorm.DB, id uint64, worker string, lease time.Duration) (*models.Job, error) {
	token := models.NewToken()
	var rows []models.IncomingEmail
	err := db.WithContext(ctx).Raw(claimSQL, map[string]any{
		"id": id, "token": token, "worker": worker, "lease": lease.Seconds(),
	}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim email %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &models.Job{Email: rows[0], Token: token, Attempt: rows[0].Attempt, Worker: worker}, nil
}

// renewLeases extends the leases of the running attempts in one statement
// and returns the tokens that no longer own their email.
func renewLeases(ctx context.Context, db *gorm.DB, tokens []string, lease time.Duration) (lost []string, err error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	var kept []string
	err = db.WithContext(ctx).Raw(`
UPDATE incoming_emails SET lease_until = now() + make_interval(secs => ?)
WHERE lease_token IN ? AND processing_status IN ?
RETURNING lease_token`, lease.Seconds(), tokens, models.ActiveStages).Scan(&kept).Error
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	held := make(map[string]bool, len(kept))
	for _, t := range kept {
		held[t] = true
	}
	for _, t := range tokens {
		if !held[t] {
			lost = append(lost, t)
		}
	}
	return lost, nil
}
