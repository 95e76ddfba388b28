package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

// fakePusher records pushed ids; mocks are fine at the Redis edge of this package.
type fakePusher struct {
	mu   sync.Mutex
	seen map[uint64]int
	err  error
}

func (p *fakePusher) Push(_ context.Context, ids ...uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[uint64]int{}
	}
	for _, id := range ids {
		p.seen[id]++
	}
	return p.err
}

func (p *fakePusher) count() (ids, pushes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.seen {
		pushes += n
	}
	return len(p.seen), pushes
}

type bundle struct {
	db     *apptest.DB
	svc    *jobs.Service
	pusher *fakePusher
}

func setup(t *testing.T) bundle {
	t.Helper()
	db := apptest.NewDB(t)
	p := &fakePusher{}
	return bundle{db: db, svc: jobs.New(db.Store(t), p, slog.New(slog.NewTextHandler(io.Discard, nil))), pusher: p}
}

func insertEmail(t *testing.T, db *apptest.DB, status models.Status, at time.Time) uint64 {
	t.Helper()
	e := models.IncomingEmail{
		ZendeskTicketID: "T-1", DedupKey: "k-" + apptest.RandomID(), FromEmail: "billing@creditor.example",
		Subject: "Forderung", ReceivedAt: at, ProcessingStatus: status, SyncStatus: models.SyncNotApplicable,
		AttachmentURLs: models.JSON("[]"),
	}
	require.NoError(t, db.Create(&e).Error)
	return e.ID
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := jobs.Cursor{ReceivedAt: time.Date(2026, 3, 25, 5, 9, 27, 123456000, time.UTC), ID: 42}
	got, err := jobs.DecodeCursor(c.Encode())
	require.NoError(t, err)
	require.Equal(t, c, got)
}

func TestCursorTampered(t *testing.T) {
	t.Parallel()
	enc := jobs.Cursor{ReceivedAt: time.Now().UTC(), ID: 7}.Encode()
	flipped := []byte(enc)
	flipped[3] ^= 1
	for _, s := range []string{"", "x", "not base64!", string(flipped), enc + "AA", enc[:len(enc)-2],
		jobs.Cursor{ReceivedAt: time.Now(), ID: 0}.Encode()} {
		_, err := jobs.DecodeCursor(s)
		require.Error(t, err, "cursor %q", s)
		require.Equal(t, models.EINVALID, models.ErrorCode(err))
	}
}

func TestRetryResetsBudgetKeepsAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := insertEmail(t, b.db, models.StatusFailed, time.Now())
	require.NoError(t, b.db.Exec(`UPDATE incoming_emails SET retry_count=5, rescue_count=2, attempt=3,
		processing_error='llm down', next_attempt_at=now(), lease_token='x', lease_until=now(), lease_owner='w1' WHERE id=?`, id).Error)
	require.NoError(t, b.db.Create(&models.EmailAttempt{IncomingEmailID: id, Attempt: 3, Worker: "w1", LeaseToken: "x", StartedAt: time.Now()}).Error)

	require.NoError(t, b.svc.Retry(ctx, id))

	var e models.IncomingEmail
	require.NoError(t, b.db.Take(&e, id).Error)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Zero(t, e.RetryCount)
	require.Zero(t, e.RescueCount)
	require.Equal(t, 3, e.Attempt)
	require.Nil(t, e.ProcessingError)
	require.Nil(t, e.NextAttemptAt)
	require.Nil(t, e.LeaseToken)
	require.Nil(t, e.LeaseUntil)
	require.Nil(t, e.LeaseOwner)
	require.NotNil(t, e.LastDispatchedAt)
	d, err := b.svc.Get(ctx, id)
	require.NoError(t, err)
	require.Len(t, d.Attempts, 1)
	ids, _ := b.pusher.count()
	require.Equal(t, 1, ids)

	err = b.svc.Retry(ctx, id)
	require.Equal(t, models.ECONFLICT, models.ErrorCode(err))
	err = b.svc.Retry(ctx, id+1000)
	require.Equal(t, models.ENOTFOUND, models.ErrorCode(err))
}

