package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// tokenBudget is the daily token budget LLM_DAILY_TOKEN_BUDGET, or nil
// when it is 0 (no budget).
func tokenBudget(cfg *config.Config, st *store.Store) claude.Budget {
	if cfg.LLMDailyTokenBudget <= 0 {
		return nil
	}
	return st.TokenBudget(cfg.LLMDailyTokenBudget)
}

// registerLLMMetrics registers matcher_llm_tokens_total{kind}: the tokens
// of every answered model call of this process, by kind (input = uncached
// input, output, cache_write, cache_read), read from the Limiter every
// call goes through.
func registerLLMMetrics(reg prometheus.Registerer, l *claude.Limiter) {
	kinds := []struct {
		kind string
		of   func(models.LLMUsage) int64
	}{
		{"input", func(u models.LLMUsage) int64 { return u.InputTokens }},
		{"output", func(u models.LLMUsage) int64 { return u.OutputTokens }},
		{"cache_write", func(u models.LLMUsage) int64 { return u.CacheWriteTokens }},
		{"cache_read", func(u models.LLMUsage) int64 { return u.CacheReadTokens }},
	}
	for _, k := range kinds {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "matcher_llm_tokens_total",
			Help:        "Tokens of answered model calls by kind: input (uncached), output, cache_write, cache_read.",
			ConstLabels: prometheus.Labels{"kind": k.kind},
		}, func() float64 { return float64(k.of(l.Stats().Usage)) }))
	}
}
