package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// finish records the attempt's end: success, lease lost, interrupted by
// shutdown, retry, or failure. It runs on a context that outlives shutdown.
func (p *Pool) finish(ctx context.Context, job *models.Job, status models.Status, err error, interrupted bool) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch {
	case err == nil:
		return string(status) // the processor closed the attempt with the terminal state
	case errors.Is(err, models.ErrLeaseLost):
		p.log.Warn("lease lost; result discarded", "email_id", job.Email.ID, "attempt", job.Attempt)
		msg := "lease lost"
		if ferr := models.FinishAttempt(ctx, p.async, job.Token, models.OutcomeRescued, &msg); ferr != nil {
			p.log.Warn("record attempt failed", "email_id", job.Email.ID, "error", ferr)
		}
		return "lease_lost"
	case interrupted:
		return p.requeue(ctx, job)
	}
	permanent, retryAfter := classify(err)
	if !permanent && job.Email.RetryCount < p.cfg.Retry.MaxRetries {
		return p.retry(ctx, job, err, retryAfter)
	}
	if !permanent {
		err = fmt.Errorf("retries exhausted after %d attempts: %w", job.Email.RetryCount+1, err)
	}
	return p.fail(ctx, job, err)
}

// end moves the job's email to `to` and closes its attempt with outcome, in
// one statement on db, together with any further effects.
func (p *Pool) end(ctx context.Context, db *gorm.DB, job *models.Job, to models.Status, outcome, msg string,
	set map[string]any, effects ...models.Effect) error {
	return models.Change{ID: job.Email.ID, To: to, Token: job.Token, From: models.ActiveStages, Set: set,
		Effects: append(effects, models.AttemptFinished(job.Token, outcome, &msg))}.Apply(ctx, db)
}

// retry schedules the next attempt after the backoff; bookkeeping a crash
// may lose commits asynchronously (the lease then expires and the reaper rescues).
func (p *Pool) retry(ctx context.Context, job *models.Job, cause error, retryAfter time.Duration) string {
	n := job.Email.RetryCount + 1
	at := time.Now().Add(p.cfg.Retry.Delay(n, retryAfter))
	msg := models.ErrorText(cause)
	err := p.end(ctx, p.async, job, models.StatusRetrying, models.OutcomeRetry, msg,
		map[string]any{"retry_count": n, "next_attempt_at": at, "processing_error": msg})
	if err != nil {
		return p.writeFailed(job, "retry", err)
	}
	p.metrics.retries.Inc()
	if err := p.queue.Schedule(ctx, job.Email.ID, at); err != nil {
		p.log.Warn("schedule retry failed; reaper will dispatch when due", "email_id", job.Email.ID, "error", err)
	}
	return models.OutcomeRetry
}

// fail ends the email for good and records its one alert, durably.
func (p *Pool) fail(ctx context.Context, job *models.Job, cause error) string {
	msg := models.ErrorText(cause)
	err := p.end(ctx, p.db, job, models.StatusFailed, models.OutcomeFailed, msg,
		map[string]any{"processing_error": msg, "completed_at": gorm.Expr("now()")}, alert(job.Email, msg))
	if err != nil {
		return p.writeFailed(job, "fail", err)
	}
	return models.OutcomeFailed
}

// requeue puts an attempt cancelled by shutdown back to queued at once, so it
// does not wait for its lease to expire.
func (p *Pool) requeue(ctx context.Context, job *models.Job) string {
	err := p.end(ctx, p.async, job, models.StatusQueued, models.OutcomeInterrupted, "interrupted by shutdown",
		map[string]any{"last_dispatched_at": gorm.Expr("now()")})
	if err != nil {
		return p.writeFailed(job, "requeue", err)
	}
	if err := p.queue.Push(ctx, job.Email.ID); err != nil {
		p.log.Warn("push back failed; reaper will dispatch", "email_id", job.Email.ID, "error", err)
	}
	return models.OutcomeInterrupted
}

// writeFailed logs a final write that did not happen; the lease expires and
// the reaper takes the email over.
func (p *Pool) writeFailed(job *models.Job, what string, err error) string {
	if errors.Is(err, models.ErrLeaseLost) {
		return "lease_lost"
	}
	p.log.Error("final write failed; reaper will rescue", "email_id", job.Email.ID, "write", what, "error", err)
	return "write_failed"
}

// alert records the failure_alert outbox row, once per email, in the
// statement that fails the email.
func alert(e models.IncomingEmail, msg string) models.Effect {
	return models.OutboxRow(models.OutboxFailureAlert, e.ID, alertPayload(e, msg))
}

// enqueueAlert records the failure_alert outbox row in tx, once per email.
func enqueueAlert(ctx context.Context, tx *gorm.DB, e models.IncomingEmail, msg string) error {
	_, err := models.EnqueueOutbox(ctx, tx, models.OutboxFailureAlert, e.ID, alertPayload(e, msg))
	return err
}

func alertPayload(e models.IncomingEmail, msg string) models.FailureAlertPayload {
	return models.FailureAlertPayload{EmailID: e.ID, FromEmail: e.FromEmail, Subject: e.Subject, Error: msg, FailedAt: time.Now().UTC()}
}
