package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
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
		if ferr := p.store.LeaseLost(ctx, job); ferr != nil {
			p.log.Warn("record attempt failed", "email_id", job.Email.ID, "error", ferr)
		}
		return "lease_lost"
	case interrupted:
		return p.requeue(ctx, job)
	}
	permanent, retryAfter := classify(err)
	if rl := (*models.RateLimitedError)(nil); errors.As(err, &rl) {
		return p.rateLimited(ctx, job, err, retryAfter)
	}
	if !permanent && job.Email.RetryCount < p.cfg.Retry.MaxRetries {
		return p.retry(ctx, job, err, retryAfter)
	}
	if !permanent {
		err = fmt.Errorf("retries exhausted after %d attempts: %w", job.Email.RetryCount+1, err)
	}
	return p.fail(ctx, job, err)
}

// retry schedules the next attempt after the backoff (store.Retrying: if a
// crash loses it, the lease expires and the reaper rescues the email).
func (p *Pool) retry(ctx context.Context, job *models.Job, cause error, retryAfter time.Duration) string {
	n := job.Email.RetryCount + 1
	at := time.Now().Add(p.cfg.Retry.Delay(n, retryAfter))
	if err := p.store.Finish(ctx, job, store.Retrying(n, at, models.ErrorText(cause))); err != nil {
		return p.writeFailed(job, "retry", err)
	}
	p.metrics.retries.Inc()
	if err := p.queue.Schedule(ctx, job.Email.ID, at); err != nil {
		p.log.Warn("schedule retry failed; reaper will dispatch when due", "email_id", job.Email.ID, "error", err)
	}
	return models.OutcomeRetry
}

// rateLimited puts back an attempt that waited on the model (its rate
// limit, an overload, the daily budget) until its deadline: not a failure,
// so the retry count stays and no alert goes out.
func (p *Pool) rateLimited(ctx context.Context, job *models.Job, cause error, retryAfter time.Duration) string {
	at := time.Now().Add(max(retryAfter, time.Second))
	if err := p.store.Finish(ctx, job, store.RateLimited(at, models.ErrorText(cause))); err != nil {
		return p.writeFailed(job, "rate_limited", err)
	}
	if err := p.queue.Schedule(ctx, job.Email.ID, at); err != nil {
		p.log.Warn("schedule after rate limit failed; reaper will dispatch when due", "email_id", job.Email.ID, "error", err)
	}
	return models.OutcomeRateLimited
}

// fail ends the email for good and records its one alert, durably.
func (p *Pool) fail(ctx context.Context, job *models.Job, cause error) string {
	msg := models.ErrorText(cause)
	if err := p.store.Finish(ctx, job, store.Failed(msg, models.FailureAlert(job.Email, msg))); err != nil {
		return p.writeFailed(job, "fail", err)
	}
	return models.OutcomeFailed
}

// requeue puts an attempt cancelled by shutdown back to queued at once, so it
// does not wait for its lease to expire.
func (p *Pool) requeue(ctx context.Context, job *models.Job) string {
	if err := p.store.Finish(ctx, job, store.Interrupted()); err != nil {
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
