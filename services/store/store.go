// Package store is the one home of the database: it owns both connection
// pools, every SQL statement and every transaction of the service, and
// speaks domain terms to its callers (claim these emails, advance these
// stages, finish this attempt, list these jobs). No other package writes
// SQL; models holds the vocabulary (states, the transition table, tables'
// types) that the statements here are derived from.
//
// One file per area: pool.go (the two pools and why they differ),
// intake.go (stored emails, unusable deliveries stored failed, duplicates,
// the queued mark), claims.go (claims and leases), stages.go (pipeline
// stages), finish.go and effects.go (an attempt's end and what it writes
// with it), reaper.go (rescues and re-dispatch), outbox.go (the relay's
// rows), inquiries.go (the matcher's candidates), jobs.go and retry.go (the
// admin API), admin_sessions.go (the admin page's sessions), stats.go (the
// metrics gauges), reconcile.go (the portal reconciler) and attachments.go
// (the attachment stage's rows); change.go is
// the guarded status move they share, sets.go the state sets statements
// filter on (rendered once from the transition table), errors.go what
// PostgreSQL's errors mean.
//
// A new statement goes into its area's file (or a new file for a new
// table) as a method of Store that takes and returns domain values, runs
// on the pool the durability table of DESIGN.md asks for (s.db, or s.async
// for writes a crash may lose harmlessly), uses GORM's Exec/Raw with ?
// placeholders (gorm.Expr pieces nest, which is how change.go composes its
// statements), checks RowsAffected where it guards a state change, and gets
// a test against the real database in the same area's _test.go file; a
// statement on the async pool also gets a plan test (plan_test.go). Read
// rows with Find or Row, never Scan: GORM's Scan formats every statement
// with its values for a logger, even a silent one. Prepared statements come
// from pgx, which prepares and caches each statement text per connection,
// so GORM's PrepareStmt sessions would only add a second cache. Two reads
// and writes go straight to the connection pool, past GORM's statement
// building and reflective scans — intake's multi-row INSERT and the
// matcher's candidate read; each says so and carries the measurement that
// justified it (change.apply has the one that kept the rest with GORM).
package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/migrations"
)

// Store runs the service's statements on its two pools.
type Store struct {
	db    *gorm.DB // durable commits (OpenDB)
	async *gorm.DB // asynchronous commits, generic plans (OpenAsyncDB)
}

// New returns a store on two open pools, which Close closes: durable
// (OpenDB) and async (OpenAsyncDB). Tests may pass one pool as both.
func New(durable, async *gorm.DB) *Store {
	return &Store{db: durable, async: async}
}

// Open opens both pools on dsn, each with up to maxOpen connections.
func Open(ctx context.Context, dsn string, maxOpen int) (*Store, error) {
	db, err := OpenDB(ctx, dsn, maxOpen)
	if err != nil {
		return nil, err
	}
	async, err := OpenAsyncDB(ctx, dsn, maxOpen)
	if err != nil {
		closeDB(db)
		return nil, err
	}
	return New(db, async), nil
}

// Close closes both pools.
func (s *Store) Close() {
	closeDB(s.db)
	if s.async != s.db {
		closeDB(s.async)
	}
}

// Ping checks that PostgreSQL answers on the durable pool.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Migrate applies the pending migrations (see package migrations).
func (s *Store) Migrate(ctx context.Context) error {
	return migrations.Run(ctx, s.db)
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
