package claude

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// DefaultMaxInFlight is the ceiling of concurrent model calls when
// LimiterConfig.MaxInFlight is zero (LLM_MAX_INFLIGHT's default).
const DefaultMaxInFlight = 256

// Limiter decides when a model call may be sent. There is one per process,
// shared by every call; a call waits in Acquire (in FIFO order) until the
// Limiter lets it go, and reports its answer with Permit.Done.
//
// Why it paces instead of adapting concurrency: the account's limits are
// rates (requests, input tokens and output tokens per minute, each a token
// bucket), and a concurrency window tuned by 429s (AIMD) oscillates around
// the limit, paying a 429 on every probe; with latencies from 0.5 to 10 s
// the right window differs twentyfold. The limits themselves are in every
// response's anthropic-ratelimit-* headers, so the Limiter reads them and
// spaces calls at 95 % of the binding one, whichever of the three it is for
// the current mix (input tokens per call are estimated from the request and
// calibrated against usage; output tokens per call are the recent mean). The
// number of calls in flight then follows from Little's law (rate × latency),
// and Desired tells the caller how many emails to have ready for the model
// stage (backpressure); LimiterConfig.MaxInFlight caps it.
//
// Before any headers arrive it starts cautiously: one call in flight until
// the first answer tells the limits (slow start; without headers at all the
// window grows by one per answer and halves on 429, like TCP). A 429 pauses
// every caller until its retry-after and cuts the pacing rate by a fifth,
// recovering within twenty answers to just below the refused rate and
// slowly beyond (additive increase); a 529 (overloaded) pauses everyone with an
// exponential backoff. Several processes share one account, and the
// headers' remaining counts are account-wide: the Limiter models the
// server's buckets, and whatever consumption its model cannot explain
// (another process) lowers its own share, so the processes together settle
// at the limit.
type Limiter struct {
	maxInFlight int
	budget      Budget

	mu          sync.Mutex
	dims        [3]dimension // requests, input tokens, output tokens
	queue       list.List    // of *waiter, first in first out
	inFlight    int
	cwnd        float64 // window before the limits are known
	pausedUntil time.Time
	pauseReason string
	backoff     float64   // pacing share: cut by a fifth on a 429, recovering per answer up to 1
	backoffAt   time.Time // when backoff was last cut
	refusedAt   float64   // the share at the last 429: recovery slows near it
	overloads   int       // consecutive 529 answers
	inFactor    float64   // counted input tokens per estimated one
	inTokens    float64   // mean counted input tokens per answer; 0 = none seen
	outTokens   float64   // mean output tokens per answer; 0 = none seen
	latency     float64   // mean seconds per answered call; 0 = none seen
	stats       LimiterStats
}

// Indexes into Limiter.dims.
const (
	dimRequests = iota
	dimInput
	dimOutput
)

// LimiterConfig configures a Limiter.
type LimiterConfig struct {
	// MaxInFlight caps concurrent calls (LLM_MAX_INFLIGHT); DefaultMaxInFlight when 0.
	MaxInFlight int
	// Budget, when set, is asked before every call and told every answer's usage.
	Budget Budget
}

// NewLimiter returns a Limiter that knows nothing about the account yet.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	l := &Limiter{maxInFlight: cfg.MaxInFlight, budget: cfg.Budget, cwnd: 1, backoff: 1, inFactor: 1}
	l.dims[dimRequests].name = "requests"
	l.dims[dimInput].name = "input-tokens"
	l.dims[dimOutput].name = "output-tokens"
	return l
}

// Estimate is what a call will cost, as far as the caller can tell before
// sending it.
type Estimate struct {
	// InputTokens estimates all prompt tokens from above (cached or not).
	InputTokens int64
	// CacheableTokens is the part of InputTokens in the cached prefix:
	// tokens read from the cache do not count towards the input limit.
	CacheableTokens int64
	// MaxOutputTokens is the request's max_tokens, which the API reserves
	// from the output limit until the answer is complete.
	MaxOutputTokens int64
}

