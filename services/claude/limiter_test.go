package claude

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

// account is what a response's anthropic-ratelimit-* headers say.
type account struct {
	rpm, remRequests, itpm, remInput, otpm, remOutput int64
}

func (a account) header() http.Header {
	h := http.Header{}
	set := func(family string, limit, remaining int64) {
		if limit == 0 {
			return
		}
		h.Set("anthropic-ratelimit-"+family+"-limit", strconv.FormatInt(limit, 10))
		h.Set("anthropic-ratelimit-"+family+"-remaining", strconv.FormatInt(remaining, 10))
		h.Set("anthropic-ratelimit-"+family+"-reset", time.Now().Add(time.Second).UTC().Format(time.RFC3339))
	}
	set("requests", a.rpm, a.remRequests)
	set("input-tokens", a.itpm, a.remInput)
	set("output-tokens", a.otpm, a.remOutput)
	return h
}

var smallCall = Estimate{InputTokens: 1000, CacheableTokens: 0, MaxOutputTokens: 200}

func answered(h http.Header) Outcome {
	return Outcome{Status: http.StatusOK, Header: h, Usage: models.LLMUsage{InputTokens: 800, OutputTokens: 100, Calls: 1}}
}

func acquire(t *testing.T, l *Limiter, est Estimate) *Permit {
	t.Helper()
	p, err := l.Acquire(t.Context(), est)
	require.NoError(t, err)
	return p
}

// acquireWithin tries to acquire within d; it returns the error when the
// limiter made the caller wait longer.
func acquireWithin(t *testing.T, l *Limiter, est Estimate, d time.Duration) (*Permit, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	return l.Acquire(ctx, est)
}

func requireWaiting(t *testing.T, err error, reason string) *models.TransientError {
	t.Helper()
	var waiting *models.RateLimitedError
	require.ErrorAs(t, err, &waiting, "a wait, not a failure")
	require.Equal(t, reason, waiting.Reason)
	var transient *models.TransientError
	require.ErrorAs(t, err, &transient)
	var permanent *models.PermanentError
	require.False(t, errors.As(err, &permanent))
	return transient
}

func TestLimiterStartsWithOneCallUntilHeadersArrive(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	require.Equal(t, 1, l.Desired())
	first := acquire(t, l, smallCall)

	_, err := acquireWithin(t, l, smallCall, 100*time.Millisecond)
	requireWaiting(t, err, models.WaitRateLimit)

	require.NoError(t, first.Done(t.Context(), answered(account{rpm: 600, remRequests: 599}.header())))
	second := acquire(t, l, smallCall)
	require.NoError(t, second.Done(t.Context(), answered(nil)))

	s := l.Stats()
	require.Equal(t, float64(600), s.RequestsPerMinute)
	require.InDelta(t, 600.0/60*paceTarget, s.PaceRPS, 0.01, "paced at 95 % of the binding limit")
	require.Equal(t, int64(2), s.Admitted)
	require.Equal(t, int64(1), s.Waited)
	require.Zero(t, s.InFlight)
}

func TestLimiterWithoutHeadersGrowsItsWindow(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	for want := 1; want <= 4; want++ {
		var permits []*Permit
		for range want {
			permits = append(permits, acquire(t, l, smallCall))
		}
		_, err := acquireWithin(t, l, smallCall, 50*time.Millisecond)
		requireWaiting(t, err, models.WaitRateLimit)
		require.Equal(t, want, l.Desired())
		// Done of the first before the others go: the window grows by one per answer.
		require.NoError(t, permits[0].Done(t.Context(), answered(nil)))
		for _, p := range permits[1:] {
			require.NoError(t, p.Done(t.Context(), Outcome{Status: http.StatusInternalServerError}))
		}
	}
}

func TestLimiterPacingFollowsTheHeaders(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(account{rpm: 6000, remRequests: 5999, itpm: 8_000_000, remInput: 8_000_000, otpm: 800_000, remOutput: 800_000}.header())))
	require.InDelta(t, 6000.0/60*paceTarget, l.Stats().PaceRPS, 0.5, "requests bind")

	// The output limit drops to 6,000 a minute: at about 100 output tokens a
	// call it now binds, below one call a second.
	p = acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(account{rpm: 6000, remRequests: 5999, itpm: 8_000_000, remInput: 8_000_000, otpm: 6000, remOutput: 6000}.header())))
	s := l.Stats()
	require.Less(t, s.PaceRPS, 1.0)
	require.Equal(t, float64(6000), s.OutputTokensPerMinute)

	// So the next call is paced: it does not go at once.
	acquire(t, l, smallCall)
	_, err := acquireWithin(t, l, smallCall, 150*time.Millisecond)
	requireWaiting(t, err, models.WaitRateLimit)
}

