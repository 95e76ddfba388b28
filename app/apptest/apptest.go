// Package apptest gives tests their own PostgreSQL schema and Redis key
// namespace on the real servers, so tests run in parallel without mocks.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/lawfirm/creditor-email-matcher/migrations"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// defaultDatabaseURL is used when TEST_DATABASE_URL is unset.
const defaultDatabaseURL = "postgres://postgres:postgres@127.0.0.1:5432/creditor_matcher_test?sslmode=disable"

// defaultRedisURL is used when TEST_REDIS_URL is unset.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// DB is an isolated, migrated schema.
type DB struct {
	*gorm.DB
	// URL connects to the same schema (search_path set), for subprocesses.
	URL    string
	Schema string

	storeOnce sync.Once
	store     *store.Store
}

// Store returns the service's store on the schema: the test's pool as the
// durable one and an async pool (store.OpenAsyncDB) of ten connections,
// opened on first use and closed when the test ends.
func (d *DB) Store(t testing.TB) *store.Store {
	t.Helper()
	d.storeOnce.Do(func() { d.store = store.New(d.DB, d.AsyncPool(t, 10)) })
	return d.store
}

var createDBOnce sync.Once

// databaseURL returns the base test database URL, creating that database once if absent.
func databaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = defaultDatabaseURL
	}
	createDBOnce.Do(func() { ensureDatabase(t, base) })
	return base
}

// NewDB creates a fresh schema, migrates it and drops it when the test ends.
func NewDB(t testing.TB) *DB {
	t.Helper()
	return newDB(t, true)
}

// NewEmptyDB creates a fresh, unmigrated schema (for migration tests).
func NewEmptyDB(t testing.TB) *DB {
	t.Helper()
	return newDB(t, false)
}

