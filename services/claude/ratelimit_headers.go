package claude

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateLimitHeader is one family of the anthropic-ratelimit-* response
// headers, which the API sends on every response (platform.claude.com/docs/
// en/api/rate-limits, "Response headers"): -limit is the per-minute limit,
// -remaining what is left before requests are refused, -reset (RFC 3339)
// when the bucket is full again. Families: requests, input-tokens,
// output-tokens, and tokens (the most restrictive token limit now; the
// limiter reads the input and output families instead).
type rateLimitHeader struct {
	limit, remaining       float64
	hasLimit, hasRemaining bool
	reset                  time.Time
}

func readRateLimit(h http.Header, family string) rateLimitHeader {
	var r rateLimitHeader
	prefix := "anthropic-ratelimit-" + family
	r.limit, r.hasLimit = headerNumber(h, prefix+"-limit")
	r.remaining, r.hasRemaining = headerNumber(h, prefix+"-remaining")
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get(prefix+"-reset"))); err == nil {
		r.reset = t
	}
	return r
}

// headerNumber reads a non-negative number; anything else is absent.
func headerNumber(h http.Header, name string) (float64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || n != n || n > 1e15 {
		return 0, false
	}
	return n, true
}
