package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
)

// ReaperConfig tunes the reaper.
type ReaperConfig struct {
	Interval   time.Duration
	MaxRescues int           // a crash-looping email fails on this many rescues
	Grace      time.Duration // how long a dispatch may take before it counts as lost
	Batch      int
}

// Reaper rebuilds from PostgreSQL whatever Redis or a dead worker lost:
// (a) expired leases go back to queued (or fail when they crash-loop),
// (b) waiting emails missing from Redis are pushed again, and
// (c) processing lists of instances whose heartbeat expired are pushed back.
// Every step is safe with several reapers running at once.
type Reaper struct {
	cfg     ReaperConfig
	db      *gorm.DB
	queue   *Queue
	metrics *Metrics
	log     *slog.Logger
	*background.Loop
}

// NewReaper returns a reaper.
func NewReaper(cfg ReaperConfig, db *gorm.DB, q *Queue, m *Metrics, log *slog.Logger) *Reaper {
	if cfg.Batch == 0 {
		cfg.Batch = 500
	}
	if cfg.Grace == 0 {
		cfg.Grace = 5 * time.Second
	}
	r := &Reaper{cfg: cfg, db: db, queue: q, metrics: m, log: log}
	// The loop runs once at Start, so a starting worker does not leave a
	// backlog waiting for the first tick.
	r.Loop = background.NewLoop("reaper", cfg.Interval, r.runOnce, log)
	return r
}

// runOnce performs one sweep; each step has its own timeout and a failing
// step does not stop the others.
func (r *Reaper) runOnce(ctx context.Context) error {
	var errs []error
	for _, step := range []func(context.Context) error{r.requeueDeadInstances, r.rescueExpired, r.redispatchLost} {
		sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		errs = append(errs, step(sctx))
		cancel()
	}
	return errors.Join(errs...)
}

func (r *Reaper) requeueDeadInstances(ctx context.Context) error {
	n, err := r.queue.RequeueDeadInstances(ctx)
	if n > 0 {
		r.log.Info("requeued ids of dead instances", "count", n)
	}
	return err
}

// rescueSQL takes back expired leases in one statement: queued again, or
// failed once an email has been rescued MaxRescues times (a crash loop).
const rescueSQL = `
WITH expired AS (
  SELECT id, lease_token FROM incoming_emails
  WHERE processing_status IN ('processing','parsed','extracting','extracted','matching')
    AND lease_until < now()
  ORDER BY lease_until LIMIT @batch FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE incoming_emails e SET
    processing_status = CASE WHEN e.rescue_count + 1 >= @max THEN 'failed' ELSE 'queued' END,
    processing_error = CASE WHEN e.rescue_count + 1 >= @max
      THEN 'crash loop: the worker died or stalled during ' || (e.rescue_count + 1) || ' attempts'
      ELSE e.processing_error END,
    completed_at = CASE WHEN e.rescue_count + 1 >= @max THEN now() ELSE e.completed_at END,
    rescue_count = e.rescue_count + 1, last_dispatched_at = now(), updated_at = now(),
    lease_token = NULL, lease_until = NULL, lease_owner = NULL
  FROM expired WHERE e.id = expired.id
  RETURNING e.id, e.processing_status, e.processing_error, e.from_email, e.subject, expired.lease_token
), attempts AS (
  UPDATE email_attempts a SET finished_at = now(), outcome = 'rescued', error = 'lease expired'
  FROM moved WHERE a.lease_token = moved.lease_token AND a.finished_at IS NULL
)
SELECT id, processing_status, processing_error, from_email, subject FROM moved`

func (r *Reaper) rescueExpired(ctx context.Context) error {
	var rows []models.IncomingEmail
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Raw(rescueSQL, map[string]any{"batch": r.cfg.Batch, "max": r.cfg.MaxRescues}).Scan(&rows).Error; err != nil {
			return fmt.Errorf("rescue expired leases: %w", err)
		}
		for _, e := range rows {
			if e.ProcessingStatus == models.StatusFailed {
				if err := enqueueAlert(ctx, tx, e, *e.ProcessingError); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var queued []uint64
	for _, e := range rows {
		r.metrics.rescues.Inc()
		if e.ProcessingStatus == models.StatusQueued {
			queued = append(queued, e.ID)
		}
	}
	if len(rows) > 0 {
		r.log.Info("rescued expired leases", "count", len(rows), "requeued", len(queued))
	}
	return r.queue.Push(ctx, queued...)
}

// redispatchLost pushes waiting emails that Redis no longer holds: retries
// past due that the scheduler missed, and received/queued rows beyond what
// the ready list holds. Comparing counts keeps a long, healthy backlog from
// being pushed again on every sweep, while a Redis that came back empty is
// refilled on the next sweep.
func (r *Reaper) redispatchLost(ctx context.Context) error {
	grace := r.cfg.Grace.Seconds()
	due, err := redispatch(ctx, r.db, r.queue, r.cfg.Batch,
		"processing_status = 'retrying' AND next_attempt_at < now() - make_interval(secs => ?)", grace)
	if err != nil {
		return err
	}
	var waiting int64
	err = r.db.WithContext(ctx).Model(&models.IncomingEmail{}).
		Where("processing_status IN ?", []models.Status{models.StatusReceived, models.StatusQueued}).
		Count(&waiting).Error
	if err != nil {
		return fmt.Errorf("count waiting: %w", err)
	}
	ready, err := r.queue.ReadyLen(ctx)
	if err != nil {
		return err
	}
	missing := int(min(waiting-ready, int64(r.cfg.Batch)))
	var lost []uint64
	if missing > 0 {
		lost, err = redispatch(ctx, r.db, r.queue, missing,
			"processing_status IN ('received','queued') AND coalesce(last_dispatched_at, created_at) < now() - make_interval(secs => ?)", grace)
		if err != nil {
			return err
		}
	}
	if n := len(due) + len(lost); n > 0 {
		r.metrics.redispatch.Add(float64(n))
		r.log.Info("re-dispatched waiting emails", "due_retries", len(due), "lost", len(lost))
	}
	return nil
}
