// Package outbox delivers the side effects recorded in outbox_messages: the
// debt sync into the client portal's MongoDB and the staff e-mails.
package outbox

import (
	"context"
	"errors"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Sink delivers one outbox message kind.
type Sink interface {
	// Deliver performs the side effect; errors wrapped with models.Permanent are not retried.
	Deliver(ctx context.Context, msg models.OutboxMessage) error
}

// ErrSkipped is returned (wrapped) when a sink is not configured; the relay marks the row skipped.
var ErrSkipped = errors.New("sink not configured")
