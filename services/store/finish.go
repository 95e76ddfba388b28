package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Final is how an attempt ends: the state its email moves to, what that
// state records, the attempt's outcome, and the writes that happen with it
// or not at all. Make one with Completed, NotCreditorReply, Failed,
// Retrying, RateLimited or Interrupted; Finish writes it.
type Final struct {
	to      models.Status
	from    []models.Status // nil: the table's; else narrowed
	outcome string          // email_attempts.outcome
	errText *string         // email_attempts.error
	set     []assign
	record  *models.DebtRecord
	alert   *models.FailureAlertPayload
	notice  *models.ReviewNeededPayload // review_needed row (AwaitingReview)
	durable bool                        // a crash must not lose it (DESIGN.md, Durability)
}

// Match is the matcher's decision as the email records it.
type Match struct {
	Status     string // models.MatchAuto, MatchNeedsReview or MatchNone
	InquiryID  *uint64
	Confidence float64     // 0–1
	Details    models.JSON // the explanation (match_details)
}

// Completed ends a matched reply: completed with the match and the email's
// sync status, and with record (the debt update and its outbox rows), if
// the reply stated an amount. Durable.
func Completed(m Match, syncStatus string, record *models.DebtRecord) Final {
	return Final{to: models.StatusCompleted, outcome: models.OutcomeCompleted, durable: true, record: record,
		set: terminal(
			assign{"matched_inquiry_id", m.InquiryID}, assign{"match_status", m.Status},
			assign{"match_confidence", m.Confidence}, assign{"match_details", m.Details},
			assign{"sync_status", syncStatus})}
}

// NotCreditorReply ends a reply that is no creditor's answer (an
// auto-reply, spam). Durable.
func NotCreditorReply() Final {
	return Final{to: models.StatusNotCreditorReply, outcome: models.OutcomeNotCreditorReply, durable: true,
		set: terminal(assign{"match_status", models.MatchNone}, assign{"sync_status", models.SyncNotApplicable})}
}

// terminal adds the columns every successful end sets.
func terminal(set ...assign) []assign {
	return append(set, assign{"completed_at", now}, assign{"processed_at", now},
		assign{"processing_error", nil}, assign{"next_attempt_at", nil})
}

// Failed ends the email for good with msg and its one failure alert.
// Durable.
func Failed(msg string, alert models.FailureAlertPayload) Final {
	return Final{to: models.StatusFailed, from: models.ActiveStages, outcome: models.OutcomeFailed, errText: &msg,
		durable: true, alert: &alert, set: []assign{{"processing_error", msg}, {"completed_at", now}}}
}

// Retrying schedules retry number n at at after the transient error msg.
// Asynchronous: if a crash loses it, the lease expires and the reaper
// rescues the email.
func Retrying(n int, at time.Time, msg string) Final {
	return Final{to: models.StatusRetrying, from: models.ActiveStages, outcome: models.OutcomeRetry, errText: &msg,
		set: []assign{{"retry_count", n}, {"next_attempt_at", at}, {"processing_error", msg}}}
}

// RateLimited puts an attempt that could not call the model in time (the
// provider's rate limit, an overload, the daily token budget) back to
// retrying at at without counting a retry: waiting is not the email's
// failure, so it neither uses up the retry budget nor alerts. Asynchronous,
// like Retrying.
func RateLimited(at time.Time, msg string) Final {
	return Final{to: models.StatusRetrying, from: models.ActiveStages, outcome: models.OutcomeRateLimited, errText: &msg,
		set: []assign{{"next_attempt_at", at}, {"processing_error", msg}}}
}

// Interrupted puts an attempt that shutdown cancelled back to queued, so
// it does not wait for its lease to expire. Asynchronous, like Retrying.
func Interrupted() Final {
	msg := "interrupted by shutdown"
	return Final{to: models.StatusQueued, from: models.ActiveStages, outcome: models.OutcomeInterrupted, errText: &msg,
		set: []assign{{"last_dispatched_at", now}}}
}

// WithStages records the stages of move, which were never written on their
// own, with f: f's statement also saves what they computed and moves the
// email from the state it is in now (processing, for the quick path)
// straight to f's state, which the table must allow (DESIGN.md §4: a fast
// stage may be recorded with the next write). The lease token guards it as
// it guards every final write. The attempt's end records the stages' times
// (models.Job.Stages).
func (f Final) WithStages(move StageMove) Final {
	f.from = []models.Status{move.Job.Email.ProcessingStatus}
	f.set = append(move.columns(), f.set...)
	return f
}

// Finish writes f for job in one statement guarded by the job's lease
// token: the email's move, the attempt's end, and f's debt record or alert
// — all of it once, or none of it (models.ErrLeaseLost when another attempt
// owns the email now, or its state does not allow the move).
func (s *Store) Finish(ctx context.Context, job *models.Job, f Final) error {
	if err := f.change(job).apply(ctx, s.pool(f.durable), job.Email.ID, f.effects(job)...); err != nil {
		return err
	}
	job.Email.ProcessingStatus = f.to
	return nil
}

// change is f's guarded move of job's email.
func (f Final) change(job *models.Job) change {
	return change{To: f.to, From: f.from, Token: job.Token, Set: f.set}
}

// effects are the writes that go with f's move: its debt record or alert,
// and the attempt's end.
func (f Final) effects(job *models.Job) []effect {
	effects := recordEffects(job.Email.ID, f.record)
	if f.alert != nil {
		effects = append(effects, outboxRow(models.OutboxFailureAlert, job.Email.ID, *f.alert))
	}
	if f.notice != nil {
		effects = append(effects, outboxRow(models.OutboxReviewNeeded, job.Email.ID, *f.notice))
	}
	return append(effects, attemptEnd(job, f.outcome, f.errText))
}

// LeaseLost closes the attempt of job, whose email another attempt or the
// reaper owns now (outcome rescued), unless something closed it already.
// Asynchronous: the reaper's rescue closes it too.
func (s *Store) LeaseLost(ctx context.Context, job *models.Job) error {
	msg := "lease lost"
	err := s.async.WithContext(ctx).Exec(finishAttemptSQL, finishAttemptArgs(job, models.OutcomeRescued, &msg)...).Error
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return nil
}

// pool returns the pool for a write: durable, or asynchronous for one a
// crash may lose harmlessly.
func (s *Store) pool(durable bool) *gorm.DB {
	if durable {
		return s.db
	}
	return s.async
}
