package groupcommit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit/groupcommittest"
)

type item struct {
	n       int
	size    int
	written int // how many times a write saw it
}

// recorder is a write function that remembers its batches.
type recorder struct {
	mu      sync.Mutex
	batches [][]*item
	delay   time.Duration
}

func (r *recorder) write(_ context.Context, batch []*item) func() {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, it := range batch {
		it.written++
	}
	r.batches = append(r.batches, batch)
	return nil
}

// writtenOf is how many times a write saw it so far.
func (r *recorder) writtenOf(it *item) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return it.written
}

func TestEveryItemIsWrittenOnceAndBatchesForm(t *testing.T) {
	t.Parallel()
	rec := &recorder{delay: 2 * time.Millisecond}
	b := groupcommit.New(rec.write, groupcommit.Options[*item]{MaxFlushers: 2, MaxItems: 16})
	items := make([]*item, 300)
	var wg sync.WaitGroup
	for i := range items {
		items[i] = &item{n: i}
		wg.Go(func() {
			require.NoError(t, b.Do(context.Background(), items[i]))
			require.Equal(t, 1, rec.writtenOf(items[i]), "item %d is written before its call returns", i)
		})
	}
	wg.Wait()
	largest := 0
	for _, batch := range rec.batches {
		require.LessOrEqual(t, len(batch), 16, "MaxItems bounds a batch")
		largest = max(largest, len(batch))
	}
	require.Greater(t, largest, 1, "concurrent calls share batches")
	require.Less(t, len(rec.batches), len(items))
}

func TestALoneCallIsWrittenAtOnce(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := groupcommit.New(rec.write, groupcommit.Options[*item]{})
	for i := range 3 {
		it := &item{n: i}
		require.NoError(t, b.Do(context.Background(), it))
		require.Equal(t, 1, it.written)
	}
	require.Len(t, rec.batches, 3)
}

func TestMaxBytesBoundsABatch(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := groupcommittest.New(rec.write, groupcommit.Options[*item]{MaxBytes: 100, Size: func(it *item) int { return it.size }})
	release := b.Hold() // the calls queue up unwritten
	sizes := []int{1, 60, 60, 500, 30}
	var wg sync.WaitGroup
	for _, size := range sizes {
		wg.Go(func() { require.NoError(t, b.Do(context.Background(), &item{size: size})) })
	}
	require.Eventually(t, func() bool { return b.Queued() == len(sizes) }, 5*time.Second, time.Millisecond)
	release()
	wg.Wait()
	written := 0
	for _, batch := range rec.batches {
		total := 0
		for _, it := range batch {
			total += it.size
		}
		written += len(batch)
		require.True(t, total <= 100 || len(batch) == 1, "a batch of %d bytes exceeds MaxBytes with more than one item", total)
	}
	require.Equal(t, len(sizes), written)
}

func TestAnAbandonedQueuedItemIsNotWritten(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var calls atomic.Int32
	write := func(_ context.Context, batch []*item) func() {
		if calls.Add(1) == 1 {
			<-gate
		}
		for _, it := range batch {
			it.written++
		}
		return nil
	}
	b := groupcommit.New(write, groupcommit.Options[*item]{})
	held := &item{}
	done := make(chan error, 1)
	go func() { done <- b.Do(context.Background(), held) }()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	abandoned := &item{}
	require.ErrorIs(t, b.Do(ctx, abandoned), context.DeadlineExceeded)
	close(gate)
	require.NoError(t, <-done)
	require.Equal(t, 0, abandoned.written, "an item its caller gave up on while queued is dropped")

	later := &item{}
	require.NoError(t, b.Do(context.Background(), later), "the batcher keeps working")
	require.Equal(t, 1, later.written)
}

func TestAPanickingWriteFailsItsBatchOnly(t *testing.T) {
	t.Parallel()
	write := func(_ context.Context, batch []*item) func() {
		for _, it := range batch {
			if it.n < 0 {
				panic("bug")
			}
			it.written++
		}
		return nil
	}
	b := groupcommit.New(write, groupcommit.Options[*item]{})
	err := func() (err error) {
		defer func() {
			if recover() != nil {
				err = errors.New("the flusher's own call sees the panic")
			}
		}()
		return b.Do(context.Background(), &item{n: -1})
	}()
	require.Error(t, err)
	ok := &item{n: 1}
	require.NoError(t, b.Do(context.Background(), ok), "the flusher role was passed on")
	require.Equal(t, 1, ok.written)
}

