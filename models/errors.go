package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes, mapped to HTTP status in exactly one place (handlers/errors.go).
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	ETOOLARGE     = "payload_too_large"
	ETOOMANY      = "too_many_requests"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// Error is a domain error safe to show a client.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a domain error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the domain code of err, EINTERNAL when it has none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrLeaseLost means the attempt no longer owns the email: the reaper or a
// newer attempt took it over, so nothing this attempt computed may be written.
var ErrLeaseLost = errors.New("lease lost")

// ErrTransitionRefused means a guarded status update matched no row.
var ErrTransitionRefused = errors.New("transition refused")

// ErrNotFound means the row asked for does not exist.
var ErrNotFound = errors.New("not found")

// PermanentError marks a job error that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so the job fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// TransientError marks a job error worth retrying, optionally not before RetryAfter.
type TransientError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err so the job is retried with backoff, honouring retryAfter when > 0.
func Transient(err error, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: err, RetryAfter: retryAfter}
}

// Reasons a model call waited, in RateLimitedError.Reason.
const (
	WaitRateLimit  = "rate_limit" // the provider's rate limit (paced, or answered 429)
	WaitOverloaded = "overloaded" // the provider answered 529 overloaded
	WaitBudget     = "budget"     // the daily token budget is spent
)

// RateLimitedError marks a model call that did not fail but could not be made
// before its context ended: it was waiting for the provider's rate limit, an
// overload to pass or the daily token budget (Reason). It is not the email's
// fault and not an attempt failure: the job should be queued again without
// using up its retry budget and without an alert. It always comes wrapped in
// a *TransientError (see RateLimited), so code that only knows transient
// errors still retries it.
type RateLimitedError struct {
	Err    error
	Reason string
}

func (e *RateLimitedError) Error() string { return e.Err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.Err }

// RateLimited wraps err as a *TransientError around a *RateLimitedError:
// errors.As finds either; retryAfter is when waiting is worth trying again.
func RateLimited(err error, reason string, retryAfter time.Duration) error {
	if err == nil {
		return nil
	}
	return &TransientError{Err: &RateLimitedError{Err: err, Reason: reason}, RetryAfter: retryAfter}
}

// ErrorText bounds an error message for storage (processing_error,
// last_error): at most 2000 bytes, still valid UTF-8.
func ErrorText(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = strings.ToValidUTF8(s[:2000], "")
	}
	return s
}
