package store

import (
	"context"
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Europe/Berlin even in an image without zoneinfo

	"github.com/lawfirm/creditor-email-matcher/models"
)

// budgetZone is where a budget day begins and ends (DESIGN.md §5).
var budgetZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic("embedded tzdata lacks Europe/Berlin: " + err.Error())
	}
	return loc
}()

// budgetReread is how long a process trusts the day's count it last read
// or wrote while the budget is not spent: the other processes' spending
// reaches it within this time. An overshoot is bounded anyway by the calls
// in flight when the budget runs out, which are answered and counted.
const budgetReread = time.Second

// TokenBudget is the daily token budget LLM_DAILY_TOKEN_BUDGET: at most
// Limit input + output tokens (models.LLMUsage.BudgetTokens) a day,
// counted across all processes in llm_token_days, one row per day in
// Europe/Berlin. It implements claude.Budget: the Limiter asks Allow
// before every model call and Spend after every answered one. When the
// day's tokens are spent, Allow says to wait until the next midnight in
// Europe/Berlin (the Limiter re-asks at least every minute, so a raised
// budget or a reset counter lets calls go on) and writes the day's one
// budget_alert outbox row (idempotency key budget_alert:YYYY-MM-DD, so
// several processes write one), which the outbox mails to NOTIFY_EMAIL.
type TokenBudget struct {
	st    *Store
	limit int64
	now   func() time.Time

	mu      sync.Mutex
	day     string // the day spent counts for
	spent   int64
	readAt  time.Time
	alerted string // the day whose alert this process wrote
}

// TokenBudget returns the daily budget of limit tokens (> 0) on s.
func (s *Store) TokenBudget(limit int64) *TokenBudget {
	return &TokenBudget{st: s, limit: limit, now: time.Now}
}

// WithClock makes b read the time from now (tests).
func (b *TokenBudget) WithClock(now func() time.Time) *TokenBudget {
	b.now = now
	return b
}

// budgetDay is t's day in Europe/Berlin and that day's end.
func budgetDay(t time.Time) (day string, end time.Time) {
	local := t.In(budgetZone)
	y, m, d := local.Date()
	return local.Format(time.DateOnly), time.Date(y, m, d+1, 0, 0, 0, 0, budgetZone)
}

// Allow reports whether a model call may go now or, when the day's budget
// is spent, until when to wait.
func (b *TokenBudget) Allow(ctx context.Context) (bool, time.Time, error) {
	now := b.now()
	day, end := budgetDay(now)
	b.mu.Lock()
	spent, fresh := b.spent, b.day == day && now.Sub(b.readAt) < budgetReread && b.spent < b.limit
	b.mu.Unlock()
	if !fresh {
		var err error
		if spent, err = b.st.LLMTokensOn(ctx, day); err != nil {
			return false, time.Time{}, err
		}
		b.remember(day, spent, now)
	}
	if spent < b.limit {
		return true, time.Time{}, nil
	}
	if err := b.alert(ctx, day, spent, now, end); err != nil {
		return false, time.Time{}, err
	}
	return false, end, nil
}

// Spend adds the tokens of an answered call to the day's count.
func (b *TokenBudget) Spend(ctx context.Context, u models.LLMUsage) error {
	tokens := u.BudgetTokens()
	if tokens <= 0 {
		return nil
	}
	now := b.now()
	day, _ := budgetDay(now)
	var total int64
	err := b.st.async.WithContext(ctx).Raw(`INSERT INTO llm_token_days (day, tokens) VALUES (?, ?)
ON CONFLICT (day) DO UPDATE SET tokens = llm_token_days.tokens + EXCLUDED.tokens, updated_at = now()
RETURNING tokens`, day, tokens).Row().Scan(&total)
	if err != nil {
		return fmt.Errorf("spend llm tokens: %w", err)
	}
	b.remember(day, total, now)
	return nil
}

// remember keeps the day's count last read or written.
func (b *TokenBudget) remember(day string, spent int64, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if day != b.day || !at.Before(b.readAt) {
		b.day, b.spent, b.readAt = day, spent, at
	}
}

// alert writes the day's budget_alert row, once per process and day (and
// once in all, by its idempotency key).
func (b *TokenBudget) alert(ctx context.Context, day string, spent int64, now, end time.Time) error {
	b.mu.Lock()
	done := b.alerted == day
	b.mu.Unlock()
	if done {
		return nil
	}
	p := models.BudgetAlertPayload{Day: day, Budget: b.limit, Spent: spent, SpentAt: now.UTC(), ResetAt: end.UTC()}
	err := b.st.db.WithContext(ctx).Exec(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
VALUES (?, 0, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		models.OutboxBudgetAlert, models.MustJSON(p), models.BudgetAlertKey(day)).Error
	if err != nil {
		return fmt.Errorf("write budget alert: %w", err)
	}
	b.mu.Lock()
	b.alerted = day
	b.mu.Unlock()
	return nil
}

// LLMTokensOn returns the model tokens counted for day (2006-01-02, Europe/Berlin).
func (s *Store) LLMTokensOn(ctx context.Context, day string) (int64, error) {
	var rows []int64
	err := s.async.WithContext(ctx).Raw(`SELECT tokens FROM llm_token_days WHERE day = ?`, day).Find(&rows).Error
	if err != nil {
		return 0, fmt.Errorf("read llm tokens: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0], nil
}
