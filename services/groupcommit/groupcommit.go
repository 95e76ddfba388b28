// Package groupcommit writes concurrent requests together: one statement
// (or round trip) for whatever is waiting, instead of one each.
//
// Under load PostgreSQL spends most of a short write's CPU on the fixed cost
// of each statement (a round trip, parse/bind/execute, a commit and its WAL
// flush) rather than on its rows: measured with pgbench on the development
// machine, one 16-row UPDATE costs about as much as three single-row ones.
//
// Groups form on their own, without a timer. A request that arrives while
// the flushers are busy waits in the queue; the next flush takes everything
// waiting (up to MaxItems items and MaxBytes of Size). A lone request is
// written at once, as fast as without batching, and under load the batches
// grow with the queue.
//
// A Batcher has no goroutines of its own (leader-follower): a Do call queues
// its request and, while fewer than MaxFlushers calls are flushing, becomes
// a flusher itself. A flusher writes batches until its own request has been
// taken, then hands the role to the oldest request still waiting (whose call
// wakes up and flushes) or gives it up when none waits. So no Start/Stop is
// needed: when no Do is running, nothing is.
//
// A write may leave a tail that must happen before its calls are answered
// but need not hold up the next batch (intake's Redis push and queued mark
// after its INSERT): it returns it as a finish function, which the flusher
// runs after handing the role on. One flusher then keeps the database busy
// while the previous batch finishes, with batches as large as one allows.
package groupcommit

import (
	"context"

	"github.com/lawfirm/creditor-email-matcher/services/groupcommit/internal/core"
)

// ErrPanicked is returned to every call of a batch whose write panicked.
var ErrPanicked = core.ErrPanicked

// Options bound the batches: MaxFlushers (how many batches are written at
// once, default 1), MaxItems (default 64), Size with MaxBytes (a bound by
// content size; a single larger item is still written, alone) and Timeout
// (bounds each write's context, which is detached from the callers').
type Options[T any] = core.Options[T]

// Batcher gathers concurrent Do calls into batches for its write function.
// Tests that need a batch of a known shape use groupcommittest's Batcher,
// which has the same Do and lets them hold the flushers.
type Batcher[T any] struct{ core *core.Batcher[T] }

// New returns a batcher for write. write stores a batch and records each
// item's outcome in the item itself (items are usually pointers); it
// returns what is left to do before the calls are answered but need not
// hold up the next batch, or nil.
func New[T any](write func(ctx context.Context, batch []T) (finish func()), opt Options[T]) *Batcher[T] {
	return &Batcher[T]{core: core.New(write, opt)}
}

// Do queues item and returns once its batch was written (nil, or
// ErrPanicked) or ctx ends (ctx.Err()). A call whose ctx has already ended
// writes nothing. An item abandoned while still queued is never written;
// one abandoned after it was taken may still be. The write itself runs
// detached from ctx's cancellation: a batch holds other calls' items, which
// this caller going away must not fail.
func (b *Batcher[T]) Do(ctx context.Context, item T) error { return b.core.Do(ctx, item) }
