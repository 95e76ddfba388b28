package models

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
