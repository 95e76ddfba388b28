package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// finishAttemptSQL closes the attempt with a lease token, unless something
// closed it already (the final write of the attempt, or the reaper's rescue).
const finishAttemptSQL = `UPDATE email_attempts SET finished_at = now(), outcome = ?, error = ?
WHERE lease_token = ? AND finished_at IS NULL`

// FinishAttempt closes the attempt with token on its own, for an attempt
// whose email did not move (its lease was lost).
func FinishAttempt(ctx context.Context, tx *gorm.DB, token, outcome string, errText *string) error {
	if err := tx.WithContext(ctx).Exec(finishAttemptSQL, outcome, errText, token).Error; err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return nil
}

// AttemptFinished closes the attempt with token in the statement that moves
// its email to the attempt's outcome.
func AttemptFinished(token, outcome string, errText *string) Effect {
	return Effect{SQL: finishAttemptSQL + " AND EXISTS (SELECT 1 FROM moved)", Args: []any{outcome, errText, token}}
}
