package workers

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// redispatch marks waiting emails queued (re-stamping the dispatch time of
// ones already queued) and pushes the ids that moved. cond narrows the rows
// further; it is a SQL condition over incoming_emails with ? placeholders.
// Only received, queued and retrying rows are ever touched, and the row lock
// with SKIP LOCKED means that of several schedulers or reapers sweeping at
// once, each row is pushed by one.
func redispatch(ctx context.Context, db *gorm.DB, q *Queue, limit int, cond string, args ...any) ([]uint64, error) {
	sql := `
UPDATE incoming_emails SET processing_status = 'queued', last_dispatched_at = now(), updated_at = now()
WHERE id IN (
  SELECT id FROM incoming_emails
  WHERE processing_status IN ('received', 'queued', 'retrying') AND (` + cond + `)
  ORDER BY received_at LIMIT ? FOR UPDATE SKIP LOCKED)
RETURNING id`
	var ids []uint64
	if err := db.WithContext(ctx).Raw(sql, append(args, limit)...).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("redispatch: %w", err)
	}
	return ids, q.Push(ctx, ids...)
}
