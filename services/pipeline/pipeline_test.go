package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

const replyHTML = `<div>Sehr geehrte Damen und Herren,<br><br>
in Sachen Ihrer Mandantin Frau Erika Musterfrau, Ihr Zeichen 2026/0042, beträgt unsere
<b>Gesamtforderung 2.345,67 €</b>.<br>Unsere Kundennummer: KD-99812<br><br>
Mit freundlichen Grüßen<br>Stadtwerke Beispielstadt GmbH</div>
<blockquote>Am 01.11.2026 schrieb Kanzlei: Bitte teilen Sie uns die Forderung mit. Alte Forderung 999,00 €</blockquote>`

type fixture struct {
	db      *apptest.DB
	inquiry uint64
	email   uint64
}

func setup(t *testing.T, subject string) fixture {
	t.Helper()
	db := apptest.NewDB(t)
	az, mail, ticket, amount := "2026/0042", "forderungen@stadtwerke-beispielstadt.de", "4242", 1999.0
	inq := models.CreditorInquiry{ClientName: "Musterfrau, Erika", ClientAktenzeichen: &az,
		CreditorName: "Stadtwerke Beispielstadt GmbH", CreditorEmail: &mail, ZendeskTicketID: &ticket,
		DebtAmount: &amount, SentAt: ptr(time.Now().Add(-72 * time.Hour))}
	require.NoError(t, db.Omit("id").Create(&inq).Error)
	e := models.IncomingEmail{ZendeskTicketID: ticket, DedupKey: "k:" + apptest.RandomID(), FromEmail: mail,
		Subject: subject, RawBodyHTML: replyHTML, ProcessingStatus: models.StatusQueued,
		ReceivedAt: time.Now(), SyncStatus: models.SyncNotApplicable, AttachmentURLs: models.JSON("[]")}
	require.NoError(t, db.Omit("id").Create(&e).Error)
	return fixture{db: db, inquiry: inq.ID, email: e.ID}
}

func ptr[T any](v T) *T { return &v }

