package main

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
	"github.com/lawfirm/creditor-email-matcher/services/parser"
)

// result is one setting's figures, in real-world (unscaled) units.
type result struct {
	setting
	emails, failures int
	elapsed          time.Duration // first call to last answer
	steady           float64       // emails/s between 10 % and 90 % done
	binding          float64       // requests/s the binding limit allows
	bindingName      string
	ceiling          float64 // requests/s the in-flight ceiling allows (Little's law)
	requests         int64
	succeeded        int64 // model calls answered 200
	rateLimited      int64
	peakInFlight     int64
	perEmail         models.LLMUsage // mean tokens per email (Calls unused)
	cachedShare      float64         // cache reads ÷ all prompt tokens
	peakHeap         uint64
	scale            float64 // time compression used
}

// run drains one backlog through o.processes extractors sharing one account.
func run(ctx context.Context, s setting, o options) (result, error) {
	k := compression(s, o)
	n := o.backlog
	if n == 0 {
		// Long enough that the latency's spread does not blur the steady part.
		n = max(300, int(math.Ceil(s.rps*max(30, 6*s.latency.Seconds()))))
	}
	itpm, otpm := limitsOf(s, o)
	median := time.Duration(float64(s.latency) / k)
	latency := claudetest.LogNormalLatency(median, 2*median, 1)
	if o.fixed {
		latency = claudetest.FixedLatency(median)
	}
	srv := claudetest.New(claudetest.Options{
		Limits: claudetest.Limits{
			RequestsPerMinute:     int64(math.Round(s.rps * 60 * k)),
			InputTokensPerMinute:  int64(float64(itpm) * k),
			OutputTokensPerMinute: int64(float64(otpm) * k),
			Burst:                 time.Duration(float64(o.burst) / k),
		},
		Latency: latency,
	})
	defer srv.Close()

	backlog := make(chan models.EmailInput, n)
	for _, in := range emails(n) {
		backlog <- in
	}
	close(backlog)

	var (
		mu       sync.Mutex
		finished []time.Duration
		failures int
	)
	start := time.Now()
	stopHeap := sampleHeap()
	var wg sync.WaitGroup
	for range o.processes {
		lim := claude.NewLimiter(claude.LimiterConfig{MaxInFlight: o.maxInFlight})
		e, err := claude.New(claude.Config{APIKey: "sk-bench", BaseURL: srv.URL(), Timeout: time.Hour, Limiter: lim})
		if err != nil {
			return result{}, err
		}
		if o.verbose > 0 {
			stop := watch(lim, srv, o.verbose)
			defer stop()
		}
		wg.Go(func() {
			feed(ctx, lim, backlog, func(in models.EmailInput) {
				_, _, err := e.ExtractWithUsage(ctx, in)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures++
					return
				}
				finished = append(finished, time.Since(start))
			})
		})
	}
	wg.Wait()
	peakHeap := stopHeap()
	if err := ctx.Err(); err != nil {
		return result{}, fmt.Errorf("run did not finish in time: %w", err)
	}
	return summarize(s, o, n, failures, finished, srv.Stats(), peakHeap), nil
}

// feed emulates the pool's model stage: it keeps as many emails in the
// stage as the Limiter wants (Desired: paced rate × latency), pulling more
// as calls finish, and returns when the backlog is drained.
func feed(ctx context.Context, lim *claude.Limiter, backlog <-chan models.EmailInput, extract func(models.EmailInput)) {
	var active atomic.Int64
	done := make(chan struct{}, 1024)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	drained := false
	for !drained || active.Load() > 0 {
		for !drained && active.Load() < int64(lim.Desired()) {
			in, ok := <-backlog
			if !ok {
				drained = true
				break
			}
			active.Add(1)
			go func() {
				extract(in)
				active.Add(-1)
				select {
				case done <- struct{}{}:
				default:
				}
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-done:
		case <-tick.C:
		}
	}
}

// watch prints the Limiter's stats every d until the returned func is called.
func watch(lim *claude.Limiter, srv *claudetest.Server, d time.Duration) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s, f := lim.Stats(), srv.Stats()
				fmt.Printf("  limiter: in flight %d, waiting %d, desired %d, pace %.2f/s, admitted %d, waited %d, 429s %d; API: %d requests, %d answered\n",
					s.InFlight, s.Waiting, s.Desired, s.PaceRPS, s.Admitted, s.Waited, s.RateLimited, f.Requests, f.Succeeded)
			}
		}
	})
	return func() { close(stop); wg.Wait() }
}

