// Package workers runs the background side of the service: the Redis
// reliable queue, the worker pool with leases, the retry scheduler and the
// reaper that rebuilds from PostgreSQL whatever Redis loses.
package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Processor runs the pipeline for one claimed email. It writes the terminal
// state itself (store.Finish, with the job's lease token), which closes the
// attempt row in the same statement, and returns the state; an error means
// the attempt failed and the pool decides between retrying and failing.
type Processor interface {
	Process(ctx context.Context, job *models.Job) (models.Status, error)
}

// PoolConfig tunes the pool.
type PoolConfig struct {
	Concurrency     int
	JobTimeout      time.Duration
	LeaseDuration   time.Duration
	ShutdownTimeout time.Duration // soft: running jobs may finish within it
	Retry           background.RetryPolicy
	FetchWait       time.Duration // how long one BLMOVE blocks (at least 1s); bounds how fast Stop stops fetching
	// ModelDemand, when set, is how many model calls could be in flight now
	// (the Limiter's Desired, at most LLM_MAX_INFLIGHT): the pool holds up
	// to Concurrency + ModelDemand() jobs, those waiting on the model parked
	// without a worker slot (see slots). Nil: the pool holds Concurrency jobs.
	ModelDemand func() int
}

// Pool runs jobs in a fixed number of worker slots. Its fetchers fetch only
// when the pool may hold another job; each job claims the email under a
// lease, runs the processor in a slot (giving it back while it waits on the
// model, see slots), and records the outcome; a heartbeat renews all
// running leases in one statement.
type Pool struct {
	cfg     PoolConfig
	store   *store.Store
	queue   *Queue
	proc    Processor
	metrics *Metrics
	log     *slog.Logger
	claims  interface { // the workers' claims, several per statement (groupcommit; tests use groupcommittest)
		Do(ctx context.Context, r *claimRequest) error
	}

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc // lease token → cancel

	slots     *slots
	stopFetch context.CancelFunc
	stopJobs  context.CancelFunc
	workers   sync.WaitGroup // fetchers and jobs
	beat      sync.WaitGroup
	stopBeat  context.CancelFunc
	stopOnce  sync.Once
}

// NewPool returns a pool; Start runs it.
func NewPool(cfg PoolConfig, st *store.Store, queue *Queue, proc Processor, m *Metrics, log *slog.Logger) *Pool {
	cfg.FetchWait = max(cfg.FetchWait, time.Second) // BLMOVE's smallest timeout in go-redis
	p := &Pool{cfg: cfg, store: st, queue: queue, proc: proc, metrics: m, log: log,
		running: map[string]context.CancelCauseFunc{}, slots: newSlots(cfg.Concurrency, cfg.ModelDemand)}
	if m != nil {
		m.observeSlots(p.slots)
	}
	p.claims = groupcommit.New(p.writeClaims, claimOptions(cfg))
	return p
}

func claimOptions(cfg PoolConfig) groupcommit.Options[*claimRequest] {
	return groupcommit.Options[*claimRequest]{MaxItems: max(cfg.Concurrency, 1), Timeout: batchTimeout}
}

var errLeaseLost = errors.New("lease lost to another attempt")

// batchTimeout bounds a batched claim, which no single caller's context
// bounds: the batch holds other workers' claims too.
const batchTimeout = 30 * time.Second

// Start registers the instance and starts the workers and the heartbeat.
func (p *Pool) Start(ctx context.Context) error {
	if err := p.queue.Beat(ctx, p.heartbeatTTL()); err != nil {
		return fmt.Errorf("start pool: %w", err)
	}
	base := context.WithoutCancel(ctx)
	fetchCtx, stopFetch := context.WithCancel(base)
	jobsCtx, stopJobs := context.WithCancel(base)
	beatCtx, stopBeat := context.WithCancel(base)
	p.stopFetch, p.stopJobs, p.stopBeat = stopFetch, stopJobs, stopBeat
	p.beat.Add(1)
	go p.heartbeat(beatCtx)
	for i := 0; i < p.cfg.Concurrency; i++ {
		p.workers.Add(1)
		go p.fetch(fetchCtx, jobsCtx)
	}
	p.log.Info("worker pool started", "instance", p.queue.Instance(), "concurrency", p.cfg.Concurrency)
	return nil
}

// Stop stops fetching, lets running jobs finish within the soft timeout,
// then cancels them; cancelled jobs go back to queued at once. Safe twice.
func (p *Pool) Stop() {
	p.stopOnce.Do(func() {
		if p.stopFetch == nil {
			return
		}
		p.stopFetch()
		done := make(chan struct{})
		go func() { p.workers.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(p.cfg.ShutdownTimeout):
			p.log.Warn("shutdown timeout: cancelling running jobs")
			p.stopJobs()
			<-done
		}
		p.stopJobs()
		p.stopBeat()
		p.beat.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.queue.Leave(ctx); err != nil {
			p.log.Warn("leave queue failed; reaper will requeue", "error", err)
		}
		p.log.Info("worker pool stopped", "instance", p.queue.Instance())
	})
}

func (p *Pool) heartbeatTTL() time.Duration { return 3 * p.beatEvery() }