func TestRetryPushFailureIsNotAnError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.pusher.err = errors.New("redis down")
	id := insertEmail(t, b.db, models.StatusFailed, time.Now())
	require.NoError(t, b.svc.Retry(context.Background(), id))
}

func TestRetryBulkBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	require.NoError(t, b.db.Exec(`INSERT INTO incoming_emails
		(zendesk_ticket_id, dedup_key, from_email, received_at, processing_status, sync_status)
		SELECT 't'||g, 'k'||g, CASE WHEN g % 2 = 0 THEN 'a@llm-outage.example' ELSE 'b@other.example' END,
		       now() - g * interval '1 second', CASE WHEN g <= 2200 THEN 'failed' ELSE 'completed' END, 'not_applicable'
		FROM generate_series(1, 2210) g`).Error)

	dry, err := b.svc.RetryBulk(ctx, jobs.BulkRetry{Status: models.StatusFailed, From: "llm-outage", DryRun: true})
	require.NoError(t, err)
	require.Equal(t, int64(1100), dry.Matched)
	require.Zero(t, dry.Retried)
	require.Len(t, dry.IDs, jobs.MaxBulkIDs)
	require.True(t, dry.IDsTruncated)
	_, pushes := b.pusher.count()
	require.Zero(t, pushes)

	part, err := b.svc.RetryBulk(ctx, jobs.BulkRetry{Status: models.StatusFailed, From: "llm-outage", Limit: 600})
	require.NoError(t, err)
	require.Equal(t, int64(600), part.Retried)
	require.Len(t, part.IDs, 600)

	rest, err := b.svc.RetryBulk(ctx, jobs.BulkRetry{Status: models.StatusFailed, From: "llm-outage"})
	require.NoError(t, err)
	require.Equal(t, int64(500), rest.Matched)
	require.Equal(t, int64(500), rest.Retried)

	var queued int64
	require.NoError(t, b.db.Model(&models.IncomingEmail{}).Where("processing_status = 'queued'").Count(&queued).Error)
	require.Equal(t, int64(1100), queued)
	ids, pushes := b.pusher.count()
	require.Equal(t, 1100, ids)
	require.Equal(t, 1100, pushes)

	_, err = b.svc.RetryBulk(ctx, jobs.BulkRetry{Status: models.StatusCompleted})
	require.Equal(t, models.EINVALID, models.ErrorCode(err))
}

// TestValidateRefusesWhatPostgresCannotTake: text with NUL or invalid UTF-8
// and cursor positions beyond bigint or timestamptz are EINVALID naming the
// field, before any SQL (PostgreSQL would answer with an error, a 500).
func TestValidateRefusesWhatPostgresCannotTake(t *testing.T) {
	t.Parallel()
	for _, from := range []string{"\x00", "a\x00b", "\xff\xfe", "in\xc3"} {
		err := jobs.Filter{From: from}.Validate()
		require.Equal(t, models.EINVALID, models.ErrorCode(err), "%q", from)
		var e *models.Error
		require.ErrorAs(t, err, &e)
		require.Contains(t, e.Fields, "from")
		err = jobs.BulkRetry{Status: models.StatusFailed, From: from}.Validate()
		require.ErrorAs(t, err, &e)
		require.Contains(t, e.Fields, "from", "bulk retry %q", from)
	}
	for _, c := range []jobs.Cursor{
		{ReceivedAt: time.UnixMicro(-1 << 63), ID: 1},
		{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ID: 1},
		{ReceivedAt: time.Now(), ID: 1 << 63},
	} {
		var e *models.Error
		require.ErrorAs(t, jobs.Filter{After: &c}.Validate(), &e)
		require.Contains(t, e.Fields, "cursor")
	}
	require.NoError(t, jobs.Filter{From: "Inkasso ÄÖÜ", After: &jobs.Cursor{ReceivedAt: time.Now(), ID: 1 << 62}}.Validate())
}
