package workers

import (
	"context"
	"sync"
	"time"
)

// slots are the pool's worker slots (WORKER_CONCURRENCY): a job needs one to
// run, and gives it back while it waits on the model (parks, see
// background.Slot), so the workers keep parsing, matching and writing while
// calls are in flight. The pool holds at most size + demand() jobs — fetched,
// running or parked — where demand is how many calls the model's Limiter can
// use now (0 without a model: the pool then holds what it runs, as before).
// Jobs resuming from a park get a free slot before jobs not yet started: they
// are closer to done and hold a spot the fetchers are waiting for.
type slots struct {
	size   int
	demand func() int

	mu      sync.Mutex
	busy    int // slots in use
	held    int // jobs held: being fetched, fetched, running, waiting for a slot or parked
	pending int // of held: reservations of fetchers still fetching
	parked  int // parked jobs, waiting on the model or for a slot to resume in
	resume  []chan struct{}
	start   []chan struct{}
	changed chan struct{} // closed when held drops
}

func newSlots(size int, demand func() int) *slots {
	if demand == nil {
		demand = func() int { return 0 }
	}
	return &slots{size: max(size, 1), demand: demand, changed: make(chan struct{})}
}

// demandPoll is how often a fetcher at the cap looks at demand again: the
// Limiter's demand grows as it learns the account's limits.
const demandPoll = 100 * time.Millisecond

// reserve waits until the pool may hold one more job, and counts it.
func (s *slots) reserve(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.held < s.size+max(s.demand(), 0) {
			s.held++
			s.pending++
			s.mu.Unlock()
			return nil
		}
		changed := s.changed
		s.mu.Unlock()
		t := time.NewTimer(demandPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// fetched turns a reservation into a job.
func (s *slots) fetched() {
	s.mu.Lock()
	s.pending--
	s.mu.Unlock()
}

// unreserve gives back a reservation that fetched nothing.
func (s *slots) unreserve() {
	s.mu.Lock()
	s.pending--
	s.held--
	s.signalLocked()
	s.mu.Unlock()
}

// acquire waits for a free slot; resuming jobs go first.
func (s *slots) acquire(ctx context.Context, resuming bool) error {
	s.mu.Lock()
	if s.busy < s.size && len(s.resume) == 0 && (resuming || len(s.start) == 0) {
		s.busy++
		if resuming {
			s.parked--
		}
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if resuming {
		s.resume = append(s.resume, ch)
	} else {
		s.start = append(s.start, ch)
	}
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-ch: // granted meanwhile: keep it, the caller has it
		return nil
	default:
	}
	if resuming {
		s.resume = remove(s.resume, ch)
	} else {
		s.start = remove(s.start, ch)
	}
	return ctx.Err()
}

func remove(q []chan struct{}, ch chan struct{}) []chan struct{} {
	for i, c := range q {
		if c == ch {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}

// release gives a slot back (a job parks or ends).
func (s *slots) releaseLocked() {
	s.busy--
	for s.busy < s.size {
		var q *[]chan struct{}
		switch {
		case len(s.resume) > 0:
			q = &s.resume
			s.parked--
		case len(s.start) > 0:
			q = &s.start
		default:
			return
		}
		close((*q)[0])
		*q = (*q)[1:]
		s.busy++
	}
}

func (s *slots) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// stats returns the jobs held (fetched, not counting fetches in progress)
// and parked, for metrics.
func (s *slots) stats() (held, parked int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held - s.pending, s.parked
}

// jobSlot is one job's background.Slot; only the job's goroutine uses it.
type jobSlot struct {
	s       *slots
	holding bool
}

// Park implements background.Slot.
func (j *jobSlot) Park() {
	if !j.holding {
		return
	}
	j.holding = false
	j.s.mu.Lock()
	j.s.parked++
	j.s.releaseLocked()
	j.s.mu.Unlock()
}

// Resume implements background.Slot.
func (j *jobSlot) Resume(ctx context.Context) error {
	if j.holding {
		return nil
	}
	if err := j.s.acquire(ctx, true); err != nil {
		j.s.mu.Lock()
		j.s.parked--
		j.s.mu.Unlock()
		return err
	}
	j.holding = true
	return nil
}

// done ends the job: its slot, if it holds one, and its place in the pool.
func (j *jobSlot) done() {
	j.s.mu.Lock()
	defer j.s.mu.Unlock()
	if j.holding {
		j.holding = false
		j.s.releaseLocked()
	}
	j.s.held--
	j.s.signalLocked()
}