func (p *Pool) beatEvery() time.Duration { return min(p.cfg.LeaseDuration/3, 5*time.Second) }

// heartbeat keeps the instance key alive and renews every running lease;
// an attempt whose lease was taken over is cancelled.
func (p *Pool) heartbeat(ctx context.Context) {
	defer p.beat.Done()
	t := time.NewTicker(p.beatEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, p.beatEvery())
		if err := p.queue.Beat(qctx, p.heartbeatTTL()); err != nil && ctx.Err() == nil {
			p.log.Warn("instance heartbeat failed", "error", err)
		}
		lost, err := p.store.RenewLeases(qctx, p.tokens(), p.cfg.LeaseDuration)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("lease renewal failed", "error", err)
			}
			continue
		}
		p.mu.Lock()
		for _, tok := range lost {
			if c, ok := p.running[tok]; ok {
				c(errLeaseLost)
			}
		}
		p.mu.Unlock()
	}
}

func (p *Pool) tokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.running))
	for t := range p.running {
		out = append(out, t)
	}
	return out
}

// fetch pulls email ids while the pool may hold another job, and starts a
// job for each.
func (p *Pool) fetch(fetchCtx, jobsCtx context.Context) {
	defer p.workers.Done()
	for fetchCtx.Err() == nil {
		if p.slots.reserve(fetchCtx) != nil {
			return
		}
		id, err := p.queue.Fetch(fetchCtx, p.cfg.FetchWait)
		switch {
		case errors.Is(err, ErrEmpty):
			p.slots.unreserve()
			continue
		case err != nil:
			p.slots.unreserve()
			if fetchCtx.Err() == nil {
				p.log.Warn("fetch failed", "error", err)
				pause(fetchCtx, time.Second)
			}
			continue
		}
		if fetchCtx.Err() != nil {
			p.slots.unreserve()
			return // stopping: the id stays in our processing list, which Leave pushes back
		}
		p.slots.fetched()
		p.workers.Add(1)
		go p.job(jobsCtx, id)
	}
}

// job runs one fetched id in a worker slot.
func (p *Pool) job(ctx context.Context, id uint64) {
	defer p.workers.Done()
	slot := &jobSlot{s: p.slots}
	defer slot.done()
	if p.slots.acquire(ctx, false) != nil {
		return // cancelled by shutdown before it started: Leave pushes the id back
	}
	slot.holding = true
	p.handle(background.WithSlot(ctx, slot), id)
}

// handle claims and runs one email id, then acknowledges it: PostgreSQL,
// not the Redis entry, says what still needs doing.
func (p *Pool) handle(ctx context.Context, id uint64) {
	final := context.WithoutCancel(ctx)
	req := &claimRequest{id: id}
	// Not ctx: a claim in another worker's batch may commit after ctx ends,
	// and this worker must be there to hand the email back (finish, below).
	err := p.claims.Do(final, req)
	if err == nil {
		err = req.err
	}
	job := req.job
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: Leave pushes the unacknowledged id back
		}
		p.log.Warn("claim failed; reaper will re-dispatch", "email_id", id, "error", err)
		p.ack(final, id)
		pause(ctx, 200*time.Millisecond)
		return
	}
	defer p.ack(final, id)
	if job == nil {
		p.metrics.skipped.Inc()
		return
	}
	if t := job.Email.LastDispatchedAt; t != nil {
		p.metrics.queueWait.Observe(time.Since(*t).Seconds())
	}
	start := time.Now()
	status, err := p.run(ctx, job)
	outcome := p.finish(final, job, status, err, ctx.Err() != nil)
	p.metrics.jobs.WithLabelValues(outcome).Inc()
	p.metrics.jobDuration.Observe(time.Since(start).Seconds())
	p.log.Info("job finished", "email_id", job.Email.ID, "attempt", job.Attempt, "outcome", outcome,
		"duration_ms", time.Since(start).Milliseconds(), "heap_bytes", heapInUse())
}

func (p *Pool) ack(ctx context.Context, id uint64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.queue.Ack(ctx, id); err != nil {
		p.log.Warn("ack failed", "email_id", id, "error", err)
	}
}

// run executes the processor under the job timeout and a lease-loss
// cancellation, turning a panic into an error for this attempt only.
func (p *Pool) run(ctx context.Context, job *models.Job) (status models.Status, err error) {
	jctx, cancel := context.WithCancelCause(ctx)
	jctx, cancelTimeout := context.WithTimeout(jctx, p.cfg.JobTimeout)
	p.mu.Lock()
	p.running[job.Token] = cancel
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.running, job.Token)
		p.mu.Unlock()
		cancelTimeout()
		cancel(nil)
		if r := recover(); r != nil {
			p.log.Error("job panicked", "email_id", job.Email.ID, "panic_type", fmt.Sprintf("%T", r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic in pipeline (%T)", r)
		}
	}()
	status, err = p.proc.Process(jctx, job)
	if err == nil && !status.Terminal() {
		err = fmt.Errorf("processor returned non-terminal status %q", status)
	}
	if err != nil && errors.Is(context.Cause(jctx), errLeaseLost) {
		err = models.ErrLeaseLost
	}
	return status, err
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