func newDB(t testing.TB, migrate bool) *DB {
	t.Helper()
	ctx := context.Background()
	base := databaseURL(t)
	schema := "t_" + RandomID()
	admin, err := store.OpenDB(ctx, base, 2)
	if err != nil {
		t.Fatalf("postgres not reachable (start it, or set TEST_DATABASE_URL): %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u := withSearchPath(base, schema)
	db, err := store.OpenDB(ctx, u, 10)
	if err != nil {
		t.Fatalf("open schema: %v", err)
	}
	t.Cleanup(func() {
		closeDB(db)
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		closeDB(admin)
	})
	if migrate {
		if err := migrations.Run(ctx, db); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return &DB{DB: db, URL: u, Schema: schema}
}

// Pool opens another pool of conns connections on the schema, closed when
// the test ends.
func (d *DB) Pool(t testing.TB, conns int) *gorm.DB {
	t.Helper()
	return openPool(t, d.URL, conns)
}

// AsyncPool opens a pool on the schema with the service's async pool
// settings (store.OpenAsyncDB: asynchronous commits, generic plans, no
// bitmap or sequential scans), closed when the test ends.
func (d *DB) AsyncPool(t testing.TB, conns int) *gorm.DB {
	t.Helper()
	db, err := store.OpenAsyncDB(context.Background(), d.URL, conns)
	if err != nil {
		t.Fatalf("open async pool: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// RowsRead returns how many rows of table (in the test's schema) the open
// transaction tx has read so far, by sequential and by index scans.
func RowsRead(t testing.TB, tx *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	err := tx.Raw(`SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables
		WHERE relname = ? AND schemaname = current_schema()`, table).Scan(&n).Error
	if err != nil {
		t.Fatalf("read table statistics: %v", err)
	}
	return n
}

// FillEmails stores n completed emails, the history a long-running
// service's tables hold.
func FillEmails(t testing.TB, db *gorm.DB, n int) {
	t.Helper()
	err := db.Exec(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at, processing_status)
		SELECT 'fill', 'fill-' || g || '-' || ?, 'fill@example.de', now(), ? FROM generate_series(1, ?) g`,
		RandomID(), models.StatusCompleted, n).Error
	if err != nil {
		t.Fatalf("fill emails: %v", err)
	}
}

// SeedInquiries fills a fresh schema with n recent inquiries spread over 50
// creditor domains the way a real book is: a few big creditors hold most
// inquiries (creditor0.de about a quarter), the rest a handful each. Most of
// a creditor's inquiries go to one shared address. Statistics are gathered,
// as autovacuum would on a live table. The matcher's benchmark and the
// store's plan test read it.
func SeedInquiries(t testing.TB, n int) *DB {
	t.Helper()
	db := NewDB(t)
	err := db.Exec(`
INSERT INTO creditor_inquiries (client_name, client_aktenzeichen, creditor_name, creditor_email,
  reference_number, zendesk_ticket_id, sent_at, debt_amount)
SELECT (ARRAY['Max','Erika','Hans','Anna','Jürgen','Petra','Lukas','Sabine','Ali','Marta'])[1 + g % 10]
    || ' ' || (ARRAY['Müller','Schmidt','Schneider','Fischer','Weber','Meyer','Wagner','Becker',
                     'Schulz','Hoffmann','Schäfer','Koch','Bauer'])[1 + (g / 10) % 13],
  'RA-' || (2024 + g % 3) || '-' || lpad(g::text, 5, '0'),
  'Gläubiger ' || d || ' GmbH',
  CASE WHEN g % 7 = 0 THEN 'sb' || (g % 40) || '@creditor' || d || '.de'
       ELSE 'forderungen@creditor' || d || '.de' END,
  (1000000 + g)::text, (400000 + g)::text,
  now() - (g % 700) * interval '1 day',
  CASE WHEN g % 10 <> 0 THEN round((100 + (g * 37) % 50000) * 1.37, 2) END
FROM generate_series(1, ?) g,
  LATERAL (SELECT floor(power(((g * 7919) % 1000) / 1000.0, 3) * 50)::int AS d) dd`, n).Error
	if err == nil {
		err = db.Exec("ANALYZE creditor_inquiries").Error
	}
	if err != nil {
		t.Fatalf("seed inquiries: %v", err)
	}
	return db
}

func openPool(t testing.TB, dsn string, conns int) *gorm.DB {
	t.Helper()
	db, err := store.OpenDB(context.Background(), dsn, conns)
	if err != nil {
		t.Fatalf("open pool: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func ensureDatabase(t testing.TB, dsn string) {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := store.OpenDB(context.Background(), u.String(), 1)
	if err != nil {
		return // the real open will report it
	}
	defer closeDB(admin)
	var n int64
	admin.Raw("SELECT count(*) FROM pg_database WHERE datname = ?", name).Scan(&n)
	if n == 0 {
		// A concurrent creator (another test binary) makes this fail harmlessly.
		admin.Exec(`CREATE DATABASE "` + strings.ReplaceAll(name, `"`, ``) + `"`)
	}
}

// Redis is a client plus a namespace no other test uses.
type Redis struct {
	Client    redis.UniversalClient
	URL       string
	Namespace string
}

// NewRedis returns a client and a fresh namespace whose keys are deleted when the test ends.
func NewRedis(t testing.TB) *Redis {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		u = defaultRedisURL
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis not reachable (start it, or set TEST_REDIS_URL): %v", err)
	}
	ns := "test_" + RandomID()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, "{"+ns+"}:*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return &Redis{Client: c, URL: u, Namespace: ns}
}

// RandomID returns 12 random hex characters.
func RandomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond every few milliseconds until it holds or the deadline passes.
func Eventually(t testing.TB, within time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", within, fmt.Sprintf(msg, args...))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Lock is an open transaction whose row locks other sessions wait for.
type Lock struct {
	Tx  *gorm.DB
	pid int
}

// BeginLock opens a transaction on db for a test to take row locks in; it
// is rolled back when the test ends unless committed before.
func BeginLock(t testing.TB, db *gorm.DB) *Lock {
	t.Helper()
	tx := db.Begin()
	if tx.Error != nil {
		t.Fatalf("begin: %v", tx.Error)
	}
	t.Cleanup(func() { tx.Rollback() })
	l := &Lock{Tx: tx}
	if err := tx.Raw("SELECT pg_backend_pid()").Scan(&l.pid).Error; err != nil {
		t.Fatalf("backend pid: %v", err)
	}
	return l
}

// WaitBlocking returns once another session waits for one of l's locks.
func (l *Lock) WaitBlocking(t testing.TB, db *gorm.DB) {
	t.Helper()
	Eventually(t, 10*time.Second, func() bool {
		var waiting bool
		err := db.Raw("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE ?::int = ANY(pg_blocking_pids(pid)))", l.pid).
			Scan(&waiting).Error
		return err == nil && waiting
	}, "a session waits for the test's row lock")
}

// Commit ends the transaction, releasing its locks.
func (l *Lock) Commit(t testing.TB) {
	t.Helper()
	if err := l.Tx.Commit().Error; err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// LogBuffer is an io.Writer a running server logs to while the test reads
// what it has written so far; safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartRedisServer runs a private redis-server on a free port for tests that
// flush or restart Redis, which the shared server cannot allow. It returns
// the URL, stop (also run at cleanup) and restart, which stops the server
// and starts it again, empty, on the same port.
func StartRedisServer(t testing.TB) (url string, stop func(), restart func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	var (
		mu  sync.Mutex
		cmd *exec.Cmd
	)
	start := func() {
		mu.Lock()
		defer mu.Unlock()
		cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		Eventually(t, 10*time.Second, func() bool {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		}, "redis-server on port %d", port)
	}
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		if cmd != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			cmd = nil
		}
	}
	start()
	t.Cleanup(stop)
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), stop, func() { stop(); start() }
}

// UnreachableURL is a PostgreSQL URL that nothing listens on; connecting
// fails within two seconds.
const UnreachableURL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"

// ClosedDB returns a *gorm.DB whose connection pool is closed: every query
// fails at once, before it reaches PostgreSQL, as when the pool was shut down.
func ClosedDB(t testing.TB) *gorm.DB {
	t.Helper()
	db := openPool(t, databaseURL(t), 1)
	closeDB(db)
	return db
}

// UnreachableDB returns a *gorm.DB for UnreachableURL, as when PostgreSQL is down.
func UnreachableDB(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(postgres.Open(UnreachableURL),
		&gorm.Config{DisableAutomaticPing: true, Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatalf("unreachable db: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// closeDB closes db's connection pool.
func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
