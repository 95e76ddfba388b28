package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// EnqueueOutbox inserts one outbox row of kind for the email emailID,
// unless its idempotency key (one row per kind per email) exists; it
// reports whether a row was added. Rows that belong to a status move are
// written by the move's own statement instead (Finish).
func (s *Store) EnqueueOutbox(ctx context.Context, kind string, emailID uint64, payload any) (bool, error) {
	return enqueueOutbox(ctx, s.db, kind, emailID, payload)
}

func enqueueOutbox(ctx context.Context, db *gorm.DB, kind string, emailID uint64, payload any) (bool, error) {
	res := db.WithContext(ctx).Exec(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`, kind, emailID, models.MustJSON(payload), models.OutboxKey(kind, emailID))
	if res.Error != nil {
		return false, fmt.Errorf("enqueue %s: %w", kind, res.Error)
	}
	return res.RowsAffected == 1, nil
}
