package store

import (
	"context"
	"fmt"
	"time"

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

// ClaimOutbox reserves up to batch due rows for lockFor, counting the
// delivery attempt, and returns them, oldest due first. Rows another relay
// holds are skipped (FOR UPDATE SKIP LOCKED), and a reserved row is not due
// for anyone else until its reservation ends; all rows of one claim share
// one locked_until (the statement's now()).
func (s *Store) ClaimOutbox(ctx context.Context, batch int, lockFor time.Duration) ([]models.OutboxMessage, error) {
	var rows []models.OutboxMessage
	err := s.db.WithContext(ctx).Raw(`
UPDATE outbox_messages SET locked_until = now() + make_interval(secs => ?), attempts = attempts + 1
WHERE id IN (
  SELECT id FROM outbox_messages
  WHERE processed_at IS NULL AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
  ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING *`, lockFor.Seconds(), batch).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	return rows, nil
}

// ReleaseOutbox hands back rows of one claim the relay did not get to,
// uncounting the claim's attempt, so any relay may claim them at once. A
// row that holds another reservation was claimed again meanwhile and is
// left alone.
func (s *Store) ReleaseOutbox(ctx context.Context, rows []models.OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Exec(`UPDATE outbox_messages SET locked_until = NULL, attempts = attempts - 1
WHERE id IN ? AND processed_at IS NULL AND locked_until = ?`, outboxIDs(rows), rows[0].LockedUntil).Error
	if err != nil {
		return fmt.Errorf("release outbox rows: %w", err)
	}
	return nil
}

// SkipOutbox records rows no sink took (nothing was sent) and, for portal
// syncs, their emails' sync status, in one statement; an email is touched
// only if its row was still open, so a stale relay cannot undo another's
// delivery.
func (s *Store) SkipOutbox(ctx context.Context, rows []models.OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Exec(`WITH skipped AS (
  UPDATE outbox_messages SET processed_at = now(), outcome = ?, locked_until = NULL, last_error = NULL
  WHERE id IN ? AND processed_at IS NULL
  RETURNING aggregate_type, aggregate_id)
UPDATE incoming_emails SET sync_status = ?, sync_error = NULL, updated_at = now()
WHERE id IN (SELECT aggregate_id FROM skipped WHERE aggregate_type = ?)`,
		models.DeliverySkipped, outboxIDs(rows), models.SyncNotApplicable, models.OutboxCreditorDebtUpdate).Error
	if err != nil {
		return fmt.Errorf("skip outbox rows: %w", err)
	}
	return nil
}

func outboxIDs(rows []models.OutboxMessage) []uint64 {
	ids := make([]uint64, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	return ids
}

// MarkOutbox records a delivery's end on msg's row: outcome delivered or
// failed (for good), with the error text, if any. A portal sync's email
// gets the matching sync status (synced, failed) and error in the same
// transaction. A row no longer open (processed by another relay) is left
// alone, and so is its email.
func (s *Store) MarkOutbox(ctx context.Context, msg models.OutboxMessage, outcome string, errText *string) error {
	sync := map[string]string{models.DeliveryDelivered: models.SyncSynced, models.DeliveryFailed: models.SyncFailed}[outcome]
	if sync == "" {
		return fmt.Errorf("mark outbox row %d: outcome %q is not an end", msg.ID, outcome)
	}
	return s.markOutbox(ctx, msg, map[string]any{"processed_at": now, "outcome": outcome, "last_error": errText}, sync, errText)
}

// RetryOutbox schedules msg's next delivery at at after the error errText;
// a portal sync's email records the error and stays pending.
func (s *Store) RetryOutbox(ctx context.Context, msg models.OutboxMessage, at time.Time, errText *string) error {
	return s.markOutbox(ctx, msg, map[string]any{"next_attempt_at": at, "last_error": errText}, "", errText)
}

// markOutbox writes set on msg's open row and ends its reservation, and
// for a portal sync sets its email's sync error (and sync status, unless
// empty), in one transaction.
func (s *Store) markOutbox(ctx context.Context, msg models.OutboxMessage, set map[string]any, sync string, errText *string) error {
	set["locked_until"] = nil
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.OutboxMessage{}).Where("id = ? AND processed_at IS NULL", msg.ID).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 || msg.AggregateType != models.OutboxCreditorDebtUpdate {
			return nil
		}
		email := map[string]any{"sync_error": errText, "updated_at": now}
		if sync != "" {
			email["sync_status"] = sync
		}
		return tx.Model(&models.IncomingEmail{}).Where("id = ?", msg.AggregateID).Updates(email).Error
	})
	if err != nil {
		return fmt.Errorf("mark outbox row %d: %w", msg.ID, err)
	}
	return nil
}
