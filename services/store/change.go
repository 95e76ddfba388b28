package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// change is one guarded move of emails through the state machine. Every
// status write of the store is one (the batched claims and stage moves,
// which carry a state per row, are guarded the same way), so a transition
// outside the table of DESIGN.md §4, or by an attempt that lost its lease,
// changes nothing.
type change struct {
	To models.Status
	// From narrows the allowed source states; nil means every state the
	// table allows.
	From []models.Status
	// Token, when set, also requires the attempt's lease token.
	Token string
	// Set holds further columns to write in the same UPDATE, in order:
	// a fixed order keeps the statement's text, and pgx's prepared
	// statement for it, the same from call to call.
	Set []assign
}

// assign is one column a change writes. Column is the code's own name,
// never input; Value is a parameter, or SQL when it is a clause.Expr
// (gorm.Expr("now()")).
type assign struct {
	Column string
	Value  any
}

// now is the database's clock, for timestamps a statement writes.
var now = gorm.Expr("now()")

// states returns the allowed source states, each checked against the table.
func (c change) states() (pgtype.Array[string], error) {
	from := c.From
	if from == nil {
		from = models.From(c.To)
	}
	for _, f := range from {
		if !models.CanTransition(f, c.To) {
			return pgtype.Array[string]{}, fmt.Errorf("transition %s → %s is not in the state machine", f, c.To)
		}
	}
	return stateArray(from), nil
}

// update is "UPDATE incoming_emails SET …": the new state, the end of any
// lease when the state is not a leased stage (so no caller can leave a
// stale token behind), and c.Set.
func (c change) update() clause.Expr {
	var sql strings.Builder
	vars := []any{string(c.To)}
	sql.WriteString("UPDATE incoming_emails SET processing_status = ?, updated_at = now()")
	if !c.To.Leased() {
		sql.WriteString(", lease_token = NULL, lease_until = NULL, lease_owner = NULL")
	}
	for _, a := range c.Set {
		sql.WriteString(", " + a.Column + " = ?")
		vars = append(vars, a.Value)
	}
	return clause.Expr{SQL: sql.String(), Vars: vars}
}

// one is the change for the email id: the UPDATE with its guard.
func (c change) one(id uint64) (clause.Expr, error) {
	from, err := c.states()
	if err != nil {
		return clause.Expr{}, err
	}
	if c.Token != "" {
		return gorm.Expr("? WHERE id = ? AND processing_status = ANY(?) AND lease_token = ?", c.update(), id, from, c.Token), nil
	}
	return gorm.Expr("? WHERE id = ? AND processing_status = ANY(?)", c.update(), id, from), nil
}

// apply moves the email id on db (a pool or a transaction), with effects
// in the same statement. It returns ErrLeaseLost (with a Token) or
// ErrTransitionRefused when the guard matched no row; then no effect
// happened either.
//
// One statement rather than a transaction of several: a terminal write
// (status, attempt, debt update, outbox rows) is atomic on its own, and
// PostgreSQL spends most of a short write's cost per statement, not per row
// (bench/README.md: nine round trips became one).
//
// GORM builds and runs it (Exec, or Raw(…).Row()), although it runs once
// per email. Measured 2026-12-05 on the final statement of an auto match
// (BenchmarkFinish): GORM's build takes 186 allocations (19.4 KB) where the
// former hand-built text with its own ?→$n rewriter took 114 (15.6 KB);
// running the built text straight on the pool instead of through GORM's
// Row callbacks saves 3 (0.2 KB). bench/e2e -n 5000, old and new builds
// interleaved three times each (load average 0.7–5): 247, 267, 247 against
// 248, 263, 238 emails/s; service CPU 14.7–15.9 s against 15.0–16.2 s. The
// difference stays inside the noise, so the statement stays with GORM.
func (c change) apply(ctx context.Context, db *gorm.DB, id uint64, effects ...effect) error {
	q, err := c.one(id)
	if err != nil {
		return err
	}
	var n int64
	if len(effects) == 0 {
		res := db.WithContext(ctx).Exec(q.SQL, q.Vars...)
		err, n = res.Error, res.RowsAffected
	} else {
		q = withEffects(q, effects)
		err = db.WithContext(ctx).Raw(q.SQL, q.Vars...).Row().Scan(&n)
	}
	if err != nil {
		return fmt.Errorf("move email %d to %s: %w", id, c.To, err)
	}
	if n == 0 {
		if c.Token != "" {
			return models.ErrLeaseLost
		}
		return models.ErrTransitionRefused
	}
	return nil
}

// applyAll makes the change (without a Token) to every email in ids that
// is in an allowed state, in one statement, and returns the ids that moved.
// The rows are locked through lockedByID and the guard is checked on each
// row as locked.
func (c change) applyAll(ctx context.Context, db *gorm.DB, ids []uint64) ([]uint64, error) {
	if c.Token != "" {
		return nil, fmt.Errorf("applyAll moves emails without a lease token")
	}
	from, err := c.states()
	if err != nil {
		return nil, err
	}
	var moved []uint64
	err = db.WithContext(ctx).Raw(`? FROM ? locked WHERE incoming_emails.id = locked.id
  AND locked.processing_status = ANY(?) RETURNING incoming_emails.id`, c.update(), lockedByID(ids), from).
		Find(&moved).Error
	if err != nil {
		return nil, fmt.Errorf("move emails to %s: %w", c.To, err)
	}
	return moved, nil
}

// lockedByID is a FROM item that locks the emails whose ids are in ids and
// yields their id, lease_token and processing_status (FOR UPDATE returns a
// row's latest version). Every statement that writes several running or
// waiting emails at once locks through it: in id order, so two such
// statements never deadlock; and by one primary-key lookup per id, so no
// plan can scan instead — not the status index over a backlog, nor the whole
// table under a generic plan that a prepared statement made while the table
// was still small (plan_test.go).
func lockedByID(ids []uint64) clause.Expr {
	return gorm.Expr(`(SELECT e.id, e.lease_token, e.processing_status
  FROM (SELECT DISTINCT id FROM unnest(?::bigint[]) AS ids(id) ORDER BY id) ids
  CROSS JOIN LATERAL (SELECT id, lease_token, processing_status FROM incoming_emails
                      WHERE id = ids.id FOR UPDATE) e)`, array(ids))
}
