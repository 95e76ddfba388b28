package attachments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
)

// downloadFailed records why row's download failed and returns the error
// to retry for, or nil when a retry would not help this file.
func (s *Stage) downloadFailed(ctx context.Context, row *models.EmailAttachment, err error) error {
	var perm *models.PermanentError
	switch {
	case errors.Is(err, fetch.ErrNotConfigured):
		setError(row, models.AttachmentSkipped, err.Error())
		return nil
	case emailTimedOut(ctx):
		return s.emailTimeout(row)
	case errors.Is(err, fetch.ErrTooLarge), errors.Is(err, fetch.ErrMalware):
		setError(row, models.AttachmentUnreadable, err.Error())
		return nil
	case errors.As(err, &perm):
		// Refused host, 401, 403, 404: not this attempt's to fix, but an
		// operator may (allow the host, renew the token) and retry.
		setError(row, models.AttachmentFailed, err.Error())
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return s.timedOut(row, "download", err)
	}
	setError(row, models.AttachmentFailed, err.Error())
	return err
}

// readFailed records why row's file could not be read and returns the
// error to retry for, or nil when the file itself is unreadable.
func (s *Stage) readFailed(ctx context.Context, row *models.EmailAttachment, err error) error {
	var waited *models.RateLimitedError
	switch {
	case errors.Is(err, read.ErrUnreadable):
		setError(row, models.AttachmentUnreadable, read.Reason(err))
		return nil
	case errors.As(err, &waited):
		// The transcriber waited on the model's rate limit or token budget
		// past the file's time: no fault of the file, so no timeout is
		// counted against it, and the attempt ends as a rate-limit wait.
		setError(row, models.AttachmentFailed, "waited on the model's rate limit ("+waited.Reason+"); read on the next attempt")
		return err
	case emailTimedOut(ctx):
		return s.emailTimeout(row)
	case errors.Is(err, read.ErrTimeout):
		return s.timedOut(row, "read", err)
	}
	setError(row, models.AttachmentFailed, err.Error())
	return err
}

// timedOut counts a try that ran out of ATTACHMENT_TIMEOUT: failed, to be
// tried again, until the MaxTimeouts-th makes the file unreadable.
func (s *Stage) timedOut(row *models.EmailAttachment, what string, err error) error {
	row.Timeouts++
	if row.Timeouts >= s.cfg.MaxTimeouts {
		setError(row, models.AttachmentUnreadable, fmt.Sprintf("too slow to %s within ATTACHMENT_TIMEOUT (%s) on %d tries",
			what, s.cfg.FileTimeout, row.Timeouts))
		return nil
	}
	setError(row, models.AttachmentFailed, err.Error())
	return err
}

// emailTimeout fails row because the email's stage ran out of time: the
// file is tried again on the next attempt with a fresh budget (the files
// read meanwhile are not read again).
func (s *Stage) emailTimeout(row *models.EmailAttachment) error {
	err := fmt.Errorf("not read within ATTACHMENT_EMAIL_TIMEOUT (%s) for the email's attachments", s.cfg.EmailTimeout)
	setError(row, models.AttachmentFailed, err.Error())
	return err
}

// emailTimedOut reports whether ctx ended because the email's time limit
// passed (not because the attempt was cancelled).
func emailTimedOut(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), errEmailTimeout)
}

// setError gives row its status and reason.
func setError(row *models.EmailAttachment, status, reason string) {
	reason = storable(reason)
	row.Status, row.Error = status, &reason
}

// retryAfter is the wait a server asked for with a transient error.
func retryAfter(err error) time.Duration {
	var tr *models.TransientError
	if errors.As(err, &tr) {
		return tr.RetryAfter
	}
	return 0
}

// storable makes s fit for a text column: valid UTF-8 without NUL bytes,
// which PostgreSQL refuses (a refused INSERT would fail the email).
func storable(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