// Outcome is how a call ended, for Permit.Done.
type Outcome struct {
	Status int             // HTTP status; 0 when no response came
	Header http.Header     // the response's headers (nil without a response)
	Usage  models.LLMUsage // the usage of a 200 answer
}

// LimiterStats are the Limiter's gauges and counters, for metrics.
type LimiterStats struct {
	InFlight, PeakInFlight int
	Waiting                int // callers queued in Acquire
	Desired                int // see Limiter.Desired
	Admitted               int64
	Waited                 int64           // Acquires that had to wait (pacing, a pause, the budget)
	WaitTime               time.Duration   // their total wait
	RateLimited            int64           // 429 answers
	Overloaded             int64           // 529 answers
	BudgetWaits            int64           // Acquires that waited for the budget
	Usage                  models.LLMUsage // summed over every answered call (matcher_llm_tokens_total)
	PausedUntil            time.Time       // everyone waits until then (429/529)
	// Learned per-minute limits (0 until the first headers) and the rate of
	// calls per second the Limiter currently paces at.
	RequestsPerMinute, InputTokensPerMinute, OutputTokensPerMinute float64
	PaceRPS                                                        float64
}

// Permit is one admitted call; Done must be called exactly once.
type Permit struct {
	l      *Limiter
	sent   time.Time
	rawIn  float64 // estimated input tokens, uncalibrated
	in     float64 // input tokens booked
	out    float64 // output tokens the pacer expected
	maxOut float64 // output tokens reserved
	done   atomic.Bool
}

type waiter struct{ wake chan struct{} }

// Acquire waits until a call with cost est may be sent, or ctx ends.
// Errors: a *models.PermanentError when est can never fit the account's
// per-minute limits; a models.RateLimited error (transient, not the email's
// fault) when ctx ends while waiting; a *models.TransientError when ctx had
// already ended or the budget could not be read.
func (l *Limiter) Acquire(ctx context.Context, est Estimate) (*Permit, error) {
	if err := ctx.Err(); err != nil {
		return nil, models.Transient(fmt.Errorf("claude: %w", err), 0)
	}
	if err := l.waitBudget(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	w := &waiter{wake: make(chan struct{}, 1)}
	l.mu.Lock()
	e := l.queue.PushBack(w)
	waited := false
	for {
		now := time.Now()
		wait := time.Duration(-1) // until woken
		if l.queue.Front() == e {
			if err := l.neverFitsLocked(est); err != nil {
				l.leaveLocked(e)
				l.mu.Unlock()
				return nil, err
			}
			var ok bool
			if wait, ok = l.admissionLocked(now, est); ok {
				p := l.admitLocked(now, est)
				l.leaveLocked(e)
				l.countWaitLocked(waited, start)
				l.mu.Unlock()
				return p, nil
			}
		}
		waited = true
		reason, retry := l.waitReasonLocked(now)
		l.mu.Unlock()
		if err := sleepOrWake(ctx, w.wake, wait); err != nil {
			l.mu.Lock()
			l.leaveLocked(e)
			l.countWaitLocked(true, start)
			l.mu.Unlock()
			return nil, models.RateLimited(fmt.Errorf("claude: waiting for the model's %s: %w", reasonText(reason), err), reason, retry)
		}
		l.mu.Lock()
	}
}

func reasonText(reason string) string {
	if reason == models.WaitOverloaded {
		return "overload to pass"
	}
	return "rate limit"
}

// sleepOrWake waits d (for ever when d < 0) or until woken or ctx ends.
func sleepOrWake(ctx context.Context, wake <-chan struct{}, d time.Duration) error {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-timeout:
	}
	return nil
}

