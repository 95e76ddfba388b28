package models

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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
	// Set holds further columns to write in the same UPDATE. Keys are column
	// names written by this code, never input; a gorm.Expr value is written as SQL.
	Set map[string]any
}

// Apply runs the guarded UPDATE on tx (a *gorm.DB or a transaction). It
// returns ErrLeaseLost (with a token) or ErrTransitionRefused when no row
// matched. Moving to a state outside the leased stages also ends any lease,
// so no caller can leave a stale token behind. The statement is built by
// hand rather than through GORM's reflection: it runs several times per email.
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
	var sql strings.Builder
	args := make([]any, 0, len(c.Set)+4)
	sql.WriteString("UPDATE incoming_emails SET processing_status = ?, updated_at = now()")
	args = append(args, string(c.To))
	if !c.To.Leased() {
		sql.WriteString(", lease_token = NULL, lease_until = NULL, lease_owner = NULL")
	}
	cols := make([]string, 0, len(c.Set))
	for k := range c.Set {
		cols = append(cols, k)
	}
	slices.Sort(cols) // a stable text keeps pgx's prepared-statement cache warm
	for _, k := range cols {
		if expr, ok := c.Set[k].(clause.Expr); ok {
			sql.WriteString(", " + k + " = " + expr.SQL)
			args = append(args, expr.Vars...)
			continue
		}
		sql.WriteString(", " + k + " = ?")
		args = append(args, c.Set[k])
	}
	sql.WriteString(" WHERE id = ? AND processing_status IN ?")
	args = append(args, c.ID, from)
	if c.Token != "" {
		sql.WriteString(" AND lease_token = ?")
		args = append(args, c.Token)
	}
	res := tx.WithContext(ctx).Exec(sql.String(), args...)
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
