package workers

import (
	"context"
	"log/slog"
	"time"

	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Scheduler moves retries whose backoff has elapsed from the Redis delayed
// set back to the ready list, marking them queued in PostgreSQL first.
type Scheduler struct {
	store *store.Store
	queue *Queue
	batch int
	*background.Loop
}

// NewScheduler returns a scheduler ticking every interval; Start and Stop run it.
func NewScheduler(st *store.Store, q *Queue, interval time.Duration, log *slog.Logger) *Scheduler {
	s := &Scheduler{store: st, queue: q, batch: 500}
	s.Loop = background.NewLoop("scheduler", interval, s.runOnce, log)
	return s
}

// runOnce pops due ids and queues those still retrying. If it dies between
// the pop and the push, the reaper finds the rows retrying past due.
func (s *Scheduler) runOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids, err := s.queue.PopDue(ctx, time.Now(), s.batch)
	if err != nil || len(ids) == 0 {
		return err
	}
	queued, err := s.store.QueueDueRetries(ctx, ids)
	if err != nil {
		return err
	}
	return s.queue.Push(ctx, queued...)
}
