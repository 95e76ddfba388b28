package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Change and Assign let the tests build the guarded move that every status
// write goes through.
type (
	Change = change
	Assign = assign
)

// Apply moves one email with c on the durable pool.
func (s *Store) Apply(ctx context.Context, c Change, id uint64) error { return c.apply(ctx, s.db, id) }

// ApplyAll moves many emails with c on the durable pool.
func (s *Store) ApplyAll(ctx context.Context, c Change, ids []uint64) ([]uint64, error) {
	return c.applyAll(ctx, s.db, ids)
}

// InTx runs fn with a store whose statements all run in one transaction
// (tx) of the async pool when async is set, else of the durable one.
func (s *Store) InTx(ctx context.Context, async bool, fn func(st *Store, tx *gorm.DB) error) error {
	return s.pool(!async).WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, async: tx}, tx)
	})
}

// FinishDirect is Finish with its statement, as GORM builds it, run
// straight on the connection pool rather than through GORM's Row
// callbacks: the other side of BenchmarkFinish.
func (s *Store) FinishDirect(ctx context.Context, job *models.Job, f Final) error {
	q, err := f.change(job).one(job.Email.ID)
	if err != nil {
		return err
	}
	q = withEffects(q, f.effects(job))
	tx := s.pool(f.durable).WithContext(ctx).Raw(q.SQL, q.Vars...)
	var n int64
	if err := tx.Statement.ConnPool.QueryRowContext(ctx, tx.Statement.SQL.String(), tx.Statement.Vars...).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return models.ErrLeaseLost
	}
	return nil
}

// CandidateSQL is InquiryCandidates' statement for k, its arguments, and
// how many lookups it makes.
func CandidateSQL(k CandidateKeys) (sql string, args []any, lookups int) {
	ls := lookupsFor(k)
	sql, args = candidateSQL(ls, k.Since, k.Until)
	return sql, args, len(ls)
}
