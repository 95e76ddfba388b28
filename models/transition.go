package models

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Change is one guarded move of an email through the state machine. Every
// single-email status write in the service goes through Apply (the batched
// writers are guarded the same way: ApplyAll, AdvanceStages), so a
// transition outside the table of DESIGN.md §4, or by an attempt that lost
// its lease, changes nothing.
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
	// Effects are writes that belong to the move (the attempt's end, the
	// debt update, outbox rows). They run in the same statement and happen
	// only if the guarded UPDATE matched.
	Effects []Effect
}

// Effect is a write that happens together with a Change, or not at all. SQL
// is one data-modifying statement that takes the moved email's id from the
// CTE "moved" (INSERT … SELECT … FROM moved, or UPDATE … WHERE EXISTS
// (SELECT 1 FROM moved)), with ? placeholders for Args. Name makes its
// RETURNING rows readable by later effects of the same Change.
type Effect struct {
	Name string
	SQL  string
	Args []any
}

// Apply runs the guarded UPDATE, with its effects, as one statement on tx (a
// *gorm.DB or a transaction). It returns ErrLeaseLost (with a token) or
// ErrTransitionRefused when no row matched. Moving to a state outside the
// leased stages also ends any lease, so no caller can leave a stale token
// behind.
//
// One statement rather than a transaction of several: a terminal write
// (status, attempt, debt update, outbox rows) is atomic on its own, and
// PostgreSQL spends most of a short write's cost per statement, not per row.
// The SQL is built by hand and sent straight to the connection pool, past
// GORM's reflection and placeholder rewriting: it runs several times per email.
func (c Change) Apply(ctx context.Context, tx *gorm.DB) error {
	from, err := c.from()
	if err != nil {
		return err
	}
	var q query
	if len(c.Effects) > 0 {
		q.add("WITH moved AS (")
	}
	c.set(&q)
	q.add(" WHERE id = ? AND processing_status = ANY(?)", c.ID, from)
	if c.Token != "" {
		q.add(" AND lease_token = ?", c.Token)
	}
	n, err := c.exec(ctx, tx, &q)
	if err != nil {
		return fmt.Errorf("move email to %s: %w", c.To, err)
	}
	if n == 0 {
		if c.Token != "" {
			return ErrLeaseLost
		}
		return ErrTransitionRefused
	}
	return nil
}

// ApplyAll makes the change (without ID, Token or Effects) to every email
// in ids that is in an allowed state, in one statement, and returns the ids
// that moved. The rows are locked through LockedByID.
func (c Change) ApplyAll(ctx context.Context, tx *gorm.DB, ids []uint64) ([]uint64, error) {
	if c.ID != 0 || c.Token != "" || len(c.Effects) > 0 {
		return nil, fmt.Errorf("ApplyAll takes the ids as its argument and no token or effects")
	}
	from, err := c.from()
	if err != nil {
		return nil, err
	}
	list := make([]int64, len(ids))
	for i, id := range ids {
		list[i] = int64(id)
	}
	q := query{args: []any{list}} // LockedByID reads the ids from $1
	c.set(&q)
	q.add(" FROM "+LockedByID+" locked WHERE incoming_emails.id = locked.id"+
		" AND locked.processing_status = ANY(?) RETURNING incoming_emails.id", from)
	moved, err := column[uint64](ctx, tx, q.String(), q.args...)
	if err != nil {
		return nil, fmt.Errorf("move emails to %s: %w", c.To, err)
	}
	return moved, nil
}

// from returns the allowed source states as text, checked against the table.
func (c Change) from() ([]string, error) {
	from := c.From
	if from == nil {
		from = From(c.To)
	}
	names := make([]string, len(from))
	for i, f := range from {
		if !CanTransition(f, c.To) {
			return nil, fmt.Errorf("transition %s → %s is not in the state machine", f, c.To)
		}
		names[i] = string(f)
	}
	return names, nil
}

// set writes "UPDATE incoming_emails SET …" with the new state, the end of
// any lease when the state is not a leased stage, and c.Set.
func (c Change) set(q *query) {
	q.add("UPDATE incoming_emails SET processing_status = ?, updated_at = now()", string(c.To))
	if !c.To.Leased() {
		q.add(", lease_token = NULL, lease_until = NULL, lease_owner = NULL")
	}
	cols := make([]string, 0, len(c.Set))
	for k := range c.Set {
		cols = append(cols, k)
	}
	slices.Sort(cols) // a stable text keeps pgx's prepared-statement cache warm
	for _, k := range cols {
		if expr, ok := c.Set[k].(clause.Expr); ok {
			q.add(", "+k+" = "+expr.SQL, expr.Vars...)
			continue
		}
		q.add(", "+k+" = ?", c.Set[k])
	}
}

// exec runs the UPDATE in q, wrapped with the effects when there are any,
// and returns how many emails moved.
func (c Change) exec(ctx context.Context, tx *gorm.DB, q *query) (int64, error) {
	pool := tx.Statement.ConnPool
	if len(c.Effects) == 0 {
		res, err := pool.ExecContext(ctx, q.String(), q.args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	q.add(" RETURNING id)")
	for i, e := range c.Effects {
		name := e.Name
		if name == "" {
			name = "effect" + strconv.Itoa(i)
		}
		q.add(", "+name+" AS ("+e.SQL+")", e.Args...)
	}
	q.add(" SELECT count(*) FROM moved")
	var n int64
	err := pool.QueryRowContext(ctx, q.String(), q.args...).Scan(&n)
	return n, err
}

// column runs sql on tx's connection pool, past GORM like Apply, and
// returns the single column of its rows.
func column[T any](ctx context.Context, tx *gorm.DB, sql string, args ...any) ([]T, error) {
	rows, err := tx.Statement.ConnPool.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// query builds a statement with PostgreSQL's numbered placeholders from
// pieces written with ?; the pieces are code, never input.
type query struct {
	strings.Builder
	args []any
}

func (q *query) add(sql string, args ...any) {
	used := 0
	for {
		i := strings.IndexByte(sql, '?')
		if i < 0 {
			break
		}
		q.WriteString(sql[:i])
		q.args = append(q.args, args[used])
		used++
		q.WriteString("$" + strconv.Itoa(len(q.args)))
		sql = sql[i+1:]
	}
	if used != len(args) {
		panic(fmt.Sprintf("query piece has %d placeholders for %d arguments", used, len(args)))
	}
	q.WriteString(sql)
}
