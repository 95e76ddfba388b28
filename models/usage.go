package models

import (
	"context"
	"sync"
)

// LLMUsage is the token usage of model calls, as the Messages API reports it
// in each response's usage object, summed over the calls of one attempt (or
// of anything else the caller sums). Only answered calls carry tokens: a call
// answered 429 or 529 costs nothing and is counted in RateLimited instead.
//
// The four token counts are disjoint: InputTokens are the prompt tokens read
// neither from nor into the prompt cache, CacheWriteTokens those written to it
// (cache_creation_input_tokens, billed at 1.25× or 2× the input price by TTL),
// CacheReadTokens those read from it (cache_read_input_tokens, billed at 0.1×).
// The email_attempts columns llm_input_tokens, llm_output_tokens,
// llm_cache_write_tokens and llm_cache_read_tokens hold exactly these.
type LLMUsage struct {
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens"`
	// Calls counts answered model calls (HTTP 200).
	Calls int `json:"calls"`
	// RateLimited counts calls answered 429 (rate limit) or 529 (overloaded)
	// that were waited out and sent again; they are not attempt failures.
	RateLimited int `json:"rate_limited"`
}

// Add adds o to u.
func (u *LLMUsage) Add(o LLMUsage) {
	u.InputTokens += o.InputTokens
	u.OutputTokens += o.OutputTokens
	u.CacheWriteTokens += o.CacheWriteTokens
	u.CacheReadTokens += o.CacheReadTokens
	u.Calls += o.Calls
	u.RateLimited += o.RateLimited
}

// PromptTokens is every input token the model read: uncached, written to
// and read from the cache.
func (u LLMUsage) PromptTokens() int64 {
	return u.InputTokens + u.CacheWriteTokens + u.CacheReadTokens
}

// BudgetTokens is what LLM_DAILY_TOKEN_BUDGET counts (DESIGN.md §5: input +
// output tokens): every prompt token, cached or not, plus the output.
func (u LLMUsage) BudgetTokens() int64 {
	return u.PromptTokens() + u.OutputTokens
}

// IsZero reports whether u records nothing.
func (u LLMUsage) IsZero() bool { return u == LLMUsage{} }

// SumLLMUsage sums usages, e.g. the attempts of one email.
func SumLLMUsage(usages ...LLMUsage) LLMUsage {
	var total LLMUsage
	for _, u := range usages {
		total.Add(u)
	}
	return total
}

// UsageMeter sums the usage of the model calls of one attempt, from
// whichever goroutines make them. A nil *UsageMeter ignores Add and totals
// zero, so code may add to whatever meter the context carries.
type UsageMeter struct {
	mu    sync.Mutex
	total LLMUsage
}

// Add adds u to the meter.
func (m *UsageMeter) Add(u LLMUsage) {
	if m == nil || u.IsZero() {
		return
	}
	m.mu.Lock()
	m.total.Add(u)
	m.mu.Unlock()
}

// Total returns the usage added so far.
func (m *UsageMeter) Total() LLMUsage {
	if m == nil {
		return LLMUsage{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

type usageMeterKey struct{}

// WithUsageMeter returns ctx carrying m: model calls made under it add
// their usage to m.
func WithUsageMeter(ctx context.Context, m *UsageMeter) context.Context {
	return context.WithValue(ctx, usageMeterKey{}, m)
}

// UsageMeterFrom returns the meter ctx carries, or nil.
func UsageMeterFrom(ctx context.Context) *UsageMeter {
	m, _ := ctx.Value(usageMeterKey{}).(*UsageMeter)
	return m
}
