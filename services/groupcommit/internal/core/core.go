// Package core is the group-commit batcher behind package groupcommit,
// which documents it. It is internal so that the hooks tests need (Hold,
// Queued, Idle) reach only groupcommittest, never production callers.
package core

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrPanicked is returned to every call of a batch whose write panicked.
var ErrPanicked = errors.New("group commit: the batch's write panicked")

// Options bound the batches.
type Options[T any] struct {
	// MaxFlushers is how many batches are written at once (default 1).
	MaxFlushers int
	// MaxItems bounds a batch (default 64).
	MaxItems int
	// Size and MaxBytes, when both set, also bound a batch by content size;
	// a single item larger than MaxBytes is still written, alone.
	Size     func(T) int
	MaxBytes int
	// Timeout, when set, bounds each write: its context, detached from the
	// callers' cancellation, ends after Timeout and once write returns (a
	// finish must not keep using it).
	Timeout time.Duration
}

// Batcher gathers concurrent Do calls into batches for its write function.
type Batcher[T any] struct {
	// write stores a batch and records each item's outcome in the item
	// itself (items are usually pointers). It returns what is left to do
	// before the calls are answered but need not hold up the next batch, or
	// nil.
	write func(ctx context.Context, batch []T) (finish func())
	opt   Options[T]

	mu    sync.Mutex
	queue []*request[T]
	// flushers counts calls that are flushing or have been promoted to.
	flushers int
}

// New returns a batcher for write.
func New[T any](write func(ctx context.Context, batch []T) (finish func()), opt Options[T]) *Batcher[T] {
	opt.MaxFlushers = max(opt.MaxFlushers, 1)
	if opt.MaxItems <= 0 {
		opt.MaxItems = 64
	}
	return &Batcher[T]{write: write, opt: opt}
}

// role is what a queued request's call is doing for the batcher.
type role uint8

const (
	waiting  role = iota // waits for its answer
	promoted             // was handed the flusher role; its call has not taken it up yet
	flushing             // its call is writing batches
)

type request[T any] struct {
	item T
	size int
	err  error         // ErrPanicked, set before done is closed
	done chan struct{} // closed once the batch holding the item is written

	wake   chan struct{} // buffered: the call must become a flusher
	queued bool          // guarded by Batcher.mu
	role   role          // guarded by Batcher.mu
}

// Do queues item and returns once its batch was written (nil, or
// ErrPanicked) or ctx ends (ctx.Err()). A call whose ctx has already ended
// writes nothing. An item abandoned while still queued is never written;
// one abandoned after it was taken may still be. The write itself runs
// detached from ctx's cancellation: a batch holds other calls' items, which
// this caller going away must not fail.
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request[T]{item: item, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	if b.opt.Size != nil {
		r.size = b.opt.Size(item)
	}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	r.queued = true
	lead := b.flushers < b.opt.MaxFlushers
	if lead {
		b.flushers++
		r.role = flushing
	}
	b.mu.Unlock()
	for {
		if lead {
			b.flush(ctx, r)
		}
		select {
		case <-r.done:
			b.leave(r)
			return r.err
		case <-r.wake:
			lead = true
		case <-ctx.Done():
			b.leave(r)
			select {
			case <-r.done: // answered meanwhile, e.g. by its own flush
				return r.err
			default:
				return ctx.Err()
			}
		}
	}
}

// flush writes batches until own has been taken into one, passes the
// flusher role on, and only then finishes its batches and answers them.
// Should write or a finish panic (a bug), the role is still passed on, own
// leaves the queue if still there (its call goes with the panic), and every
// taken request is answered (ErrPanicked where its batch did not finish), so
// one bug cannot stop the batcher or leave calls waiting; the panic then
// goes on.
func (b *Batcher[T]) flush(ctx context.Context, own *request[T]) {
	var (
		written []*batch[T]
		holding = true
	)
	defer func() {
		if holding {
			b.mu.Lock()
			b.dequeue(own)
			own.role = waiting
			b.handOff()
			b.mu.Unlock()
		}
		for _, w := range written {
			w.answer(ErrPanicked)
		}
	}()
	ctx = context.WithoutCancel(ctx)
	b.mu.Lock()
	own.role = flushing
	for own.queued {
		w := &batch[T]{requests: b.take()}
		b.mu.Unlock()
		written = append(written, w)
		w.finish = b.writeOne(ctx, w.items())
		b.mu.Lock()
	}
	own.role = waiting
	b.handOff()
	holding = false
	b.mu.Unlock()
	for _, w := range written {
		if w.finish != nil {
			w.finish()
		}
		w.answer(nil)
	}
}

// writeOne runs write on items under the Timeout, if any.
func (b *Batcher[T]) writeOne(ctx context.Context, items []T) (finish func()) {
	if b.opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.opt.Timeout)
		defer cancel()
	}
	return b.write(ctx, items)
}

// batch is a group of requests written together.
type batch[T any] struct {
	requests []*request[T]
	finish   func() // what is left once the flusher role is passed on; may be nil
	answered bool
}

func (w *batch[T]) items() []T {
	items := make([]T, len(w.requests))
	for i, r := range w.requests {
		items[i] = r.item
	}
	return items
}

// answer closes the requests' done channels, once, with err.
func (w *batch[T]) answer(err error) {
	if w.answered {
		return
	}
	w.answered = true
	for _, r := range w.requests {
		r.err = err
		close(r.done)
	}
}

// take removes the oldest requests from the queue: at least one, at most
// MaxItems and MaxBytes. b.mu is held.
func (b *Batcher[T]) take() []*request[T] {
	n, size := 0, 0
	for n < len(b.queue) && n < b.opt.MaxItems {
		if n > 0 && b.opt.MaxBytes > 0 && size+b.queue[n].size > b.opt.MaxBytes {
			break
		}
		size += b.queue[n].size
		b.queue[n].queued = false
		n++
	}
	batch := make([]*request[T], n)
	copy(batch, b.queue)
	// Shift rather than reslice, so the queue does not keep taken items alive.
	left := copy(b.queue, b.queue[n:])
	clear(b.queue[left:])
	b.queue = b.queue[:left]
	return batch
}

// handOff gives the flusher role of a call that stops flushing to the
// oldest queued request whose call is only waiting, or gives it up when
// none is. b.mu is held.
func (b *Batcher[T]) handOff() {
	for _, r := range b.queue {
		if r.role == waiting {
			r.role = promoted
			r.wake <- struct{}{} // buffered and empty: a request is promoted at most once at a time
			return
		}
	}
	b.flushers--
}

// leave drops r from the queue when its call stops waiting, and passes on
// a flusher role the call was handed but will not take up.
func (b *Batcher[T]) leave(r *request[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dequeue(r)
	if r.role == promoted {
		r.role = waiting
		b.handOff()
	}
}

// dequeue removes r from the queue if it is still there. b.mu is held.
func (b *Batcher[T]) dequeue(r *request[T]) {
	if !r.queued {
		return
	}
	if i := slices.Index(b.queue, r); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
	}
	r.queued = false
}

// Queued reports how many calls wait in the queue.
func (b *Batcher[T]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// Idle reports whether no call is queued or flushing.
func (b *Batcher[T]) Idle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) == 0 && b.flushers == 0
}

// Hold takes every flusher role of an idle batcher, so calls queue up
// unwritten, until release hands one role to the oldest waiting call (which
// writes what is queued, as one batch within the limits) and frees the
// rest. It is for tests that need a batch of a known shape
// (groupcommittest).
func (b *Batcher[T]) Hold() (release func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushers = b.opt.MaxFlushers
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.flushers = 1
		b.handOff()
	}
}
