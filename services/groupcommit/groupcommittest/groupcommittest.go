// Package groupcommittest gives tests a group-commit batcher they can steer:
// hold its flushers so calls queue up, see how many are queued, and see
// whether it is idle. It is the batcher of package groupcommit, with the
// hooks production code must not reach.
package groupcommittest

import (
	"context"

	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit/internal/core"
)

// Batcher is groupcommit's batcher with test hooks.
type Batcher[T any] struct{ core *core.Batcher[T] }

// New returns a batcher for write, as groupcommit.New does.
func New[T any](write func(ctx context.Context, batch []T) (finish func()), opt groupcommit.Options[T]) *Batcher[T] {
	return &Batcher[T]{core: core.New(write, opt)}
}

// Do is groupcommit.Batcher's Do.
func (b *Batcher[T]) Do(ctx context.Context, item T) error { return b.core.Do(ctx, item) }

// Hold takes every flusher role of an idle batcher, so calls queue up
// unwritten, until release hands one role to the oldest waiting call (which
// writes what is queued, as one batch within the limits) and frees the rest.
func (b *Batcher[T]) Hold() (release func()) { return b.core.Hold() }

// Queued reports how many calls wait in the queue.
func (b *Batcher[T]) Queued() int { return b.core.Queued() }

// Idle reports whether no call is queued or flushing.
func (b *Batcher[T]) Idle() bool { return b.core.Idle() }
