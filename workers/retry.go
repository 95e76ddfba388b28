package workers

import (
	"errors"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// classify reports whether err is permanent (retrying cannot help) and any
// Retry-After an outside API asked for. PostgreSQL refusing a statement for
// its data is permanent (the same input fails again); timeouts, network,
// database availability and unknown errors count as transient: the retry
// budget bounds them, and failing an email for good costs more than a retry.
func classify(err error) (permanent bool, retryAfter time.Duration) {
	var perm *models.PermanentError
	if errors.As(err, &perm) {
		return true, 0
	}
	var tr *models.TransientError
	if errors.As(err, &tr) {
		return false, tr.RetryAfter
	}
	return store.IsDataError(err), 0
}
