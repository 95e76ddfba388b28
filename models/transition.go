package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Change is one guarded move of an email through the state machine. Every
// status write in the service goes through Apply, so a transition outside the
// table of DESIGN.md §4, or by an attempt that lost its lease, changes nothing.
type Change struct {
	ID uint64
	To Status
	// From narrows the allowed source states; nil means every state the table allows.
	From []Status
	// Token, when set, also requires the attempt's lease token.
	Token string
	// Set holds further columns to write in the same UPDATE.
	Set map[string]any
}

// Apply runs the guarded UPDATE on tx (a *gorm.DB or a transaction). It
// returns ErrLeaseLost (with a token) or ErrTransitionRefused when no row matched.
func (c Change) Apply(ctx context.Context, tx *gorm.DB) error {
	from := c.From
	if from == nil {
		from = From(c.To)
	}
	for _, f := range from {
		if !CanTransition(f, c.To) {
			return fmt.Errorf("transition %s → %s is not in the state machine", f, c.To)
		}
	}
	set := make(map[string]any, len(c.Set)+2)
	for k, v := range c.Set {
		set[k] = v
	}
	set["processing_status"] = c.To
	set["updated_at"] = gorm.Expr("now()")
	q := tx.WithContext(ctx).Model(&IncomingEmail{}).
		Where("id = ? AND processing_status IN ?", c.ID, from)
	if c.Token != "" {
		q = q.Where("lease_token = ?", c.Token)
	}
	res := q.Updates(set)
	if res.Error != nil {
		return fmt.Errorf("move email to %s: %w", c.To, res.Error)
	}
	if res.RowsAffected == 0 {
		if c.Token != "" {
			return ErrLeaseLost
		}
		return ErrTransitionRefused
	}
	return nil
}
