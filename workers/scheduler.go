package workers

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/services/background"
)

// Scheduler moves retries whose backoff has elapsed from the Redis delayed
// set back to the ready list, marking them queued in PostgreSQL first.
type Scheduler struct {
	db    *gorm.DB
	queue *Queue
	batch int
	*background.Loop
}

// NewScheduler returns a scheduler ticking every interval; Start and Stop run it.
func NewScheduler(db *gorm.DB, q *Queue, interval time.Duration, log *slog.Logger) *Scheduler {
	s := &Scheduler{db: db, queue: q, batch: 500}
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
	_, err = redispatch(ctx, s.db, s.queue, len(ids),
		"id IN ? AND processing_status = 'retrying' AND next_attempt_at <= now() + interval '1 second'", ids)
	return err
}
