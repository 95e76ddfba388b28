package background

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryPolicy decides how long retried work waits after a transient
// failure: an email's next attempt, an outbox row's next delivery.
type RetryPolicy struct {
	MaxRetries int // how many retries an email gets; the outbox counts its own attempts
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// Delay returns the wait before retry number n (1-based): exponential from
// MinBackoff with ±50 % jitter, capped at MaxBackoff, and never shorter than
// an outside API's Retry-After.
func (p RetryPolicy) Delay(n int, retryAfter time.Duration) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.MinBackoff
	b.MaxInterval = p.MaxBackoff
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	b.Reset()
	d := p.MinBackoff
	for i := 0; i < n; i++ {
		d = b.NextBackOff()
	}
	d = min(d, p.MaxBackoff)
	return max(d, retryAfter)
}
