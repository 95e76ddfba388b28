package claude

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

func TestExtractWaitsOutA429AndTriesAgain(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{})
	api.FailNext(claudetest.Failure{Status: 429, Message: "Number of requests has exceeded your per-minute rate limit", Header: map[string]string{"retry-after": "1"}})

	got, usage, err := e.ExtractWithUsage(t.Context(), testEmail())
	require.NoError(t, err, "a rate limit answer is not an error of the email")
	require.InDelta(t, 1234.56, *got.DebtAmount, 0.001)
	require.Equal(t, 1, usage.Calls)
	require.Equal(t, 1, usage.RateLimited, "the 429 is counted apart")
	require.Positive(t, usage.InputTokens)
	s := api.Stats()
	require.Equal(t, int64(2), s.Requests)
	require.Equal(t, int64(1), s.RateLimited)
	require.Equal(t, int64(1), e.limiter.Stats().RateLimited)
	require.GreaterOrEqual(t, e.limiter.Stats().WaitTime, 900*time.Millisecond, "retry-after was honoured")
}

func TestExtractWaitsOutOverload(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{})
	api.FailNext(claudetest.Failure{Status: 529, Message: "Overloaded", Header: map[string]string{"retry-after": "1"}})

	_, usage, err := e.ExtractWithUsage(t.Context(), testEmail())
	require.NoError(t, err)
	require.Equal(t, 1, usage.RateLimited)
	require.Equal(t, int64(1), api.Stats().Overloaded)
}

func TestExtractRateLimitedUntilItsContextEnds(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{})
	api.FailNext(claudetest.Failure{Status: 429, Message: "slow down", Header: map[string]string{"retry-after": "60"}})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()

	_, usage, err := e.ExtractWithUsage(ctx, testEmail())
	var waiting *models.RateLimitedError
	require.ErrorAs(t, err, &waiting, "not an attempt failure: the pool requeues it without counting")
	require.Equal(t, models.WaitRateLimit, waiting.Reason)
	var transient *models.TransientError
	require.ErrorAs(t, err, &transient)
	require.Greater(t, transient.RetryAfter, 50*time.Second, "when to come back")
	var permanent *models.PermanentError
	require.False(t, errors.As(err, &permanent))
	require.Equal(t, 1, usage.RateLimited)
	require.Zero(t, usage.Calls)
	require.Equal(t, int64(1), api.Stats().Requests, "nothing is sent during the pause")
}

func TestExtractFailsPermanentlyWhenTheCallCanNeverFit(t *testing.T) {
	t.Parallel()
	// 1,000 output tokens a minute cannot hold max_tokens of 1,024.
	e, api := setup(t, claudetest.Options{Limits: claudetest.Limits{OutputTokensPerMinute: 1000}})

	_, usage, err := e.ExtractWithUsage(t.Context(), testEmail())
	var permanent *models.PermanentError
	require.ErrorAs(t, err, &permanent)
	require.Contains(t, err.Error(), "1000 output tokens per minute")
	require.Equal(t, 1, usage.RateLimited)
	require.Equal(t, int64(1), api.Stats().Requests, "the API's 429 taught the limit; no second try")
}

func TestExtractUsesTheCachedPrefix(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{})
	var total models.LLMUsage
	for i := range 3 {
		_, u, err := e.ExtractWithUsage(t.Context(), testEmail())
		require.NoError(t, err)
		if i == 0 {
			require.Positive(t, u.CacheWriteTokens, "the first call writes the prefix")
			require.Zero(t, u.CacheReadTokens)
		} else {
			require.Zero(t, u.CacheWriteTokens)
			require.Positive(t, u.CacheReadTokens, "later calls read it")
			require.Greater(t, u.CacheReadTokens, 4*u.InputTokens, "most of the prompt is the cached prefix")
		}
		total.Add(u)
	}
	s := api.Stats()
	require.Equal(t, models.LLMUsage{
		InputTokens: s.InputTokens, OutputTokens: s.OutputTokens,
		CacheWriteTokens: s.CacheCreationTokens, CacheReadTokens: s.CacheReadTokens, Calls: 3,
	}, total, "usage is what the API reported, summed")
}