// waitBudget waits while the budget is spent.
func (l *Limiter) waitBudget(ctx context.Context) error {
	if l.budget == nil {
		return nil
	}
	counted := false
	for {
		ok, until, err := l.budget.Allow(ctx)
		if err != nil {
			return models.Transient(fmt.Errorf("claude: token budget: %w", err), 0)
		}
		if ok {
			return nil
		}
		if !counted {
			counted = true
			l.mu.Lock()
			l.stats.BudgetWaits++
			l.mu.Unlock()
		}
		d := min(max(time.Until(until), 100*time.Millisecond), time.Minute)
		if err := sleepOrWake(ctx, nil, d); err != nil {
			return models.RateLimited(fmt.Errorf("claude: the daily token budget is spent: %w", err), models.WaitBudget, time.Until(until))
		}
	}
}

func (l *Limiter) leaveLocked(e *list.Element) {
	wasFront := l.queue.Front() == e
	l.queue.Remove(e)
	if wasFront {
		l.wakeFrontLocked()
	}
}

func (l *Limiter) wakeFrontLocked() {
	if f := l.queue.Front(); f != nil {
		select {
		case f.Value.(*waiter).wake <- struct{}{}:
		default:
		}
	}
}

func (l *Limiter) countWaitLocked(waited bool, start time.Time) {
	if waited {
		l.stats.Waited++
		l.stats.WaitTime += time.Since(start)
	}
}

func (l *Limiter) knownLocked() bool {
	return l.dims[dimRequests].known() || l.dims[dimInput].known() || l.dims[dimOutput].known()
}

// neverFitsLocked refuses a call that no wait can make fit: its uncached
// input (at the low end of the estimate) exceeds the input tokens per
// minute, or its max_tokens the output tokens per minute.
func (l *Limiter) neverFitsLocked(est Estimate) error {
	in, out := &l.dims[dimInput], &l.dims[dimOutput]
	uncached := 0.6 * float64(est.InputTokens-est.CacheableTokens)
	if in.known() && uncached > in.limit {
		return models.Permanent(fmt.Errorf("claude: the request needs about %d input tokens, more than the account's limit of %.0f input tokens per minute", int64(uncached), in.limit))
	}
	if out.known() && float64(est.MaxOutputTokens) > out.limit {
		return models.Permanent(fmt.Errorf("claude: max_tokens %d is more than the account's limit of %.0f output tokens per minute", est.MaxOutputTokens, out.limit))
	}
	return nil
}

// costs of one call per dimension: what the pacer spaces by (the expected
// net cost) and what the server takes at admission.
func (l *Limiter) costsLocked(est Estimate) (pace, hold [3]float64) {
	in := float64(est.InputTokens) * l.inFactor
	out := l.outTokens
	if out == 0 {
		out = float64(est.MaxOutputTokens)
	}
	out = min(out, float64(est.MaxOutputTokens))
	return [3]float64{1, in, out}, [3]float64{1, in, float64(est.MaxOutputTokens)}
}

// admissionLocked returns whether the front caller may go now, or how long
// it must wait (-1: until a call finishes).
func (l *Limiter) admissionLocked(now time.Time, est Estimate) (time.Duration, bool) {
	if now.Before(l.pausedUntil) {
		return l.pausedUntil.Sub(now), false
	}
	limit := l.maxInFlight
	if !l.knownLocked() {
		limit = min(limit, int(l.cwnd))
	}
	if l.inFlight >= limit {
		return -1, false
	}
	pace, hold := l.costsLocked(est)
	backoff := l.backoff
	var wait time.Duration
	for i := range l.dims {
		wait = max(wait, l.dims[i].wait(now, pace[i], hold[i], backoff))
	}
	return wait, wait == 0
}

