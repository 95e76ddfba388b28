package workers

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// claimSQL moves emails queued/received → processing, each under its own
// fresh lease, and records the attempts, in one statement. It waits for row
// locks rather than skipping them: a lock may be intake's received → queued
// mark, and a skipped claim would drop the id until the reaper re-dispatched
// it. After the wait PostgreSQL re-checks the status, so of two claimers one
// wins. Rows are locked through models.LockedByID (by key, in id order) and
// the status is checked on the row as locked.
const claimSQL = `
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::text[]) AS v(id, token)
), locked AS (SELECT * FROM ` + models.LockedByID + ` l
), claimed AS (
  UPDATE incoming_emails e SET
    processing_status = 'processing', lease_token = v.token, lease_owner = $3,
    lease_until = now() + make_interval(secs => $4), started_at = coalesce(e.started_at, now()),
    attempt = e.attempt + 1, next_attempt_at = NULL, updated_at = now()
  FROM locked JOIN v ON v.id = locked.id
  WHERE e.id = locked.id AND locked.processing_status IN ('queued', 'received')
  RETURNING e.*
), recorded AS (
  INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
  SELECT id, attempt, $3, lease_token, now() FROM claimed
)
SELECT * FROM claimed`

// claimRequest asks for a lease on one email id; job is set when the claim
// succeeded and stays nil when the email is not claimable (already taken,
// finished, or a stale duplicate id from Redis).
type claimRequest struct {
	id  uint64
	job *models.Job
	err error
}

// claim takes leases on the requested emails in one statement, and records
// the outcome in each request. The claim commits asynchronously: if
// PostgreSQL loses it in a crash the email is simply queued again and the
// reaper re-dispatches it.
func claim(ctx context.Context, db *gorm.DB, reqs []*claimRequest, worker string, lease time.Duration) {
	ids, tokens := make([]int64, 0, len(reqs)), make([]string, 0, len(reqs))
	byID := make(map[uint64]*claimRequest, len(reqs))
	for _, r := range reqs {
		if byID[r.id] != nil {
			continue // the same id fetched twice: one claim is enough, the other gets nothing
		}
		byID[r.id] = r
		ids, tokens = append(ids, int64(r.id)), append(tokens, models.NewToken())
	}
	var rows []models.IncomingEmail
	err := db.WithContext(ctx).Raw(claimSQL, ids, tokens, worker, lease.Seconds()).Scan(&rows).Error
	if err != nil {
		for _, r := range reqs {
			r.err = fmt.Errorf("claim email %d: %w", r.id, err)
		}
		return
	}
	for _, e := range rows {
		byID[e.ID].job = &models.Job{Email: e, Token: *e.LeaseToken, Attempt: e.Attempt, Worker: worker}
	}
}

// renewLeases extends the leases of the running attempts in one statement
// and returns the tokens that no longer own their email. It locks the rows
// in id order, like the batched claims and stage moves.
//
// An attempt whose own final write has committed is not lost, although its
// email is no longer leased: the commit can reach the renewal before the
// worker reads its answer, and cancelling the worker then would report a
// stored result as discarded. Such an attempt's row is finished with an
// outcome other than rescued. That is checked, for the few tokens not
// renewed, by a second statement: its snapshot includes every commit the
// renewal waited for or saw, which the renewal's own snapshot may not.
func renewLeases(ctx context.Context, db *gorm.DB, tokens []string, lease time.Duration) (lost []string, err error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	var renewed []string
	err = db.WithContext(ctx).Raw(`
UPDATE incoming_emails SET lease_until = now() + make_interval(secs => ?)
WHERE id IN (SELECT id FROM incoming_emails WHERE lease_token IN ? AND processing_status IN ?
             ORDER BY id FOR UPDATE)
RETURNING lease_token`, lease.Seconds(), tokens, models.ActiveStages).Scan(&renewed).Error
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	var gone []string
	for _, t := range tokens {
		if !slices.Contains(renewed, t) {
			gone = append(gone, t)
		}
	}
	if len(gone) == 0 {
		return nil, nil
	}
	var finished []string
	err = db.WithContext(ctx).Raw(`SELECT lease_token FROM email_attempts
WHERE lease_token IN ? AND finished_at IS NOT NULL AND outcome <> ?`, gone, models.OutcomeRescued).Scan(&finished).Error
	if err != nil {
		return nil, fmt.Errorf("renew leases: %w", err)
	}
	for _, t := range gone {
		if !slices.Contains(finished, t) {
			lost = append(lost, t)
		}
	}
	return lost, nil
}
