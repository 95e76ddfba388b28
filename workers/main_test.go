package workers

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine running: every
// pool, scheduler and reaper a test starts must be stopped by it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql and go-redis keep pool helpers until their DB is closed at cleanup.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgconn/ctxwatch.(*ContextWatcher).Watch.func1"),
	)
}
