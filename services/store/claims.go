package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// claimSQL moves emails claimable → processing, each under its own fresh
// lease, and records the attempts, in one statement. It waits for row locks
// rather than skipping them: a lock may be intake's received → queued mark,
// and a skipped claim would drop the id until the reaper re-dispatched it.
// After the wait PostgreSQL re-checks the status, so of two claimers one
// wins. Rows are locked through lockedByID (by key, in id order) and the
// status is checked on the row as locked.
var claimSQL = `
WITH v AS (
  SELECT * FROM unnest(?::bigint[], ?::text[]) AS v(id, token)
), locked AS (SELECT * FROM ? l
), claimed AS (
  UPDATE incoming_emails e SET
    processing_status = ?, lease_token = v.token, lease_owner = ?,
    lease_until = now() + make_interval(secs => ?), started_at = coalesce(e.started_at, now()),
    attempt = e.attempt + 1, next_attempt_at = NULL, updated_at = now()
  FROM locked JOIN v ON v.id = locked.id
  WHERE e.id = locked.id AND locked.processing_status IN ` + claimableStates + `
  RETURNING e.*
), recorded AS (
  INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
  SELECT id, attempt, ?, lease_token, now() FROM claimed
)
SELECT * FROM claimed`

// Claim takes a fresh lease for worker on each email of ids that is
// claimable, records the attempts, and returns the jobs, in one statement.
// An id that is not claimable (taken, finished, a stale duplicate from
// Redis) gets no job; an id given twice is claimed once. The claim commits
// asynchronously: if PostgreSQL loses it in a crash, the email is simply
// queued again and the reaper re-dispatches it.
func (s *Store) Claim(ctx context.Context, ids []uint64, worker string, lease time.Duration) ([]*models.Job, error) {
	distinct := make([]uint64, 0, len(ids))
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(distinct, id) {
			distinct, tokens = append(distinct, id), append(tokens, models.NewToken())
		}
	}
	var rows []models.IncomingEmail
	err := s.async.WithContext(ctx).Raw(claimSQL, array(distinct), array(tokens), lockedByID(distinct),
		string(models.StatusProcessing), worker,
		lease.Seconds(), worker).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim emails: %w", err)
	}
	jobs := make([]*models.Job, len(rows))
	for i, e := range rows {
		jobs[i] = &models.Job{Email: e, Token: *e.LeaseToken, Attempt: e.Attempt, Worker: worker}
	}
	return jobs, nil
}

// renewSQL extends the leases of running attempts, locking the rows in id
// order like the batched claims and stage moves.
var renewSQL = `
UPDATE incoming_emails SET lease_until = now() + make_interval(secs => ?)
WHERE id IN (SELECT id FROM incoming_emails WHERE lease_token IN ? AND processing_status IN ` + leasedStates + `
             ORDER BY id FOR UPDATE)
RETURNING lease_token`

// RenewLeases extends the leases of the running attempts with tokens in one
// statement and returns the tokens that no longer own their email.
//
// An attempt whose own final write has committed is not lost, although its
// email is no longer leased: the commit can reach the renewal before the
// worker reads its answer, and cancelling the worker then would report a
// stored result as discarded. Such an attempt's row is finished with an
// outcome other than rescued. That is checked, for the few tokens not
// renewed, by a second statement: its snapshot includes every commit the
// renewal waited for or saw, which the renewal's own snapshot may not.
func (s *Store) RenewLeases(ctx context.Context, tokens []string, lease time.Duration) (lost []string, err error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	var renewed []string
	if err := s.async.WithContext(ctx).Raw(renewSQL, lease.Seconds(), tokens).Find(&renewed).Error; err != nil {
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
	err = s.async.WithContext(ctx).Raw(`SELECT lease_token FROM email_attempts
WHERE lease_token IN ? AND finished_at IS NOT NULL AND outcome <> ?`, gone, models.OutcomeRescued).Find(&finished).Error
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