func TestLimiter429PausesEveryoneAndBacksOff(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	h := account{rpm: 600, remRequests: 500}.header()
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(h)))
	before := l.Stats().PaceRPS

	// Refused although the account has requests left (the API may enforce
	// over shorter intervals than the minute): the pace itself backs off.
	p = acquire(t, l, smallCall)
	h = account{rpm: 600, remRequests: 498}.header()
	h.Set("retry-after", "2")
	require.NoError(t, p.Done(t.Context(), Outcome{Status: http.StatusTooManyRequests, Header: h}))

	s := l.Stats()
	require.Equal(t, int64(1), s.RateLimited)
	require.WithinDuration(t, time.Now().Add(2*time.Second), s.PausedUntil, 500*time.Millisecond, "retry-after honoured")
	require.InDelta(t, before*0.8, s.PaceRPS, before*0.05, "the rate estimate backs off")
	for range 3 {
		_, err := acquireWithin(t, l, smallCall, 100*time.Millisecond)
		transient := requireWaiting(t, err, models.WaitRateLimit)
		require.Greater(t, transient.RetryAfter, time.Second, "the pause's end is when to try again")
	}
}

func TestLimiter529PausesWithBackoff(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), Outcome{Status: statusOverloaded, Header: http.Header{}}))
	s := l.Stats()
	require.Equal(t, int64(1), s.Overloaded)
	require.True(t, s.PausedUntil.After(time.Now().Add(500*time.Millisecond)))
	_, err := acquireWithin(t, l, smallCall, 100*time.Millisecond)
	requireWaiting(t, err, models.WaitOverloaded)
}

func TestLimiterNeverExceedsItsCeiling(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{MaxInFlight: 3})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(account{rpm: 60_000, remRequests: 60_000}.header())))

	var permits []*Permit
	for range 3 {
		permits = append(permits, acquire(t, l, smallCall))
	}
	_, err := acquireWithin(t, l, smallCall, 100*time.Millisecond)
	requireWaiting(t, err, models.WaitRateLimit)
	require.Equal(t, 3, l.Stats().InFlight)

	require.NoError(t, permits[0].Done(t.Context(), answered(nil)))
	acquire(t, l, smallCall)
	require.Equal(t, 3, l.Stats().PeakInFlight)
	require.LessOrEqual(t, l.Desired(), 3)
}

func TestLimiterRefusesACallThatCanNeverFit(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(account{itpm: 10_000, remInput: 10_000, otpm: 500, remOutput: 500}.header())))

	_, err := l.Acquire(t.Context(), Estimate{InputTokens: 1000, MaxOutputTokens: 1024})
	var permanent *models.PermanentError
	require.ErrorAs(t, err, &permanent)
	require.Contains(t, err.Error(), "500 output tokens per minute")

	_, err = l.Acquire(t.Context(), Estimate{InputTokens: 40_000, MaxOutputTokens: 100})
	require.ErrorAs(t, err, &permanent)
	require.Contains(t, err.Error(), "10000 input tokens per minute")

	// The cached part of a prompt does not count towards the input limit.
	p, err = l.Acquire(t.Context(), Estimate{InputTokens: 40_000, CacheableTokens: 35_000, MaxOutputTokens: 100})
	require.NoError(t, err)
	require.NoError(t, p.Done(t.Context(), answered(nil)))
}

func TestLimiterYieldsToAnotherProcessOnTheAccount(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterConfig{})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(account{rpm: 6000, remRequests: 6000}.header())))
	alone := l.Stats().PaceRPS

	// The account's remaining requests fall faster than this process spends
	// them: someone else uses the account.
	for _, remaining := range []int64{5000, 4000, 3000} {
		p := acquire(t, l, smallCall)
		require.NoError(t, p.Done(t.Context(), answered(account{rpm: 6000, remRequests: remaining}.header())))
	}
	shared := l.Stats().PaceRPS
	require.Less(t, shared, alone*0.5, "its own share shrinks by what the others use")
	require.GreaterOrEqual(t, shared, 6000.0/60*minShare, "but never to nothing")
}

func TestLimiterWaitsForTheBudget(t *testing.T) {
	t.Parallel()
	budget := claudetest.NewBudget(1000, time.Now().Add(300*time.Millisecond))
	l := NewLimiter(LimiterConfig{Budget: budget})
	p := acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(nil))) // 900 tokens
	p = acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(nil))) // 1800: spent
	spent, _ := budget.Spent()
	require.Equal(t, int64(1800), spent)

	_, err := acquireWithin(t, l, smallCall, 50*time.Millisecond)
	requireWaiting(t, err, models.WaitBudget)

	// Emails wait, none fail: once the budget resets, calls go again.
	p = acquire(t, l, smallCall)
	require.NoError(t, p.Done(t.Context(), answered(nil)))
	_, denied := budget.Spent()
	require.Positive(t, denied)
	require.Equal(t, int64(2), l.Stats().BudgetWaits)
}
