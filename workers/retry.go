package workers

import (
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lawfirm/creditor-email-matcher/models"
)

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
