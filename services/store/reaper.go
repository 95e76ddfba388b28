package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// rescueSQL takes back expired leases in one statement: queued again, or
// failed once an email has been rescued @max times (a crash loop). Each
// rescued attempt is closed as rescued.
var rescueSQL = `
WITH expired AS (
  SELECT id, lease_token FROM incoming_emails
  WHERE processing_status IN ` + leasedStates + ` AND lease_until < now()
  ORDER BY lease_until LIMIT @batch FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE incoming_emails e SET
    processing_status = CASE WHEN e.rescue_count + 1 >= @max THEN @failed ELSE @queued END,
    processing_error = CASE WHEN e.rescue_count + 1 >= @max
      THEN 'crash loop: the worker died or stalled during ' || (e.rescue_count + 1) || ' attempts'
      ELSE e.processing_error END,
    completed_at = CASE WHEN e.rescue_count + 1 >= @max THEN now() ELSE e.completed_at END,
    rescue_count = e.rescue_count + 1, last_dispatched_at = now(), updated_at = now(),
    lease_token = NULL, lease_until = NULL, lease_owner = NULL
  FROM expired WHERE e.id = expired.id
  RETURNING e.id, e.processing_status, e.processing_error, e.from_email, e.subject, expired.lease_token
), attempts AS (
  UPDATE email_attempts a SET finished_at = now(), outcome = @rescued, error = 'lease expired'
  FROM moved WHERE a.lease_token = moved.lease_token AND a.finished_at IS NULL
)
SELECT id, processing_status, processing_error, from_email, subject FROM moved`

// RescueExpired takes back up to batch expired leases, oldest first, and
// returns the ids it queued again and those it failed: an email rescued
// maxRescues times crash-loops, and fails with its one failure alert, in
// the same transaction. Rows another reaper holds are skipped.
func (s *Store) RescueExpired(ctx context.Context, batch, maxRescues int) (queued, failed []uint64, err error) {
	// Both moves leave the leased stages as the table allows.
	for _, to := range []models.Status{models.StatusQueued, models.StatusFailed} {
		for _, from := range models.ActiveStages {
			if !models.CanTransition(from, to) {
				return nil, nil, fmt.Errorf("rescue: %s → %s is not in the state machine", from, to)
			}
		}
	}
	var rows []models.IncomingEmail
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Raw(rescueSQL, map[string]any{"batch": batch, "max": maxRescues, "failed": models.StatusFailed,
			"queued": models.StatusQueued, "rescued": models.OutcomeRescued}).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("rescue expired leases: %w", err)
		}
		for _, e := range rows {
			if e.ProcessingStatus == models.StatusFailed {
				if _, err := enqueueOutbox(ctx, tx, models.OutboxFailureAlert, e.ID, models.FailureAlert(e, *e.ProcessingError)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, e := range rows {
		if e.ProcessingStatus == models.StatusFailed {
			failed = append(failed, e.ID)
		} else {
			queued = append(queued, e.ID)
		}
	}
	return queued, failed, nil
}

// redispatch marks waiting emails queued (re-stamping the dispatch time of
// ones already queued) and returns their ids, for the caller to push. cond
// narrows the rows further: a condition over incoming_emails with ?
// placeholders. Only waiting rows are ever touched, and the row lock with
// SKIP LOCKED means that of several schedulers or reapers sweeping at once,
// each row is moved by one.
func (s *Store) redispatch(ctx context.Context, limit int, cond string, args ...any) ([]uint64, error) {
	sql := `
UPDATE incoming_emails SET processing_status = ?, last_dispatched_at = now(), updated_at = now()
WHERE id IN (
  SELECT id FROM incoming_emails
  WHERE processing_status IN ` + waitingStates + ` AND (` + cond + `)
  ORDER BY received_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING id`
	vars := append([]any{models.StatusQueued}, args...)
	var ids []uint64
	if err := s.db.WithContext(ctx).Raw(sql, append(vars, limit)...).Find(&ids).Error; err != nil {
		return nil, fmt.Errorf("redispatch: %w", err)
	}
	return ids, nil
}

// QueueDueRetries marks the emails of ids that are retrying and due (within
// a second: the delayed set's clock is the caller's) queued, and returns
// those it moved.
func (s *Store) QueueDueRetries(ctx context.Context, ids []uint64) ([]uint64, error) {
	return s.redispatch(ctx, len(ids),
		"id IN ? AND processing_status = ? AND next_attempt_at <= now() + interval '1 second'", ids, models.StatusRetrying)
}

// QueueOverdueRetries marks up to limit retrying emails whose retry is due
// by more than grace queued (the scheduler missed them), oldest first.
func (s *Store) QueueOverdueRetries(ctx context.Context, grace time.Duration, limit int) ([]uint64, error) {
	return s.redispatch(ctx, limit,
		"processing_status = ? AND next_attempt_at < now() - make_interval(secs => ?)", models.StatusRetrying, grace.Seconds())
}

// RequeueUndispatched marks up to limit claimable emails queued, oldest
// first, whose last dispatch (or arrival) is older than grace: their id
// may have been lost with Redis.
func (s *Store) RequeueUndispatched(ctx context.Context, grace time.Duration, limit int) ([]uint64, error) {
	return s.redispatch(ctx, limit, "processing_status IN "+claimableStates+
		" AND coalesce(last_dispatched_at, created_at) < now() - make_interval(secs => ?)", grace.Seconds())
}

// CountClaimable counts the emails waiting for a worker to claim them.
func (s *Store) CountClaimable(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).
		Where("processing_status IN " + claimableStates).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count claimable emails: %w", err)
	}
	return n, nil
}
