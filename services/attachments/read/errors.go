package read

import (
	"errors"
	"fmt"
)

// ErrUnreadable matches (errors.Is) every error meaning the file itself
// cannot be read: reading it again would fail the same way. The caller
// records status `unreadable` with Reason(err).
var ErrUnreadable = errors.New("unreadable attachment")

// ErrTransient matches errors that may pass on a later try: the per-file
// time limit ran out (the machine may have been busy), a child process was
// killed from outside, a temporary file could not be written. The caller
// records status `failed`; the file may be read again. A cancelled context
// is returned as it is (context.Canceled), and is transient too.
var ErrTransient = errors.New("transient attachment read failure")

// ErrTimeout is the transient error of a read that ran out of
// ATTACHMENT_TIMEOUT. errors.Is(err, ErrTransient) holds for it.
var ErrTimeout = fmt.Errorf("%w: timed out", ErrTransient)

// UnreadableError says why a file cannot be read, in words fit for the
// `email_attachments.error` column and the admin page ("encrypted PDF",
// "ZIP archive", …). It never quotes the file's content.
type UnreadableError struct {
	Reason string
}

func (e *UnreadableError) Error() string { return "unreadable attachment: " + e.Reason }

// Is makes errors.Is(err, ErrUnreadable) hold.
func (e *UnreadableError) Is(target error) bool { return target == ErrUnreadable }

// unreadable builds an UnreadableError from a format.
func unreadable(format string, args ...any) error {
	return &UnreadableError{Reason: fmt.Sprintf(format, args...)}
}

// Reason returns the human reason of an unreadable file, or "" when err is
// not an UnreadableError.
func Reason(err error) string {
	var u *UnreadableError
	if errors.As(err, &u) {
		return u.Reason
	}
	return ""
}

// transient wraps err as an ErrTransient with a short context.
func transient(context string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrTransient, context, err)
}
