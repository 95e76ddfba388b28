package claude

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// maxRetryAfter caps how long the API may ask us to wait; longer hints are
// treated as this, so an odd header cannot park an email for hours.
const maxRetryAfter = 10 * time.Minute

// statusOverloaded is Anthropic's "overloaded_error" status.
const statusOverloaded = 529

// apiError describes an API error response without its raw body, so the text
// stored in processing_error or logged by the worker holds status, error type,
// request id and a short API message, never anything echoed from the request.
type apiError struct {
	status    int
	errType   string
	requestID string
	message   string
	err       *anthropic.Error
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("messages api: status %d", e.status)
	if e.errType != "" {
		msg += " " + e.errType
	}
	if e.message != "" {
		msg += ": " + e.message
	}
	if e.requestID != "" {
		msg += " (request-id " + e.requestID + ")"
	}
	return msg
}

func (e *apiError) Unwrap() error { return e.err }

// classify wraps an error from Messages.New as transient or permanent.
//
// Transient: 429 (rate limit), 529 (overloaded), 5xx, 408, 409, a response
// marked x-should-retry: true, timeouts, connection errors, unreadable
// responses, and the caller's own cancellation (the email is not at fault).
// Permanent: 400, 401, 403, 404, 413 and every other 4xx: the same request
// will fail the same way until someone changes the key, model or code.
func classify(ctx context.Context, err error) error {
	described := describe(ctx, err)
	var sdkErr *anthropic.Error
	if !errors.As(err, &sdkErr) {
		return models.Transient(described, 0)
	}
	if retryable(sdkErr.StatusCode, sdkErr.Response) {
		return models.Transient(described, retryAfter(sdkErr.Response, time.Now()))
	}
	return models.Permanent(described)
}

// describe says what went wrong with a call, without the response body.
func describe(ctx context.Context, err error) error {
	var sdkErr *anthropic.Error
	if !errors.As(err, &sdkErr) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("claude: %w", ctxErr)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("claude: messages api: request timed out: %w", err)
		}
		return fmt.Errorf("claude: messages api: %w", err)
	}
	return fmt.Errorf("claude: %w", &apiError{
		status:    sdkErr.StatusCode,
		errType:   string(sdkErr.Type()),
		requestID: sdkErr.RequestID,
		message:   capRunes(singleLine(sdkErr.Message), 200),
		err:       sdkErr,
	})
}

func retryable(status int, res *http.Response) bool {
	if res != nil && res.Header.Get("x-should-retry") == "true" {
		return true
	}
	return status == http.StatusTooManyRequests || status == statusOverloaded ||
		status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status >= http.StatusInternalServerError
}

// retryAfter reads how long the API asks us to wait: retry-after-ms, else
// retry-after as seconds or an HTTP date. Missing, unparsable or past values
// give 0 (the job's own backoff applies); values are capped at maxRetryAfter.
func retryAfter(res *http.Response, now time.Time) time.Duration {
	if res == nil {
		return 0
	}
	d, ok := parseSeconds(res.Header.Get("retry-after-ms"), time.Millisecond)
	if !ok {
		v := strings.TrimSpace(res.Header.Get("retry-after"))
		if d, ok = parseSeconds(v, time.Second); !ok {
			if t, err := http.ParseTime(v); err == nil {
				d = t.Sub(now)
			}
		}
	}
	return min(max(d, 0), maxRetryAfter)
}

// parseSeconds parses a decimal count of unit, capped at maxRetryAfter.
func parseSeconds(v string, unit time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(n) {
		return 0, false
	}
	limit := float64(maxRetryAfter / unit)
	return time.Duration(min(max(n, 0), limit) * float64(unit)), true
}