// emails renders n cleaned replies of the benchmark corpus, as the
// pipeline hands them to the extractor.
func emails(n int) []models.EmailInput {
	corpus := webhooks.NewCorpus(7, 500)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	out := make([]models.EmailInput, n)
	for i := range out {
		r := corpus.Reply(i, at)
		p := parser.Parse(r.BodyHTML, r.BodyText)
		out[i] = models.EmailInput{FromEmail: r.FromEmail, FromName: r.FromName, Subject: r.Subject, CleanedBody: p.Text}
	}
	return out
}

// sampleHeap samples the Go heap in use until the returned func is called,
// which returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(stop)
		wg.Wait()
		return peak.Load()
	}
}

// compression is how much a setting's time is compressed.
func compression(s setting, o options) float64 {
	return max(1, min(o.scale, o.maxRate/s.rps))
}

// summarize turns wall-clock observations into real-world figures.
func summarize(s setting, o options, n, failures int, finished []time.Duration, st claudetest.Stats, peakHeap uint64) result {
	k := compression(s, o)
	r := result{setting: s, emails: n, failures: failures, requests: st.Requests, succeeded: st.Succeeded, rateLimited: st.RateLimited,
		peakInFlight: st.PeakInFlight, peakHeap: peakHeap, scale: k}
	slices.Sort(finished)
	if len(finished) > 0 {
		r.elapsed = time.Duration(float64(finished[len(finished)-1]) * k)
	}
	if lo, hi := len(finished)/10, len(finished)*9/10; hi > lo {
		if span := (finished[hi-1] - finished[lo]).Seconds() * k; span > 0 {
			r.steady = float64(hi-1-lo) / span
		}
	}
	ok := float64(max(st.Succeeded, 1))
	r.perEmail = models.LLMUsage{
		InputTokens: int64(float64(st.InputTokens) / ok), OutputTokens: int64(float64(st.OutputTokens) / ok),
		CacheWriteTokens: int64(float64(st.CacheCreationTokens) / ok), CacheReadTokens: int64(float64(st.CacheReadTokens) / ok),
	}
	if prompt := st.InputTokens + st.CacheCreationTokens + st.CacheReadTokens; prompt > 0 {
		r.cachedShare = float64(st.CacheReadTokens) / float64(prompt)
	}
	// The binding limit for this mix: what each limit allows per second at
	// the tokens a call really counted (uncached input + cache writes; the
	// output generated).
	itpm, otpm := limitsOf(s, o)
	counted := float64(st.InputTokens+st.CacheCreationTokens) / ok
	out := float64(st.OutputTokens) / ok
	r.binding, r.bindingName = s.rps, "requests"
	if v := float64(itpm) / 60 / counted; counted > 0 && v < r.binding {
		r.binding, r.bindingName = v, "input tokens"
	}
	if v := float64(otpm) / 60 / out; out > 0 && v < r.binding {
		r.binding, r.bindingName = v, "output tokens"
	}
	mean := s.latency.Seconds()
	if !o.fixed {
		sigma := math.Ln2 / 1.2815515655446004 // p90 = 2 × median
		mean *= math.Exp(sigma * sigma / 2)
	}
	r.ceiling = float64(o.maxInFlight*o.processes) / mean
	return r
}

// limitsOf is the account's token limits per minute (real units): the
// flags', or ample ones so that requests bind.
func limitsOf(s setting, o options) (itpm, otpm int64) {
	itpm, otpm = o.itpm, o.otpm
	if itpm == 0 {
		itpm = int64(s.rps * 60 * 20_000) // ample: about 500 counted per call
	}
	if otpm == 0 {
		otpm = int64(s.rps * 60 * 5_000) // ample, also for max_tokens held in flight
	}
	return itpm, otpm
}
