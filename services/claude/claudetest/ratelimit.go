package claudetest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Limits are the account's rate limits, enforced as the API documents them
// (platform.claude.com/docs/en/api/rate-limits): requests, input tokens and
// output tokens per minute, each a token bucket "continuously replenished up
// to your maximum limit, rather than being reset at fixed intervals". Input
// tokens counted are input_tokens + cache_creation_input_tokens; cache reads
// do not count for current models ("For all other models,
// cache_read_input_tokens do not count towards ITPM rate limits"). Output
// tokens are "estimated based on max_tokens at the beginning of each request,
// and the estimate is adjusted at the end of the request" to the tokens
// actually generated. A zero limit is unlimited and sends no headers for it.
type Limits struct {
	RequestsPerMinute     int64
	InputTokensPerMinute  int64
	OutputTokensPerMinute int64
	// Burst is how much refill time a full bucket holds: its capacity is
	// limit × Burst / 1 minute. Zero means one minute, the documented bucket
	// (capacity = the per-minute limit). The docs warn that "60 RPM may be
	// enforced as 1 request per second"; a Burst of a second models that.
	Burst time.Duration
}

// bucket is one token bucket of the account.
type bucket struct {
	limit    int64   // per minute; 0 = unlimited
	capacity float64 // tokens a full bucket holds
	level    float64
	at       time.Time
}

func newBucket(limit int64, burst time.Duration, now time.Time) bucket {
	if burst <= 0 {
		burst = time.Minute
	}
	// Rounded, so that a burst of a third of a second in nanoseconds does not
	// leave a bucket a hair short of the one request it is meant to hold.
	capacity := math.Round(float64(limit)*burst.Seconds()/60*1e6) / 1e6
	if limit > 0 {
		capacity = max(capacity, 1)
	}
	return bucket{limit: limit, capacity: capacity, level: capacity, at: now}
}

func (b *bucket) rate() float64 { return float64(b.limit) / 60 }

func (b *bucket) refill(now time.Time) {
	if b.limit == 0 {
		return
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.level = min(b.capacity, b.level+dt*b.rate())
	}
	b.at = now
}

// shortfall is how long until the bucket holds cost, 0 if it does now, and
// ok=false if it never can (cost above its capacity).
func (b *bucket) shortfall(cost float64) (wait time.Duration, ok bool) {
	if b.limit == 0 || b.level >= cost {
		return 0, true
	}
	if cost > b.capacity {
		return 0, false
	}
	return time.Duration((cost - b.level) / b.rate() * float64(time.Second)), true
}

// take removes cost (a negative cost gives back, never beyond a full
// bucket). Settling output tokens may leave the level negative when an
// answer was longer than its estimate.
func (b *bucket) take(cost float64) {
	if b.limit != 0 {
		b.level = min(b.capacity, b.level-cost)
	}
}

// resetAt is when the bucket is full again ("the time when the rate limit
// will be fully replenished").
func (b *bucket) resetAt(now time.Time) time.Time {
	missing := max(0, b.capacity-b.level)
	return now.Add(time.Duration(missing / b.rate() * float64(time.Second)))
}

// account holds the three buckets of one organization.
type account struct {
	requests, input, output bucket
}

func newAccount(l Limits, now time.Time) account {
	return account{
		requests: newBucket(l.RequestsPerMinute, l.Burst, now),
		input:    newBucket(l.InputTokensPerMinute, l.Burst, now),
		output:   newBucket(l.OutputTokensPerMinute, l.Burst, now),
	}
}

func (a *account) refill(now time.Time) {
	a.requests.refill(now)
	a.input.refill(now)
	a.output.refill(now)
}

// admit takes a request's costs if every bucket holds them, or reports how
// long to wait (retry-after) and why; never is set when a cost exceeds a
// bucket's capacity, so no wait can make the request fit.
func (a *account) admit(input, maxOutput float64) (wait time.Duration, why string, never bool) {
	checks := []struct {
		b    *bucket
		cost float64
		name string
	}{
		{&a.requests, 1, "requests"},
		{&a.input, input, "input tokens"},
		{&a.output, maxOutput, "output tokens"},
	}
	for _, c := range checks {
		w, ok := c.b.shortfall(c.cost)
		if !ok {
			return 0, fmt.Sprintf("This request would exceed your organization's rate limit of %d %s per minute", c.b.limit, c.name), true
		}
		if w > wait {
			wait, why = w, fmt.Sprintf("This request would exceed your organization's rate limit of %d %s per minute", c.b.limit, c.name)
		}
	}
	if wait > 0 {
		return wait, why, false
	}
	a.requests.take(1)
	a.input.take(input)
	a.output.take(maxOutput)
	return 0, "", false
}

// setHeaders writes the anthropic-ratelimit-* headers as the API sends them
// on every response: -limit (per minute), -remaining and -reset (RFC 3339)
// for requests, input tokens and output tokens, and the tokens-* family for
// whichever token limit is the most restrictive now.
func (a *account) setHeaders(h http.Header, now time.Time) {
	set := func(name string, b *bucket) {
		if b.limit == 0 {
			return
		}
		h.Set("anthropic-ratelimit-"+name+"-limit", strconv.FormatInt(b.limit, 10))
		h.Set("anthropic-ratelimit-"+name+"-remaining", strconv.FormatInt(int64(math.Max(0, math.Floor(b.level))), 10))
		h.Set("anthropic-ratelimit-"+name+"-reset", b.resetAt(now).UTC().Add(time.Second-1).Truncate(time.Second).Format(time.RFC3339))
	}
	set("requests", &a.requests)
	set("input-tokens", &a.input)
	set("output-tokens", &a.output)
	tightest := &a.input
	if a.input.limit == 0 || (a.output.limit != 0 && a.output.level/a.output.capacity < a.input.level/a.input.capacity) {
		tightest = &a.output
	}
	set("tokens", tightest)
}

// retryAfterSeconds renders a wait as the whole seconds retry-after carries,
// rounded up so a client that honours it is not refused again.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}
