package workers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
)

func TestRateLimitedAttemptKeepsRetryBudgetAndDoesNotAlert(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	var calls atomic.Int64
	done := completer(b.st, nil)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		if calls.Add(1) <= 3 {
			return "", models.RateLimited(errors.New("claude: waiting for the model's rate limit: deadline exceeded"), models.WaitRateLimit, 0)
		}
		return done(ctx, job)
	})
	cfg := b.poolConfig()
	cfg.Retry.MaxRetries = 1 // three rate-limited attempts would exhaust it, were they failures
	sched := NewScheduler(b.st, b.queue, 20*time.Millisecond, b.log)
	require.NoError(t, sched.Start(context.Background()))
	t.Cleanup(sched.Stop)
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, cfg, proc)

	e := b.waitStatus(t, id, models.StatusCompleted)
	require.Equal(t, 0, e.RetryCount, "waiting on the rate limit is no retry")
	a := b.attempts(t, id)
	require.Len(t, a, 4)
	for _, at := range a[:3] {
		require.Equal(t, models.OutcomeRateLimited, *at.Outcome)
		require.Contains(t, *at.Error, "rate limit")
	}
	require.EqualValues(t, 0, b.outboxCount(t, id, models.OutboxFailureAlert))
	require.EqualValues(t, 3, countOutcome(t, b, models.OutcomeRateLimited))
}

// TestParkedJobsGiveTheirSlotBack: jobs waiting on the model hold no worker
// slot, so the pool holds Concurrency + ModelDemand jobs, never more, while
// at most Concurrency run.
func TestParkedJobsGiveTheirSlotBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const demand, n = 10, 20
	var ids []uint64
	for i := 0; i < n; i++ {
		ids = append(ids, b.insertEmail(t, models.StatusQueued))
	}
	gate := make(chan struct{})
	var mu sync.Mutex
	running, peakRunning, waiting, peakWaiting := 0, 0, 0, 0
	step := func(dRun, dWait int) {
		mu.Lock()
		defer mu.Unlock()
		running += dRun
		waiting += dWait
		peakRunning, peakWaiting = max(peakRunning, running), max(peakWaiting, waiting)
	}
	done := completer(b.st, nil)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		step(1, 0)
		resume := background.Park(ctx)
		step(-1, 1)
		select { // the model answers when the test says
		case <-gate:
		case <-ctx.Done():
		}
		step(0, -1)
		if err := resume(ctx); err != nil {
			return "", err
		}
		step(1, 0)
		defer step(-1, 0)
		return done(ctx, job)
	})
	cfg := b.poolConfig()
	cfg.ModelDemand = func() int { return demand }
	pool := b.startPool(t, cfg, proc)
	require.NoError(t, b.queue.Push(context.Background(), ids...))

	want := cfg.Concurrency + demand
	apptest.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return waiting == want
	}, "%d jobs parked at once", want)
	held, parked := pool.slots.stats()
	require.Equal(t, want, held)
	require.Equal(t, want, parked)
	close(gate)
	for _, id := range ids {
		b.waitStatus(t, id, models.StatusCompleted)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, want, peakWaiting, "the pool holds Concurrency + ModelDemand jobs, no more")
	require.LessOrEqual(t, peakRunning, cfg.Concurrency, "at most Concurrency jobs run in slots")
	apptest.Eventually(t, 5*time.Second, func() bool { h, p := pool.slots.stats(); return h == 0 && p == 0 }, "slots all given back")
}

// TestBacklogDrainsAtTheModelsRateLimit runs a backlog through the real
// pipeline, the Claude extractor and its Limiter against the fake Messages
// API (1 s per answer, 20 requests/s): with 4 workers it must keep the
// account's rate × latency calls in flight (the 4 workers alone would keep
// 4), with few 429s, no failure, and few database connections. Counts, not
// times: the in-flight peak is what Little's law turns into throughput.
func TestBacklogDrainsAtTheModelsRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("drains 200 emails at 20 requests/s")
	}
	t.Parallel()
	b := setup(t)
	const n, rps, latency = 200, 20, time.Second
	srv := claudetest.New(claudetest.Options{
		Limits:  claudetest.Limits{RequestsPerMinute: rps * 60, InputTokensPerMinute: 100_000_000, OutputTokensPerMinute: 10_000_000},
		Latency: claudetest.FixedLatency(latency),
	})
	t.Cleanup(srv.Close)
	limiter := claude.NewLimiter(claude.LimiterConfig{})
	ex, err := claude.New(claude.Config{APIKey: "sk-test", BaseURL: srv.URL(), Limiter: limiter, HTTPClient: srv.Client()})
	require.NoError(t, err)
	proc := pipeline.New(b.st, ex, matcher.New(b.st, matcher.Config{AutoThreshold: 0.85, ReviewThreshold: 0.6, MinGap: 0.1}),
		debts.Writer{}, nil, pipeline.ParkWhileExtracting())

	var ids []uint64
	for i := 0; i < n; i++ {
		id := b.insertEmail(t, models.StatusQueued)
		body := fmt.Sprintf("Sehr geehrte Damen und Herren, die Forderung beträgt %d,00 EUR. Aktenzeichen AZ-%d", 100+i, i)
		require.NoError(t, b.db.Model(&models.IncomingEmail{}).Where("id = ?", id).Update("raw_body_text", body).Error)
		ids = append(ids, id)
	}
	cfg := b.poolConfig()
	cfg.Concurrency = 4
	cfg.JobTimeout = time.Minute
	cfg.ModelDemand = limiter.Desired
	b.startPool(t, cfg, proc)
	require.NoError(t, b.queue.Push(context.Background(), ids...))

	durable, err := b.db.DB.DB()
	require.NoError(t, err)
	peakConns := 0
	apptest.Eventually(t, 2*time.Minute, func() bool {
		peakConns = max(peakConns, durable.Stats().InUse)
		var left int64
		require.NoError(t, b.db.Model(&models.IncomingEmail{}).
			Where("processing_status NOT IN ?", []models.Status{models.StatusCompleted, models.StatusNotCreditorReply, models.StatusFailed}).
			Count(&left).Error)
		return left == 0
	}, "backlog drained")

	var failed int64
	require.NoError(t, b.db.Model(&models.IncomingEmail{}).Where("processing_status = ?", models.StatusFailed).Count(&failed).Error)
	require.Zero(t, failed, "no email fails")
	st := srv.Stats()
	require.LessOrEqual(t, float64(st.RateLimited), 0.05*float64(st.Requests), "at most 5 %% of calls answered 429 (%d of %d)", st.RateLimited, st.Requests)
	// Little's law: draining at 90 % of 20/s with 1 s answers needs 18 calls
	// in flight; the 4 workers alone would keep 4.
	require.GreaterOrEqual(t, st.PeakInFlight, int64(0.9*rps*latency.Seconds()), "calls in flight at the peak")
	require.LessOrEqual(t, st.PeakInFlight, int64(claude.DefaultMaxInFlight))
	require.LessOrEqual(t, peakConns, 2*cfg.Concurrency, "parked jobs hold no database connection")
	var retried int64
	require.NoError(t, b.db.Model(&models.IncomingEmail{}).Where("retry_count > 0").Count(&retried).Error)
	require.Zero(t, retried)
}