func (l *Limiter) admitLocked(now time.Time, est Estimate) *Permit {
	pace, hold := l.costsLocked(est)
	backoff := l.backoff
	for i := range l.dims {
		l.dims[i].take(now, pace[i], hold[i], backoff)
	}
	l.inFlight++
	l.stats.Admitted++
	l.stats.PeakInFlight = max(l.stats.PeakInFlight, l.inFlight)
	return &Permit{l: l, sent: now, rawIn: float64(est.InputTokens), in: pace[dimInput], out: pace[dimOutput], maxOut: hold[dimOutput]}
}

func (l *Limiter) waitReasonLocked(now time.Time) (string, time.Duration) {
	if now.Before(l.pausedUntil) {
		return l.pauseReason, l.pausedUntil.Sub(now)
	}
	return models.WaitRateLimit, 0
}

// Done reports how the call ended; it updates the Limiter's picture of the
// account and, for an answered call, spends its usage from the budget (the
// only error Done returns is the budget's). ctx is for the budget only.
func (p *Permit) Done(ctx context.Context, o Outcome) error {
	if !p.done.CompareAndSwap(false, true) {
		return nil
	}
	l := p.l
	l.mu.Lock()
	now := time.Now()
	l.inFlight--
	backoff := l.backoff
	switch {
	case o.Status == http.StatusTooManyRequests || o.Status == statusOverloaded:
		// Refused: the server took nothing, so everything goes back.
		l.dims[dimRequests].settle(now, 0, 1, backoff)
		l.dims[dimInput].settle(now, 0, p.in, backoff)
		l.dims[dimOutput].settle(now, 0, p.maxOut, backoff)
		l.refusedLocked(now, o)
	case o.Status == http.StatusOK:
		l.answeredLocked(now, p, o.Usage, backoff)
		l.stats.Usage.Add(o.Usage)
	default:
		// An error or no answer: nothing was generated.
		l.dims[dimOutput].settle(now, -p.out, p.maxOut, backoff)
	}
	if o.Header != nil {
		for i := range l.dims {
			h := readRateLimit(o.Header, l.dims[i].name)
			l.dims[i].observe(now, h.limit, h.remaining, h.hasRemaining)
		}
	}
	l.wakeFrontLocked()
	l.mu.Unlock()
	if o.Status == http.StatusOK && l.budget != nil && !o.Usage.IsZero() {
		return l.budget.Spend(ctx, o.Usage)
	}
	return nil
}

// answeredLocked settles a 200: input tokens counted towards the limit are
// the uncached ones plus cache writes (cache reads do not count), output
// tokens the generated ones; both calibrate the next estimates.
func (l *Limiter) answeredLocked(now time.Time, p *Permit, u models.LLMUsage, backoff float64) {
	counted := float64(u.InputTokens + u.CacheWriteTokens)
	actualOut := float64(u.OutputTokens)
	l.dims[dimInput].settle(now, counted-p.in, p.in-counted, backoff)
	l.dims[dimOutput].settle(now, actualOut-p.out, p.maxOut-actualOut, backoff)
	const weight = 0.1
	if p.rawIn > 0 && counted > 0 {
		l.inFactor = ewma(l.inFactor, counted/p.rawIn, weight)
	}
	l.inTokens = ewmaOrFirst(l.inTokens, counted, weight)
	l.outTokens = ewmaOrFirst(l.outTokens, actualOut, weight)
	l.latency = ewmaOrFirst(l.latency, now.Sub(p.sent).Seconds(), weight)
	l.overloads = 0
	// Quick back to just below the share that was refused, slowly beyond.
	step := 0.01
	if l.backoff >= 0.98*l.refusedAt {
		step = 0.001
	}
	l.backoff = min(1, l.backoff+step)
	if !l.knownLocked() {
		l.cwnd = min(float64(l.maxInFlight), l.cwnd+1)
	}
}

