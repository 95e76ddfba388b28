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

func TestEveryItemIsWrittenOnceAndBatchesForm(t *testing.T) {
	t.Parallel()
	rec := &recorder{delay: 2 * time.Millisecond}
	b := groupcommit.New(rec.write, groupcommit.Options[*item]{MaxFlushers: 2, MaxItems: 16})
	items := make([]*item, 300)
	var wg sync.WaitGroup
	for i := range items {
		items[i] = &item{n: i}
		wg.Go(func() { require.NoError(t, b.Do(context.Background(), items[i])) })
	}
	wg.Wait()
	for _, it := range items {
		require.Equal(t, 1, it.written, "item %d", it.n)
	}
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
	gate := make(chan struct{})
	var first atomic.Bool
	var mu sync.Mutex
	var sizes [][]int
	write := func(_ context.Context, batch []*item) func() {
		if first.CompareAndSwap(false, true) {
			<-gate // hold the only flusher until the others queued up
		}
		mu.Lock()
		defer mu.Unlock()
		var s []int
		for _, it := range batch {
			s = append(s, it.size)
		}
		sizes = append(sizes, s)
		return nil
	}
	b := groupcommit.New(write, groupcommit.Options[*item]{MaxBytes: 100, Size: func(it *item) int { return it.size }})
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, b.Do(context.Background(), &item{size: 1})) })
	require.Eventually(t, first.Load, 5*time.Second, time.Millisecond)
	for _, size := range []int{60, 60, 500, 30} {
		wg.Go(func() { require.NoError(t, b.Do(context.Background(), &item{size: size})) })
	}
	time.Sleep(50 * time.Millisecond) // let them queue behind the held flush
	close(gate)
	wg.Wait()
	for _, s := range sizes {
		total := 0
		for _, v := range s {
			total += v
		}
		require.True(t, total <= 100 || len(s) == 1, "batch %v exceeds MaxBytes with more than one item", s)
	}
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
	b := groupcommit.New(write, groupcommit.Options[*item]{})
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
