package workers

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/store"
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
	store   *store.Store
	queue   *Queue
	metrics *Metrics
	log     *slog.Logger
	*background.Loop
}

// NewReaper returns a reaper.
func NewReaper(cfg ReaperConfig, st *store.Store, q *Queue, m *Metrics, log *slog.Logger) *Reaper {
	if cfg.Batch == 0 {
		cfg.Batch = 500
	}
	if cfg.Grace == 0 {
		cfg.Grace = 5 * time.Second
	}
	r := &Reaper{cfg: cfg, store: st, queue: q, metrics: m, log: log}
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

func (r *Reaper) rescueExpired(ctx context.Context) error {
	queued, failed, err := r.store.RescueExpired(ctx, r.cfg.Batch, r.cfg.MaxRescues)
	if err != nil {
		return err
	}
	if n := len(queued) + len(failed); n > 0 {
		r.metrics.rescues.Add(float64(n))
		r.log.Info("rescued expired leases", "count", n, "requeued", len(queued))
	}
	return r.queue.Push(ctx, queued...)
}

// redispatchLost pushes waiting emails that Redis no longer holds: retries
// past due that the scheduler missed, and received/queued rows beyond what
// the ready list holds. Comparing counts keeps a long, healthy backlog from
// being pushed again on every sweep, while a Redis that came back empty is
// refilled on the next sweep.
func (r *Reaper) redispatchLost(ctx context.Context) error {
	due, err := r.store.QueueOverdueRetries(ctx, r.cfg.Grace, r.cfg.Batch)
	if err != nil {
		return err
	}
	if err := r.queue.Push(ctx, due...); err != nil {
		return err
	}
	waiting, err := r.store.CountClaimable(ctx)
	if err != nil {
		return err
	}
	ready, err := r.queue.ReadyLen(ctx)
	if err != nil {
		return err
	}
	var lost []uint64
	if missing := int(min(waiting-ready, int64(r.cfg.Batch))); missing > 0 {
		if lost, err = r.store.RequeueUndispatched(ctx, r.cfg.Grace, missing); err != nil {
			return err
		}
		if err := r.queue.Push(ctx, lost...); err != nil {
			return err
		}
	}
	if n := len(due) + len(lost); n > 0 {
		r.metrics.redispatch.Add(float64(n))
		r.log.Info("re-dispatched waiting emails", "due_retries", len(due), "lost", len(lost))
	}
	return nil
}
