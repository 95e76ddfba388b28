package claude

import (
	"context"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Budget is an optional spending cap the Limiter asks before every model
// call (LLM_DAILY_TOKEN_BUDGET, DESIGN.md §5: input + output tokens across
// all processes, reset at midnight Europe/Berlin). When Allow says no, the
// call waits until the returned time (re-asking at least every minute, as
// another process may reset or raise it): emails wait, none fail. Spend
// records the usage of every answered call. If ctx ends while waiting, the
// call returns a models.RateLimited error with reason models.WaitBudget (a
// wait, not an attempt failure). Implementations are shared by all calls of
// a process and must be safe for concurrent use: store.TokenBudget (the
// service's, in PostgreSQL, which also writes the day's budget_alert) and
// claudetest.Budget (tests).
type Budget interface {
	Allow(ctx context.Context) (ok bool, until time.Time, err error)
	Spend(ctx context.Context, usage models.LLMUsage) error
}
