package attachments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/zendesktest"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// TestMain fails the package if a test leaves a goroutine behind (a
// download's connection, a reader's child).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql keeps pool helpers until its DB is closed at cleanup.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgconn/ctxwatch.(*ContextWatcher).Watch.func1"),
	)
}

// env is one test's database, fake Zendesk and reader.
type env struct {
	ctx    context.Context
	db     *apptest.DB
	st     *store.Store
	zd     *zendesktest.Server
	reader *read.Dispatcher
}

func setup(t *testing.T, rc read.Config) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	db := apptest.NewDB(t)
	zd := zendesktest.Start()
	t.Cleanup(zd.Close)
	rc.TempDir = t.TempDir()
	reader, err := read.New(ctx, rc)
	require.NoError(t, err)
	return &env{ctx: ctx, db: db, st: db.Store(t), zd: zd, reader: reader}
}

// stage builds the stage with a fetcher on the fake Zendesk; tweak changes
// the fetcher's configuration first.
func (e *env) stage(t *testing.T, cfg attachments.Config, tweak ...func(*fetch.Config)) *attachments.Stage {
	t.Helper()
	fc := e.zd.FetchConfig()
	fc.TempDir = t.TempDir()
	for _, fn := range tweak {
		fn(&fc)
	}
	f, err := fetch.New(fc)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return attachments.New(e.st, f, e.reader, cfg)
}

// job stores an email listing list, claims it as a worker would and moves
// it on to reading_attachments; retries is its retry_count.
func (e *env) job(t *testing.T, list []models.Attachment, retries int) *models.Job {
	t.Helper()
	em := models.IncomingEmail{ZendeskTicketID: "4711", DedupKey: "k:" + apptest.RandomID(), FromEmail: "inkasso@example.de",
		ProcessingStatus: models.StatusQueued, ReceivedAt: time.Now(), SyncStatus: models.SyncNotApplicable,
		AttachmentURLs: models.MustJSON(list), RetryCount: retries}
	require.NoError(t, e.db.Omit("id").Create(&em).Error)
	jobs, err := e.st.Claim(e.ctx, []uint64{em.ID}, "worker", time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	return jobs[0]
}

// rows returns the email's stored rows by position.
func (e *env) rows(t *testing.T, id uint64) []models.EmailAttachment {
	t.Helper()
	rows, err := e.st.Attachments(e.ctx, id)
	require.NoError(t, err)
	return rows
}

func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return b
	}
}

// requireRow checks a row's status and, for rows with one, its reason.
func requireRow(t *testing.T, row models.EmailAttachment, status, reason string) {
	t.Helper()
	require.Equal(t, status, row.Status, "row %d: %+v", row.Position, row.Error)
	if reason == "" {
		require.Nil(t, row.Error)
		return
	}
	require.NotNil(t, row.Error)
	require.Contains(t, *row.Error, reason)
}