// claim takes a lease the way the worker pool does.
func claim(t *testing.T, st *store.Store, id uint64) *models.Job {
	t.Helper()
	jobs, err := st.Claim(context.Background(), []uint64{id}, "worker", time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	return jobs[0]
}

// countingExtractor counts calls to the real rules extractor; with as set,
// its answers carry that extractor's name (an LLM's answer is saved by a
// durable commit of its own, a rules answer with the other stage moves).
type countingExtractor struct {
	calls atomic.Int64
	inner pipeline.Extractor
	as    string
}

func (c *countingExtractor) Extract(ctx context.Context, in models.EmailInput) (models.ExtractedData, error) {
	c.calls.Add(1)
	data, err := c.inner.Extract(ctx, in)
	if c.as != "" {
		data.Extractor = c.as
	}
	return data, err
}

// flakyMatcher fails its first call like a database blip would.
type flakyMatcher struct {
	failed atomic.Bool
	inner  pipeline.Matcher
}

func (f *flakyMatcher) Match(ctx context.Context, in matcher.Input) (matcher.Result, error) {
	if f.failed.CompareAndSwap(false, true) {
		return matcher.Result{}, models.Transient(errors.New("connection reset"), 0)
	}
	return f.inner.Match(ctx, in)
}

func newPipeline(st *store.Store, ex pipeline.Extractor, m pipeline.Matcher) *pipeline.Pipeline {
	return pipeline.New(st, ex, m, debts.Writer{SyncEnabled: true}, nil)
}

func TestPipelineCompletesAndRecordsTheDebtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	p := newPipeline(f.db.Store(t), rules.New(), matcher.New(f.db.Store(t), matcher.DefaultConfig()))
	status, err := p.Process(context.Background(), claim(t, f.db.Store(t), f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)

	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	require.Equal(t, models.StatusCompleted, e.ProcessingStatus)
	require.NotContains(t, *e.CleanedBody, "Alte Forderung", "quoted history removed")
	require.Greater(t, *e.TokenCountBefore, *e.TokenCountAfter)
	var data models.ExtractedData
	require.NoError(t, json.Unmarshal(e.ExtractedData, &data))
	require.InDelta(t, 2345.67, *data.DebtAmount, 0.001)
	require.Equal(t, models.ExtractorRules, data.Extractor)
	require.Equal(t, models.MatchAuto, *e.MatchStatus)
	require.Equal(t, f.inquiry, *e.MatchedInquiryID)
	require.Equal(t, models.SyncPending, e.SyncStatus)
	require.NotNil(t, e.CompletedAt)
	require.Nil(t, e.LeaseToken)

	var up models.DebtUpdate
	require.NoError(t, f.db.Where("incoming_email_id = ?", f.email).Take(&up).Error)
	require.InDelta(t, 2345.67, up.Amount, 0.001)
	require.InDelta(t, 1999.0, *up.PreviousAmount, 0.001)
	for _, kind := range []string{models.OutboxCreditorDebtUpdate, models.OutboxDebtNotification} {
		var n int64
		require.NoError(t, f.db.Model(&models.OutboxMessage{}).Where("aggregate_id = ? AND aggregate_type = ?", f.email, kind).Count(&n).Error)
		require.EqualValues(t, 1, n, kind)
	}
}

func TestPipelineStopsAtNotCreditorReply(t *testing.T) {
	t.Parallel()
	f := setup(t, "Abwesenheitsnotiz: Ich bin bis 10.12. nicht im Büro")
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET raw_body_html = '', raw_body_text = ? WHERE id = ?",
		"Vielen Dank für Ihre Nachricht. Ich bin bis zum 10.12.2026 nicht im Büro und habe keinen Zugriff auf meine E-Mails.", f.email).Error)
	p := newPipeline(f.db.Store(t), rules.New(), matcher.New(f.db.Store(t), matcher.DefaultConfig()))
	status, err := p.Process(context.Background(), claim(t, f.db.Store(t), f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusNotCreditorReply, status)
	var n int64
	require.NoError(t, f.db.Model(&models.DebtUpdate{}).Count(&n).Error)
	require.Zero(t, n)
	require.NoError(t, f.db.Model(&models.OutboxMessage{}).Count(&n).Error)
	require.Zero(t, n)
}

func TestRetryResumesWithoutCallingTheExtractorAgain(t *testing.T) {
	t.Parallel()
	for _, extractor := range []string{models.ExtractorRules, models.ExtractorClaude} {
		t.Run(extractor, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "AW: Ihre Anfrage")
			ex := &countingExtractor{inner: rules.New(), as: extractor}
			m := &flakyMatcher{inner: matcher.New(f.db.Store(t), matcher.DefaultConfig())}
			p := newPipeline(f.db.Store(t), ex, m)

			_, err := p.Process(context.Background(), claim(t, f.db.Store(t), f.email))
			require.Error(t, err)
			var e models.IncomingEmail
			require.NoError(t, f.db.Take(&e, f.email).Error)
			require.Equal(t, models.StatusMatching, e.ProcessingStatus, "failed at the matching stage")
			require.NotEmpty(t, e.ExtractedData, "the extraction was saved")

			// The worker would now mark it retrying and the scheduler queue it again.
			require.NoError(t, f.db.Exec("UPDATE incoming_emails SET processing_status = 'queued', lease_token = NULL WHERE id = ?", f.email).Error)
			status, err := p.Process(context.Background(), claim(t, f.db.Store(t), f.email))
			require.NoError(t, err)
			require.Equal(t, models.StatusCompleted, status)
			require.Equal(t, int64(1), ex.calls.Load(), "the extractor ran once across both attempts")
		})
	}
}

func TestAttemptThatLostItsLeaseWritesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	job := claim(t, f.db.Store(t), f.email)
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_token = 'newer-attempt' WHERE id = ?", f.email).Error)
	p := newPipeline(f.db.Store(t), rules.New(), matcher.New(f.db.Store(t), matcher.DefaultConfig()))
	_, err := p.Process(context.Background(), job)
	require.ErrorIs(t, err, models.ErrLeaseLost)
	var n int64
	require.NoError(t, f.db.Model(&models.DebtUpdate{}).Count(&n).Error)
	require.Zero(t, n)
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	require.Nil(t, e.CleanedBody)
}

// stealingMatcher hands the email to a newer attempt while it matches, as a
// rescue by the reaper and another worker's claim would.
type stealingMatcher struct {
	db    *gorm.DB
	inner pipeline.Matcher
}

func (s stealingMatcher) Match(ctx context.Context, in matcher.Input) (matcher.Result, error) {
	if err := s.db.Exec("UPDATE incoming_emails SET lease_token = 'newer-attempt'").Error; err != nil {
		return matcher.Result{}, err
	}
	return s.inner.Match(ctx, in)
}

// TestLeaseLostBeforeTheFinalWriteWritesNoEffect proves the statement that
// completes the email is guarded by the attempt's lease: an attempt that did
// all the work but lost its email meanwhile records no debt update, no
// outbox row and no completion — on the quick path (the rules, which write
// nothing before the final statement) as on the stage-by-stage one.
func TestLeaseLostBeforeTheFinalWriteWritesNoEffect(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		ex   pipeline.Extractor
		left models.Status
	}{
		"quick":          {rules.New(), models.StatusProcessing},
		"stage by stage": {&countingExtractor{inner: rules.New()}, models.StatusMatching},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, "AW: Ihre Anfrage")
			p := newPipeline(f.db.Store(t), tc.ex, stealingMatcher{db: f.db.DB, inner: matcher.New(f.db.Store(t), matcher.DefaultConfig())})
			_, err := p.Process(context.Background(), claim(t, f.db.Store(t), f.email))
			require.ErrorIs(t, err, models.ErrLeaseLost)

			var e models.IncomingEmail
			require.NoError(t, f.db.Take(&e, f.email).Error)
			require.Equal(t, tc.left, e.ProcessingStatus)
			require.Equal(t, "newer-attempt", *e.LeaseToken)
			var n int64
			require.NoError(t, f.db.Model(&models.DebtUpdate{}).Count(&n).Error)
			require.Zero(t, n)
			require.NoError(t, f.db.Model(&models.OutboxMessage{}).Count(&n).Error)
			require.Zero(t, n)
			var inq models.CreditorInquiry
			require.NoError(t, f.db.Take(&inq, f.inquiry).Error)
			require.False(t, inq.ResponseReceived)
		})
	}
}

func TestPipelineThroughTheWorkerPool(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	r := apptest.NewRedis(t)
	q := workers.NewQueue(r.Client, r.Namespace, "inst")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := workers.NewPool(workers.PoolConfig{
		Concurrency: 2, JobTimeout: 10 * time.Second, LeaseDuration: 10 * time.Second, ShutdownTimeout: time.Second,
		Retry: background.RetryPolicy{MaxRetries: 2, MinBackoff: time.Second, MaxBackoff: time.Second},
	}, f.db.Store(t), q, newPipeline(f.db.Store(t), rules.New(), matcher.New(f.db.Store(t), matcher.DefaultConfig())),
		workers.NewMetrics(prometheus.NewRegistry()), log)
	require.NoError(t, pool.Start(context.Background()))
	t.Cleanup(pool.Stop)
	require.NoError(t, q.Push(context.Background(), f.email))
	apptest.Eventually(t, 15*time.Second, func() bool {
		var e models.IncomingEmail
		return f.db.Take(&e, f.email).Error == nil && e.ProcessingStatus == models.StatusCompleted
	}, "email completed through the pool")
}
