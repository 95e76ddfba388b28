package store

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// OpenDB opens a pool of durable commits on dsn and pings it, failing fast
// when PostgreSQL is down.
// GORM's own logger stays silent: it would print query parameters, which
// carry email content; callers log errors themselves.
func OpenDB(ctx context.Context, dsn string, maxOpen int) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ping postgres: %w", err)
	}
	return db, nil
}

// OpenAsyncDB opens the pool of bookkeeping writes (claims, stage markers,
// queued marks, retry bookkeeping, lease renewals) and of the matcher's
// candidate reads on dsn, and pings it.
//
// Its sessions commit asynchronously (synchronous_commit off): a write
// returns before its WAL is flushed, so use the pool only for writes a crash
// may lose harmlessly (the reaper redoes them). The Store picks the pool per statement.
//
// They also always use generic plans (plan_cache_mode force_generic_plan):
// a prepared statement is planned once per connection, not per call. Its
// statements find their rows by key, where one plan serves every value; by
// default PostgreSQL re-planned the batched writes (a generic plan is
// estimated for ten array elements, a custom one for the two or three they
// get) and the matcher's candidate query on every call, about a quarter of
// its CPU in the e2e bench. Bitmap scans are off (enable_bitmapscan off):
// without values the planner guesses that a key names a row or two, and a
// bitmap chosen on that guess reads every inquiry of a big creditor and
// sorts them where the key index, read in its order, stops at the LIMIT.
// Sequential scans are off too (enable_seqscan off): a connection usually
// plans its statements while incoming_emails is nearly empty, where reading
// the whole table looks cheapest, and keeps that plan while the table grows;
// intake's queued mark then read every stored email for each batch. With
// the setting, a table is read whole only where no index can serve.
// Statements that need plans for their actual values must use the other pool.
func OpenAsyncDB(ctx context.Context, dsn string, maxOpen int) (*gorm.DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "off")
	q.Set("plan_cache_mode", "force_generic_plan")
	q.Set("enable_bitmapscan", "off")
	q.Set("enable_seqscan", "off")
	u.RawQuery = q.Encode()
	return OpenDB(ctx, u.String(), maxOpen)
}
