package fetch

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// maxRetryAfter caps the wait a server may ask for, so an odd header cannot
// park an email for hours.
const maxRetryAfter = 10 * time.Minute

// StatusError is a final response other than 200 OK (after redirects).
type StatusError struct {
	Status int
	URL    string // scheme://host/path
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: status %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// statusError classifies a non-200 response: 408, 425, 429 and 5xx are
// worth asking again (not before Retry-After); any other status, 401, 403,
// 404 and 410 first of all, will not change by itself.
func statusError(resp *http.Response, u *url.URL) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	err := &StatusError{Status: resp.StatusCode, URL: redact(u)}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests, s == http.StatusRequestTimeout, s == http.StatusTooEarly,
		s >= http.StatusInternalServerError:
		return models.Transient(err, retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return models.Permanent(err)
}

// retryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// Missing, unparsable or past values give 0 (the job's backoff applies);
// long ones are capped at maxRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