// refusedLocked pauses everyone after a 429 or 529.
func (l *Limiter) refusedLocked(now time.Time, o Outcome) {
	wait := retryAfter(&http.Response{Header: o.Header}, now)
	if o.Status == statusOverloaded {
		l.stats.Overloaded++
		l.overloads++
		if wait == 0 {
			// 1 s, 2 s, 4 s … 30 s, with jitter so processes do not return together.
			base := min(30*time.Second, time.Second<<min(l.overloads-1, 5))
			wait = time.Duration(float64(base) * (0.8 + 0.4*rand.Float64()))
		}
		l.pauseLocked(now.Add(wait), models.WaitOverloaded)
		return
	}
	l.stats.RateLimited++
	if wait == 0 {
		wait = resetWait(o.Header, now)
	}
	l.pauseLocked(now.Add(wait), models.WaitRateLimit)
	// One cut per pause: the 429s of calls sent together are one signal.
	if now.Sub(l.backoffAt) > wait {
		l.refusedAt = l.backoff
		l.backoff = max(0.5, l.backoff*0.8)
		l.backoffAt = now
	}
	if !l.knownLocked() {
		l.cwnd = max(1, math.Floor(l.cwnd/2))
	}
}

// resetWait is how long until an exhausted limit is replenished, per the
// -reset headers, when a 429 came without retry-after; one second if the
// headers do not say.
func resetWait(h http.Header, now time.Time) time.Duration {
	var wait time.Duration
	for _, family := range []string{"requests", "input-tokens", "output-tokens"} {
		r := readRateLimit(h, family)
		if r.hasRemaining && r.remaining < 1 && !r.reset.IsZero() {
			wait = max(wait, r.reset.Sub(now))
		}
	}
	if wait <= 0 {
		return time.Second
	}
	return min(wait, maxRetryAfter)
}

func (l *Limiter) pauseLocked(until time.Time, reason string) {
	if until.After(l.pausedUntil) {
		l.pausedUntil, l.pauseReason = until, reason
	}
}

func ewma(old, sample, weight float64) float64 { return old + weight*(sample-old) }

// ewmaOrFirst is ewma, or the sample itself when there is no mean yet.
func ewmaOrFirst(old, sample, weight float64) float64 {
	if old == 0 {
		return sample
	}
	return ewma(old, sample, weight)
}

// Desired is how many calls should be in flight or ready to go now: the
// paced rate times the mean latency (Little's law) with a fifth to spare,
// at most MaxInFlight. The pool uses it to decide how many emails to pull
// into the model stage; before the limits are known it is the slow-start
// window.
func (l *Limiter) Desired() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.desiredLocked(time.Now())
}

func (l *Limiter) desiredLocked(now time.Time) int {
	if !l.knownLocked() {
		return max(1, int(l.cwnd))
	}
	latency := l.latency
	if latency == 0 {
		latency = 1
	}
	n := math.Ceil(l.paceRPSLocked(now)*latency*1.2) + 1
	return int(min(max(n, 1), float64(l.maxInFlight)))
}

// paceRPSLocked is the call rate the binding limit allows now, for calls
// costing what answered calls cost on average.
func (l *Limiter) paceRPSLocked(now time.Time) float64 {
	pace := [3]float64{1, l.inTokens, l.outTokens}
	backoff := l.backoff
	rps := math.Inf(1)
	for i := range l.dims {
		if d := &l.dims[i]; d.known() && pace[i] > 0 {
			rps = min(rps, d.paceRate(now, backoff)/pace[i])
		}
	}
	if math.IsInf(rps, 1) {
		return 0
	}
	return rps
}

// Stats returns the Limiter's gauges and counters.
func (l *Limiter) Stats() LimiterStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	s := l.stats
	s.InFlight, s.Waiting, s.Desired = l.inFlight, l.queue.Len(), l.desiredLocked(now)
	s.PausedUntil = l.pausedUntil
	s.RequestsPerMinute = l.dims[dimRequests].limit
	s.InputTokensPerMinute = l.dims[dimInput].limit
	s.OutputTokensPerMinute = l.dims[dimOutput].limit
	s.PaceRPS = l.paceRPSLocked(now)
	return s
}
