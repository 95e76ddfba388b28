package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ferretPostgresURL is the server FerretDB stores its data in; ferretDatabase
// is the PostgreSQL database dedicated to it, created on first use.
const (
	ferretPostgresURL = "postgres://postgres@127.0.0.1:5432/"
	ferretDatabase    = "ferretdb_test"
)

// ferretServer is one embedded FerretDB shared by the package's tests: FerretDB
// writes process-wide version state in ferretdb.New, so instances started by
// parallel tests would race. Tests isolate themselves by Mongo database name.
type ferretServer struct {
	once   sync.Once
	uri    string
	err    error
	cancel context.CancelFunc
	done   chan struct{}
}

// sharedFerret is started lazily by the first test that needs MongoDB and
// stopped by TestMain after all tests ran.
var sharedFerret ferretServer

// TestMain stops the shared FerretDB after the tests, so no goroutine or
// PostgreSQL connection outlives the run.
func TestMain(m *testing.M) {
	code := m.Run()
	sharedFerret.stop()
	os.Exit(code)
}

// start runs FerretDB in a goroutine until stop is called.
func (f *ferretServer) start() {
	ctx := context.Background()
	if err := ensureFerretDatabase(ctx); err != nil {
		f.err = err
		return
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: ferretPostgresURL + ferretDatabase,
	})
	if err != nil {
		f.err = fmt.Errorf("new ferretdb: %w", err)
		return
	}
	runCtx, cancel := context.WithCancel(ctx)
	f.cancel = cancel
	f.done = make(chan struct{})
	go func() {
		defer close(f.done)
		_ = db.Run(runCtx)
	}()
	// MongoDBURI blocks until Run has bound the listener.
	f.uri = db.MongoDBURI()
}

func (f *ferretServer) stop() {
	if f.cancel == nil {
		return
	}
	f.cancel()
	<-f.done
}

// ensureFerretDatabase creates the dedicated database, tolerating another
// test process creating it at the same time.
func ensureFerretDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ferretPostgresURL+"postgres")
	if err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "CREATE DATABASE "+ferretDatabase)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") {
		return nil // exists already, or a concurrent creator won the race
	}
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// ferretURI returns the MongoDB URI of the shared FerretDB, starting it on first use.
func ferretURI(t *testing.T) string {
	t.Helper()
	sharedFerret.once.Do(sharedFerret.start)
	require.NoError(t, sharedFerret.err)
	return sharedFerret.uri
}

// testMongo is a test's own Mongo database on the shared FerretDB.
type testMongo struct {
	uri      string
	database string
	client   *mongo.Client
	db       *mongo.Database
}

// newTestMongo gives the test a unique, empty database and drops it at cleanup.
func newTestMongo(t *testing.T) *testMongo {
	t.Helper()
	uri := ferretURI(t)
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	name := "t_" + hex.EncodeToString(b[:])

	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = client.Database(name).Drop(ctx)
		_ = client.Disconnect(ctx)
	})
	return &testMongo{uri: uri, database: name, client: client, db: client.Database(name)}
}
