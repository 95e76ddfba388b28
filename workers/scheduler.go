package workers

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Scheduler moves retries whose backoff has elapsed from the Redis delayed
// set back to the ready list, marking them queued in PostgreSQL first.
type Scheduler struct {
	db       *gorm.DB
	queue    *Queue
	log      *slog.Logger
	interval time.Duration
	batch    int

	cancel context.CancelFunc
	done   sync.WaitGroup
	once   sync.Once
}

// NewScheduler returns a scheduler ticking every interval.
func NewScheduler(db *gorm.DB, q *Queue, interval time.Duration, log *slog.Logger) *Scheduler {
	return &Scheduler{db: db, queue: q, log: log, interval: interval, batch: 500}
}

// Start runs the scheduler in the background.
func (s *Scheduler) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if _, err := s.runOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("scheduler run failed", "error", err)
			}
		}
	}()
	return nil
}

// Stop stops the scheduler and waits for it; safe twice.
func (s *Scheduler) Stop() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
			s.done.Wait()
		}
	})
}

// runOnce pops due ids and queues those still retrying. If it dies between
// the pop and the push, the reaper finds the rows retrying past due.
func (s *Scheduler) runOnce(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids, err := s.queue.PopDue(ctx, time.Now(), s.batch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	moved, err := redispatch(ctx, s.db, s.queue, len(ids),
		"id IN ? AND processing_status = 'retrying' AND next_attempt_at <= now() + interval '1 second'", ids)
	return len(moved), err
}
