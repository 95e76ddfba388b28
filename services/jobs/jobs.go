// Package jobs is the admin's view of the email pipeline: it lists and shows
// incoming emails with their attempts, retries failed ones (one at a time or
// in bulk), and reports the pipeline's gauges to Prometheus.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Pusher hands email ids to the workers. A failed push is not an error for
// the caller: the reaper re-dispatches queued rows it finds undispatched.
type Pusher interface {
	Push(ctx context.Context, ids ...uint64) error
}

// Service answers the admin API and page through the store; it never
// touches email content in logs.
type Service struct {
	store  *store.Store
	pusher Pusher
	log    *slog.Logger
	// queryTimeout bounds each admin query so a slow database cannot pin requests.
	queryTimeout time.Duration
}

// New returns the admin jobs service. pusher may be nil (nothing is pushed;
// the reaper dispatches retried rows).
func New(st *store.Store, pusher Pusher, log *slog.Logger) *Service {
	return &Service{store: st, pusher: pusher, log: log, queryTimeout: 10 * time.Second}
}

// push dispatches ids best effort, in chunks Redis handles comfortably.
func (s *Service) push(ctx context.Context, ids []uint64) {
	if s.pusher == nil || len(ids) == 0 {
		return
	}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		if err := s.pusher.Push(ctx, part...); err != nil {
			s.log.WarnContext(ctx, "push after retry failed; reaper will dispatch", "count", len(part), "error", err)
			return
		}
	}
}
