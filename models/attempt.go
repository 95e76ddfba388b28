package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// FinishAttempt closes the attempt with token, unless something closed it
// already (the pipeline's final transaction, or the reaper's rescue).
func FinishAttempt(ctx context.Context, tx *gorm.DB, token, outcome string, errText *string) error {
	err := tx.WithContext(ctx).Model(&EmailAttempt{}).
		Where("lease_token = ? AND finished_at IS NULL", token).
		Updates(map[string]any{"finished_at": gorm.Expr("now()"), "outcome": outcome, "error": errText}).Error
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return nil
}
