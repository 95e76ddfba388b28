package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func TestLLMUsageSums(t *testing.T) {
	t.Parallel()
	a := models.LLMUsage{InputTokens: 300, OutputTokens: 120, CacheWriteTokens: 2500, Calls: 1}
	b := models.LLMUsage{InputTokens: 280, OutputTokens: 90, CacheReadTokens: 2500, Calls: 1, RateLimited: 2}
	sum := models.SumLLMUsage(a, b)
	require.Equal(t, models.LLMUsage{
		InputTokens: 580, OutputTokens: 210, CacheWriteTokens: 2500, CacheReadTokens: 2500, Calls: 2, RateLimited: 2,
	}, sum)
	require.Equal(t, int64(580+2500+2500), sum.PromptTokens())
	require.Equal(t, int64(580+2500+2500+210), sum.BudgetTokens())
	require.True(t, models.SumLLMUsage().IsZero())
	require.False(t, a.IsZero())
}

func TestRateLimitedIsTransientAndDistinct(t *testing.T) {
	t.Parallel()
	base := errors.New("waiting for the rate limit")
	err := models.RateLimited(base, models.WaitRateLimit, 7*time.Second)

	var transient *models.TransientError
	require.ErrorAs(t, err, &transient, "code that knows only transient errors still retries it")
	require.Equal(t, 7*time.Second, transient.RetryAfter)
	var waiting *models.RateLimitedError
	require.ErrorAs(t, err, &waiting)
	require.Equal(t, models.WaitRateLimit, waiting.Reason)
	require.ErrorIs(t, err, base)

	require.False(t, errors.As(models.Transient(base, 0), &waiting), "an ordinary transient error is an attempt failure")
	require.NoError(t, models.RateLimited(nil, models.WaitBudget, 0))
}

func TestUsageMeterOnContext(t *testing.T) {
	t.Parallel()
	var m models.UsageMeter
	ctx := models.WithUsageMeter(context.Background(), &m)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			models.UsageMeterFrom(ctx).Add(models.LLMUsage{InputTokens: 10, OutputTokens: 2, Calls: 1})
		})
	}
	wg.Wait()
	require.Equal(t, models.LLMUsage{InputTokens: 80, OutputTokens: 16, Calls: 8}, m.Total())

	// No meter on the context: adding is a no-op, the total is zero.
	none := models.UsageMeterFrom(context.Background())
	require.Nil(t, none)
	none.Add(models.LLMUsage{InputTokens: 1})
	require.True(t, none.Total().IsZero())
}
