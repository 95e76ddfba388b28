package claudetest

import (
	"crypto/sha256"
	"strings"
	"time"
)

// MinCacheableTokens is the shortest prefix the API caches for model; a
// breakpoint on a shorter prefix is ignored without an error (the request is
// billed as uncached). Figures from Anthropic's prompt caching page as
// quoted in 2026 (minimum cacheable prompt length: 512 for Opus 5, Fable 5
// and Mythos 5; 1,024 for Opus 4.8, Sonnet 5, Sonnet 4.6/4.5, Opus 4.1/4;
// 2,048 for Opus 4.7; 4,096 for Opus 4.6, Opus 4.5 and Haiku 4.5). Models it
// does not know get the largest, 4,096, so the fake errs towards no caching.
func MinCacheableTokens(model string) int64 {
	families := []struct {
		prefix string
		min    int64
	}{
		{"claude-opus-5", 512}, {"claude-fable-5", 512}, {"claude-mythos-5", 512},
		{"claude-sonnet-5", 1024}, {"claude-opus-4-8", 1024},
		{"claude-sonnet-4-6", 1024}, {"claude-sonnet-4-5", 1024},
		{"claude-opus-4-1", 1024}, {"claude-opus-4", 1024}, {"claude-sonnet-4", 1024},
		{"claude-opus-4-7", 2048},
		{"claude-opus-4-6", 4096}, {"claude-opus-4-5", 4096}, {"claude-haiku-4-5", 4096},
	}
	for _, f := range families {
		// "claude-sonnet-5" must not match "claude-sonnet-5-5": a family is the
		// name itself, a dated snapshot of it, or an alias ending in -latest.
		if model == f.prefix || strings.HasPrefix(model, f.prefix+"-2") || model == f.prefix+"-latest" {
			return f.min
		}
	}
	return 4096
}

// cacheKey identifies a prompt prefix: the model and every byte up to a breakpoint.
type cacheKey [sha256.Size]byte

// cacheWrite is an entry a request creates once its response is sent: the
// API makes a cache entry usable only after the response that wrote it
// begins, so requests sent at the same moment all pay for the write.
type cacheWrite struct {
	key cacheKey
	ttl time.Duration
}

// cachePlan is what one request reads from and writes to the prompt cache.
type cachePlan struct {
	read, write int64
	write1h     bool
	writes      []cacheWrite
}

// planCache finds the longest live cached prefix ending on one of the
// request's breakpoints and the tokens it must write for the breakpoints
// after it; entries read are refreshed (their TTL counts from the last use).
func planCache(now time.Time, r Request, segs []segment, live map[cacheKey]time.Time) cachePlan {
	minimum := MinCacheableTokens(r.Model)
	type breakpoint struct {
		key    cacheKey
		tokens int64
		ttl    time.Duration
	}
	var bps []breakpoint
	h := sha256.Sum256([]byte(r.Model))
	var cum int64
	for i, s := range segs {
		cum += s.tokens
		h = sha256.Sum256(append(h[:], s.raw...))
		cc := s.cc
		if i == len(segs)-1 && cc == nil && r.CacheControl != nil {
			cc = r.CacheControl // automatic caching marks the last block
		}
		if cc != nil && cum >= minimum {
			bps = append(bps, breakpoint{key: cacheKey(h), tokens: cum, ttl: ttlOf(cc)})
		}
	}
	var plan cachePlan
	hit := -1
	for i := len(bps) - 1; i >= 0; i-- {
		if exp, ok := live[bps[i].key]; ok && now.Before(exp) {
			hit = i
			plan.read = bps[i].tokens
			live[bps[i].key] = now.Add(bps[i].ttl)
			break
		}
	}
	for i := hit + 1; i < len(bps); i++ {
		plan.writes = append(plan.writes, cacheWrite{key: bps[i].key, ttl: bps[i].ttl})
		if bps[i].ttl == time.Hour {
			plan.write1h = true
		}
	}
	if len(bps) > 0 && hit < len(bps)-1 {
		plan.write = bps[len(bps)-1].tokens - plan.read
	}
	return plan
}

func ttlOf(cc *CacheControl) time.Duration {
	if cc.TTL == "1h" {
		return time.Hour
	}
	return 5 * time.Minute
}
