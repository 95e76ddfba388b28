package claudetest

import (
	"context"
	"sync"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Budget is an in-memory daily token budget for tests: it satisfies
// claude.Budget. Calls are allowed while fewer than Limit tokens
// (models.LLMUsage.BudgetTokens) were spent; once spent, Allow says to wait
// until ResetAt, and at ResetAt the spending starts again from zero.
type Budget struct {
	mu      sync.Mutex
	limit   int64
	resetAt time.Time
	spent   int64
	denied  int
}

// NewBudget returns a budget of limit tokens that resets at resetAt.
func NewBudget(limit int64, resetAt time.Time) *Budget {
	return &Budget{limit: limit, resetAt: resetAt}
}

// Allow reports whether a call may be made now, or until when to wait.
func (b *Budget) Allow(_ context.Context) (bool, time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !time.Now().Before(b.resetAt) {
		b.spent = 0
		b.resetAt = b.resetAt.Add(24 * time.Hour)
	}
	if b.spent < b.limit {
		return true, time.Time{}, nil
	}
	b.denied++
	return false, b.resetAt, nil
}

// Spend records the tokens of an answered call.
func (b *Budget) Spend(_ context.Context, u models.LLMUsage) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.spent += u.BudgetTokens()
	return nil
}

// Spent returns the tokens spent since the last reset and how often Allow said no.
func (b *Budget) Spent() (tokens int64, denied int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent, b.denied
}
