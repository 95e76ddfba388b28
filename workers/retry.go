package workers

import (
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// RetryPolicy decides how long an email waits after a transient failure.
type RetryPolicy struct {
	MaxRetries int
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

// classify reports whether err is permanent (retrying cannot help) and any
// Retry-After an outside API asked for. Timeouts, network and unknown errors
// count as transient: the retry budget bounds them, and failing an email for
// good costs more than a retry.
func classify(err error) (permanent bool, retryAfter time.Duration) {
	var perm *models.PermanentError
	if errors.As(err, &perm) {
		return true, 0
	}
	var tr *models.TransientError
	if errors.As(err, &tr) {
		return false, tr.RetryAfter
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "40", "53", "57", "58": // connection, rollback/serialization, resources, shutdown, system
			return false, 0
		case "22", "23", "42": // bad data, constraint, syntax: the same input fails again
			return true, 0
		}
		return false, 0
	}
	return false, 0
}
