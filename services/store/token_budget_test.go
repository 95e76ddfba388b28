package store_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// clock is a settable time for TokenBudget.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	return loc
}

func (f fixture) budgetAlerts(t *testing.T) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	require.NoError(t, f.db.Where("aggregate_type = ?", models.OutboxBudgetAlert).Order("id").Find(&rows).Error)
	return rows
}

// TestTokenBudgetIsSharedAndAlertsOncePerDay: two processes (two
// TokenBudgets on one schema) count into one day; once the day's tokens are
// spent both wait until midnight in Europe/Berlin, and the day gets one
// budget_alert row however often and by whom it is found spent.
func TestTokenBudgetIsSharedAndAlertsOncePerDay(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// 23:00 in Berlin on 5 December (CET, UTC+1): 22:00 UTC.
	c := &clock{t: time.Date(2026, 12, 5, 23, 0, 0, 0, berlin(t))}
	a := f.st.TokenBudget(10_000).WithClock(c.now)
	b := f.st.TokenBudget(10_000).WithClock(c.now)

	ok, _, err := a.Allow(f.ctx)
	require.NoError(t, err)
	require.True(t, ok, "nothing spent yet")
	call := models.LLMUsage{InputTokens: 600, OutputTokens: 100, CacheWriteTokens: 2500, CacheReadTokens: 1800, Calls: 1}
	require.Equal(t, int64(5000), call.BudgetTokens(), "input + output tokens, cached or not")
	require.NoError(t, a.Spend(f.ctx, call))
	require.NoError(t, b.Spend(f.ctx, call))
	spent, err := f.st.LLMTokensOn(f.ctx, "2026-12-05")
	require.NoError(t, err)
	require.Equal(t, int64(10_000), spent, "both processes count into one row")
	require.Empty(t, f.budgetAlerts(t), "no alert before anyone waits")

	ok, until, err := b.Allow(f.ctx)
	require.NoError(t, err)
	require.False(t, ok, "the process that spent last knows at once")
	require.True(t, until.Equal(time.Date(2026, 12, 6, 0, 0, 0, 0, berlin(t))), "wait until midnight in Berlin, got %v", until)
	ok, _, err = a.Allow(f.ctx)
	require.NoError(t, err)
	require.True(t, ok, "the other process trusts its count for up to a second")
	c.add(2 * time.Second) // past budgetReread: a reads the shared count
	ok, _, err = a.Allow(f.ctx)
	require.NoError(t, err)
	require.False(t, ok, "the other process sees the shared count")
	for range 3 {
		ok, _, err = a.Allow(f.ctx)
		require.NoError(t, err)
		require.False(t, ok)
	}

	alerts := f.budgetAlerts(t)
	require.Len(t, alerts, 1, "one alert a day, whoever finds the budget spent")
	require.Equal(t, "budget_alert:2026-12-05", alerts[0].IdempotencyKey)
	require.Zero(t, alerts[0].AggregateID, "not about one email")
	var p models.BudgetAlertPayload
	require.NoError(t, json.Unmarshal(alerts[0].Payload, &p))
	require.Equal(t, "2026-12-05", p.Day)
	require.Equal(t, int64(10_000), p.Budget)
	require.Equal(t, int64(10_000), p.Spent)
	require.True(t, p.ResetAt.Equal(until))

	// Midnight in Berlin (23:00 UTC): a new day, a new count.
	c.add(time.Hour)
	ok, _, err = a.Allow(f.ctx)
	require.NoError(t, err)
	require.True(t, ok, "the budget resets at midnight Europe/Berlin")
	require.NoError(t, a.Spend(f.ctx, models.LLMUsage{InputTokens: 10_000}))
	spent, err = f.st.LLMTokensOn(f.ctx, "2026-12-06")
	require.NoError(t, err)
	require.Equal(t, int64(10_000), spent)
	spent, err = f.st.LLMTokensOn(f.ctx, "2026-12-05")
	require.NoError(t, err)
	require.Equal(t, int64(10_000), spent, "yesterday's count stays")
	ok, _, err = b.Allow(f.ctx)
	require.NoError(t, err)
	require.False(t, ok)
	alerts = f.budgetAlerts(t)
	require.Len(t, alerts, 2, "the new day alerts once again")
	require.Equal(t, "budget_alert:2026-12-06", alerts[1].IdempotencyKey)
}

// TestTokenBudgetReadsARaisedBudget: a budget found spent is read again on
// every ask, so a process started with a larger budget (or a counter reset
// by hand) lets calls go on the same day.
func TestTokenBudgetReadsARaisedBudget(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := &clock{t: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}
	small := f.st.TokenBudget(100).WithClock(c.now)
	require.NoError(t, small.Spend(f.ctx, models.LLMUsage{InputTokens: 150, OutputTokens: 50}))
	ok, until, err := small.Allow(f.ctx)
	require.NoError(t, err)
	require.False(t, ok)
	// Summer time in Berlin (UTC+2): midnight is 22:00 UTC.
	require.True(t, until.Equal(time.Date(2026, 7, 1, 22, 0, 0, 0, time.UTC)), "got %v", until.UTC())

	larger := f.st.TokenBudget(1000).WithClock(c.now)
	ok, _, err = larger.Allow(f.ctx)
	require.NoError(t, err)
	require.True(t, ok, "200 of 1000 spent")
	require.NoError(t, f.db.Exec(`UPDATE llm_token_days SET tokens = 0`).Error)
	ok, _, err = small.Allow(f.ctx)
	require.NoError(t, err)
	require.True(t, ok, "a spent budget is read again on every ask")
	require.NoError(t, small.Spend(f.ctx, models.LLMUsage{}), "nothing to spend is no statement")
}

// TestFinishRecordsTheAttemptsModelUsage: the attempt's usage meter is
// written by the statement that finishes the attempt, for every end.
func TestFinishRecordsTheAttemptsModelUsage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	usage := models.LLMUsage{InputTokens: 612, OutputTokens: 97, CacheWriteTokens: 2430, CacheReadTokens: 0, Calls: 1, RateLimited: 2}

	job := f.job(t, models.StatusExtracting, models.NewToken())
	job.LLM = new(models.UsageMeter)
	job.LLM.Add(usage)
	require.NoError(t, f.st.Finish(f.ctx, job, store.Retrying(1, time.Now().Add(time.Minute), "model answer malformed")))
	a := f.attempts(t, job.Email.ID)[0]
	require.Equal(t, models.OutcomeRetry, *a.Outcome)
	require.Equal(t, usage, a.LLMUsage())

	lost := f.job(t, models.StatusExtracting, models.NewToken())
	lost.LLM = new(models.UsageMeter)
	lost.LLM.Add(usage)
	require.NoError(t, f.st.LeaseLost(f.ctx, lost))
	require.Equal(t, usage, f.attempts(t, lost.Email.ID)[0].LLMUsage(), "a lost lease keeps what the calls cost")

	rules := f.job(t, models.StatusExtracted, models.NewToken()) // no meter: the rules extractor
	require.NoError(t, f.st.Finish(f.ctx, rules, store.NotCreditorReply()))
	require.True(t, f.attempts(t, rules.Email.ID)[0].LLMUsage().IsZero())
}