// TestConcurrentExtractsStayWithinTheLimits runs many calls through one
// Limiter against an account limited to 20 requests a second (enforced
// over one second) and a ceiling of 4 calls in flight: all succeed, the
// ceiling holds, and hardly any call is refused.
func TestConcurrentExtractsStayWithinTheLimits(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{
		Limits:  claudetest.Limits{RequestsPerMinute: 1200, InputTokensPerMinute: 3_000_000, OutputTokensPerMinute: 300_000, Burst: time.Second},
		Latency: claudetest.FixedLatency(50 * time.Millisecond),
	}, func(c *Config) { c.Limiter = NewLimiter(LimiterConfig{MaxInFlight: 4}) })

	const calls = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total models.LLMUsage
	for range calls {
		wg.Go(func() {
			_, u, err := e.ExtractWithUsage(t.Context(), testEmail())
			require.NoError(t, err)
			mu.Lock()
			total.Add(u)
			mu.Unlock()
		})
	}
	wg.Wait()
	s := api.Stats()
	t.Logf("fake API: %+v; limiter: %+v", s, e.limiter.Stats())
	require.Equal(t, int64(calls), s.Succeeded)
	require.LessOrEqual(t, s.PeakInFlight, int64(4), "never more in flight than allowed")
	require.LessOrEqual(t, s.RateLimited, int64(2), "at most a few 429s")
	require.Equal(t, calls, total.Calls)
	require.Equal(t, int(s.RateLimited), total.RateLimited)
	require.Equal(t, s.CacheReadTokens, total.CacheReadTokens)
	require.Zero(t, e.limiter.Stats().InFlight)
}

// TestTwoProcessesShareOneAccount runs two extractors with their own
// Limiters against one account, as two worker processes would: the
// headers' account-wide remaining counts make them yield to each other.
func TestTwoProcessesShareOneAccount(t *testing.T) {
	t.Parallel()
	e1, api := setup(t, claudetest.Options{
		Limits:  claudetest.Limits{RequestsPerMinute: 1200, Burst: time.Second},
		Latency: claudetest.FixedLatency(50 * time.Millisecond),
	})
	e2, err := New(Config{APIKey: testAPIKey, BaseURL: api.URL(), HTTPClient: api.Client()})
	require.NoError(t, err)

	const perProcess = 40
	var wg sync.WaitGroup
	for _, e := range []*Extractor{e1, e2} {
		for range perProcess {
			wg.Go(func() {
				_, _, err := e.ExtractWithUsage(t.Context(), testEmail())
				require.NoError(t, err)
			})
		}
	}
	wg.Wait()
	s := api.Stats()
	t.Logf("fake API: %+v", s)
	require.Equal(t, int64(2*perProcess), s.Succeeded)
	require.LessOrEqual(t, s.RateLimited, int64(2*perProcess)/5, "the processes settle instead of fighting")
}

// TestSendAddsEveryCallToTheAttemptsMeter: the usage of every call, and the
// 429s waited out, reach the meter the attempt's context carries, exactly
// as the fake API reported them in each response's usage object.
func TestSendAddsEveryCallToTheAttemptsMeter(t *testing.T) {
	t.Parallel()
	e, api := setup(t, claudetest.Options{})
	api.FailNext(claudetest.Failure{Status: 429, Message: "slow down", Header: map[string]string{"retry-after": "0"}})
	var meter models.UsageMeter
	ctx := models.WithUsageMeter(t.Context(), &meter)
	for range 2 {
		_, err := e.Extract(ctx, testEmail())
		require.NoError(t, err)
	}
	s := api.Stats()
	require.Equal(t, models.LLMUsage{
		InputTokens: s.InputTokens, OutputTokens: s.OutputTokens,
		CacheWriteTokens: s.CacheCreationTokens, CacheReadTokens: s.CacheReadTokens, Calls: 2, RateLimited: 1,
	}, meter.Total())
	require.Equal(t, meter.Total().InputTokens, e.limiter.Stats().Usage.InputTokens, "the metrics count the same calls")
}
