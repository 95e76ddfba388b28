package store

import (
	"context"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// MarkQueued moves the emails of ids that are still received to queued,
// stamping the dispatch, in one statement, and returns the ids that moved.
// It commits asynchronously: losing the mark in a crash only leaves a row
// received, which workers claim as well.
func (s *Store) MarkQueued(ctx context.Context, ids []uint64) ([]uint64, error) {
	c := change{To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: []assign{{"last_dispatched_at", now}}}
	return c.applyAll(ctx, s.async, ids)
}