func TestFinishRunsAfterTheRoleIsHandedOnAndBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	finishing := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	var writes atomic.Int32
	write := func(_ context.Context, batch []*item) func() {
		for _, it := range batch {
			it.written++
		}
		if writes.Add(1) > 1 {
			return nil
		}
		return func() {
			close(finishing)
			<-release
			finished.Store(true)
		}
	}
	b := groupcommit.New(write, groupcommit.Options[*item]{MaxFlushers: 1})
	first := make(chan error, 1)
	go func() { first <- b.Do(context.Background(), &item{}) }()
	<-finishing

	// The first batch is still finishing, yet the next call is written.
	next := &item{}
	require.NoError(t, b.Do(context.Background(), next))
	require.Equal(t, 1, next.written)
	select {
	case <-first:
		t.Fatal("a call was answered before its batch finished")
	default:
	}
	close(release)
	require.NoError(t, <-first)
	require.True(t, finished.Load())
}

func TestAPanickingFinishStillAnswersItsBatch(t *testing.T) {
	t.Parallel()
	write := func(_ context.Context, batch []*item) func() {
		for _, it := range batch {
			it.written++
		}
		if batch[0].n < 0 {
			return func() { panic("bug") }
		}
		return nil
	}
	b := groupcommittest.New(write, groupcommit.Options[*item]{})
	require.Panics(t, func() { _ = b.Do(context.Background(), &item{n: -1}) })
	require.True(t, b.Idle(), "the role was passed on and nothing is left queued")
	ok := &item{n: 1}
	require.NoError(t, b.Do(context.Background(), ok))
	require.Equal(t, 1, ok.written)
}

func TestTimeoutBoundsEachWrite(t *testing.T) {
	t.Parallel()
	var deadline time.Time
	var ok bool
	write := func(ctx context.Context, _ []*item) func() {
		deadline, ok = ctx.Deadline()
		return nil
	}
	b := groupcommit.New(write, groupcommit.Options[*item]{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, b.Do(ctx, &item{}))
	require.True(t, ok, "the write has a deadline")
	require.WithinDuration(t, time.Now().Add(time.Minute), deadline, 5*time.Second)
}

// TestAPanicBeforeTheFlusherOwnItemWasTakenDropsIt: with two flushers, a
// flusher's own item can wait behind a batch it writes; should that write
// panic, the call is gone, so its item must leave the queue rather than be
// promoted to a flusher role nobody takes up.
func TestAPanicBeforeTheFlusherOwnItemWasTakenDropsIt(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var mu sync.Mutex
	write := func(_ context.Context, batch []*item) func() {
		for _, it := range batch {
			switch {
			case it.n == 1:
				<-gate
			case it.n < 0:
				panic("bug")
			}
			mu.Lock()
			it.written++
			mu.Unlock()
		}
		return nil
	}
	b := groupcommittest.New(write, groupcommit.Options[*item]{MaxFlushers: 2, MaxItems: 1})
	release := b.Hold()
	held, bad, after := &item{n: 1}, &item{n: -1}, &item{n: 2}
	errs := make(chan error, 3)
	for i, it := range []*item{held, bad, after} {
		go func() { errs <- b.Do(context.Background(), it) }()
		require.Eventually(t, func() bool { return b.Queued() == i+1 }, 5*time.Second, time.Millisecond)
	}
	release() // held's call flushes and blocks in its write; one flusher role is free
	require.Eventually(t, func() bool { return b.Queued() == 2 }, 5*time.Second, time.Millisecond)

	own := &item{n: 3}
	require.Panics(t, func() { _ = b.Do(context.Background(), own) }, "own flushes bad's batch first")
	close(gate)
	var panicked int
	for range 3 {
		if err := <-errs; err != nil {
			require.ErrorIs(t, err, groupcommit.ErrPanicked)
			panicked++
		}
	}
	require.Equal(t, 1, panicked)
	require.Eventually(t, b.Idle, 5*time.Second, time.Millisecond, "no flusher role left with a call that is gone")
	mu.Lock()
	defer mu.Unlock()
	require.Zero(t, own.written, "the item of a call that panicked away is not written")
	require.Equal(t, 1, after.written)
}

func TestACallWhoseContextEndedWritesNothing(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := groupcommittest.New(rec.write, groupcommit.Options[*item]{MaxItems: 16})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	it := &item{}
	require.ErrorIs(t, b.Do(ctx, it), context.Canceled)
	require.Zero(t, rec.writtenOf(it))
	require.True(t, b.Idle())
}
