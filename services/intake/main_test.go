package intake

import (
	"io"
	"log/slog"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit/groupcommittest"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// TestMain fails the package if a test leaves a goroutine running: group
// commit must not need, or leave behind, goroutines of its own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql and pgx keep pool helpers until their DB is closed at cleanup.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgconn/ctxwatch.(*ContextWatcher).Watch.func1"),
	)
}

// env is a migrated schema with the service's two pools (durable commits
// and store.OpenAsyncDB), the store on them, and a Redis namespace.
type env struct {
	db      *apptest.DB
	durable *gorm.DB
	async   *gorm.DB
	st      *store.Store
	redis   *apptest.Redis
}

func newEnv(tb testing.TB, conns int) *env {
	tb.Helper()
	db := apptest.NewDB(tb)
	e := &env{db: db, redis: apptest.NewRedis(tb)}
	e.durable = db.Pool(tb, conns)
	e.async = db.AsyncPool(tb, conns)
	e.st = store.New(e.durable, e.async)
	return e
}

// queue is the real Redis queue in the env's namespace.
func (e *env) queue() *workers.Queue { return queueOn(e.redis.Client, e.redis.Namespace) }

func queueOn(c redis.UniversalClient, namespace string) *workers.Queue {
	return workers.NewQueue(c, namespace, "test")
}

// service is the intake service on the env's pools, with a batcher whose
// flushers a test can hold (hooks).
func (e *env) service(p Pusher) *Service { return newService(e.st, p) }

// newService is New with a batcher whose flushers a test can hold (hooks).
func newService(st *store.Store, p Pusher) *Service {
	s := New(st, p, discardLog())
	s.batch = groupcommittest.New(s.writeBatch, batchOptions())
	return s
}

// hooks returns the test hooks of s's batcher.
func hooks(s *Service) *groupcommittest.Batcher[*request] {
	return s.batch.(*groupcommittest.Batcher[*request])
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
