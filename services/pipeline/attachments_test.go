package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/zendesktest"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// coverLetter names the client and the case but no amount: the figure is
// in the attachment.
const coverLetter = `<div>Sehr geehrte Damen und Herren,<br><br>in Sachen Ihrer Mandantin Frau Erika Musterfrau,
Ihr Zeichen 2026/0042, erhalten Sie anbei unsere aktuelle Forderungsaufstellung.<br><br>
Mit freundlichen Grüßen<br>Stadtwerke Beispielstadt GmbH</div>`

// attached is a pipeline fixture whose email lists attachments served by
// a fake Zendesk, with a pipeline that reads them.
type attached struct {
	fixture
	zd       *zendesktest.Server
	pipeline *pipeline.Pipeline
	stages   []string // the stages the pipeline observed, in order
}

// setupAttached stores the fixture's email with body html and the files
// (name → content type, bytes) as its attachments.
func setupAttached(t *testing.T, html string, files ...zendeskFile) *attached {
	t.Helper()
	a := &attached{fixture: setup(t, "AW: Ihre Anfrage"), zd: zendesktest.Start()}
	t.Cleanup(a.zd.Close)
	var list []models.Attachment
	for _, f := range files {
		list = append(list, a.zd.Add(f.name, f.typ, f.data))
	}
	require.NoError(t, a.db.Exec("UPDATE incoming_emails SET raw_body_html = ?, attachment_urls = ? WHERE id = ?",
		html, models.MustJSON(list), a.email).Error)
	st := a.db.Store(t)
	a.pipeline = pipeline.New(st, rules.New(), matcher.New(st, matcher.DefaultConfig()), debts.Writer{SyncEnabled: true},
		func(stage string, _ time.Duration) { a.stages = append(a.stages, stage) },
		pipeline.WithAttachments(newStage(t, a.fixture, a.zd)))
	return a
}

type zendeskFile struct {
	name, typ string
	data      []byte
}

// newStage is the attachment stage on the fake Zendesk, with real readers.
func newStage(t *testing.T, f fixture, zd *zendesktest.Server) *attachments.Stage {
	t.Helper()
	fc := zd.FetchConfig()
	fc.TempDir = t.TempDir()
	fetcher, err := fetch.New(fc)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, fetcher.Close()) })
	reader, err := read.New(context.Background(), read.Config{TempDir: t.TempDir()})
	require.NoError(t, err)
	return attachments.New(f.db.Store(t), fetcher, reader, attachments.Config{MaxRetries: 2})
}

func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return b
	}
}

// email reads the fixture's email and its extraction.
func (f fixture) read(t *testing.T) (models.IncomingEmail, models.ExtractedData) {
	t.Helper()
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	var data models.ExtractedData
	if len(e.ExtractedData) > 0 {
		require.NoError(t, json.Unmarshal(e.ExtractedData, &data))
	}
	return e, data
}

func TestTheAttachedStatementGivesTheAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file   zendeskFile
		reader string
	}{
		{zendeskFile{"forderung.pdf", "application/pdf", must(t)(readtest.StatementPDF(2))}, read.ReaderPDFText},
		{zendeskFile{"forderung.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			must(t)(readtest.StatementDOCX())}, read.ReaderOffice},
		{zendeskFile{"konto.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			must(t)(readtest.StatementXLSX(30))}, read.ReaderOffice},
	} {
		t.Run(tc.file.name, func(t *testing.T) {
			t.Parallel()
			a := setupAttached(t, coverLetter, tc.file)
			status, err := a.pipeline.Process(context.Background(), claim(t, a.db.Store(t), a.email))
			require.NoError(t, err)
			require.Equal(t, models.StatusCompleted, status)
			require.Equal(t, []string{"parse", "attachments", "extract", "match"}, a.stages)

			e, data := a.read(t)
			require.InDelta(t, 1212.40, *data.DebtAmount, 0.001)
			require.Equal(t, models.AttachmentSource(0), data.Sources[models.FieldDebtAmount])
			require.Equal(t, models.MatchAuto, *e.MatchStatus, "one clear total: applied")
			var chosen models.AmountEvidence
			for _, ev := range data.AmountEvidence {
				if ev.Chosen {
					chosen = ev
				}
			}
			require.Equal(t, tc.file.name, chosen.Filename)
			require.Contains(t, chosen.Excerpt, "Gesamtforderung")

			// The job detail shows the file, how it was read and the excerpt.
			d, err := jobs.New(a.db.Store(t), nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Get(context.Background(), a.email)
			require.NoError(t, err)
			require.Len(t, d.Attachments, 1)
			got := d.Attachments[0]
			require.Equal(t, models.AttachmentRead, got.Status)
			require.Equal(t, tc.reader, *got.Reader)
			require.Equal(t, tc.file.name, got.Filename)
			require.Equal(t, int64(len(tc.file.data)), *got.SizeBytes)
			require.Equal(t, chosen.Excerpt, *got.Excerpt)
		})
	}
}

func TestAScannedStatementIsReadByOCR(t *testing.T) {
	t.Parallel()
	a := setupAttached(t, coverLetter, zendeskFile{"scan.pdf", "application/pdf", must(t)(readtest.ScannedPDF(1))})
	status, err := a.pipeline.Process(context.Background(), claim(t, a.db.Store(t), a.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	_, data := a.read(t)
	require.Equal(t, models.AttachmentSource(0), data.Sources[models.FieldDebtAmount])
	// OCR may misread the last digit (services/attachments/read).
	require.InDelta(t, 1212.45, *data.DebtAmount, 0.051)
	rows, err := a.db.Store(t).Attachments(context.Background(), a.email)
	require.NoError(t, err)
	require.Equal(t, read.ReaderOCR, *rows[0].Reader)
}

func TestSourcesThatDisagreeGoToReview(t *testing.T) {
	t.Parallel()
	body := `<div>Sehr geehrte Damen und Herren,<br>in Sachen Ihrer Mandantin Frau Erika Musterfrau, Ihr Zeichen 2026/0042,
beträgt unsere Gesamtforderung 1.500,00 €. Die Aufstellung liegt bei.<br>Mit freundlichen Grüßen<br>Stadtwerke Beispielstadt GmbH</div>`
	a := setupAttached(t, body, zendeskFile{"forderung.pdf", "application/pdf", must(t)(readtest.StatementPDF(1))})
	status, err := a.pipeline.Process(context.Background(), claim(t, a.db.Store(t), a.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)

	e, data := a.read(t)
	require.True(t, data.SourcesDisagree)
	amounts := map[string]float64{}
	for _, ev := range data.AmountEvidence {
		amounts[ev.Source] = ev.Amount
	}
	require.InDelta(t, 1500.00, amounts[models.SourceBody], 0.001)
	require.InDelta(t, 1212.40, amounts[models.AttachmentSource(0)], 0.001)
	require.Equal(t, models.MatchNeedsReview, *e.MatchStatus)
	require.Contains(t, string(e.Review), models.ReasonSourcesDisagree)
	require.Equal(t, models.SyncNotApplicable, e.SyncStatus, "no amount is applied automatically")
	var n int64
	require.NoError(t, a.db.Model(&models.OutboxMessage{}).
		Where("aggregate_id = ? AND aggregate_type = ?", a.email, models.OutboxCreditorDebtUpdate).Count(&n).Error)
	require.Zero(t, n, "nothing goes to the portal")
	require.NoError(t, a.db.Model(&models.DebtUpdate{}).Where("incoming_email_id = ?", a.email).Count(&n).Error)
	require.Zero(t, n, "no debt update until a person decides")
	require.NoError(t, a.db.Model(&models.OutboxMessage{}).
		Where("aggregate_id = ? AND aggregate_type = ?", a.email, models.OutboxReviewNeeded).Count(&n).Error)
	require.EqualValues(t, 1, n, "staff are told")
}

func TestAttachmentsGoWithoutCredentialsAsSkipped(t *testing.T) {
	t.Parallel()
	a := setupAttached(t, replyHTML, zendeskFile{"forderung.pdf", "application/pdf", must(t)(readtest.StatementPDF(1))})
	fetcher, err := fetch.New(fetch.Config{})
	require.NoError(t, err)
	reader, err := read.New(context.Background(), read.Config{TempDir: t.TempDir()})
	require.NoError(t, err)
	st := a.db.Store(t)
	p := pipeline.New(st, rules.New(), matcher.New(st, matcher.DefaultConfig()), debts.Writer{}, nil,
		pipeline.WithAttachments(attachments.New(st, fetcher, reader, attachments.Config{})))
	status, err := p.Process(context.Background(), claim(t, st, a.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	_, data := a.read(t)
	require.InDelta(t, 2345.67, *data.DebtAmount, 0.001, "the body's amount, as before attachments were read")
	rows, err := st.Attachments(context.Background(), a.email)
	require.NoError(t, err)
	require.Equal(t, models.AttachmentSkipped, rows[0].Status)
	require.Zero(t, a.zd.Requests("forderung.pdf"))
}

// TestA503RetriesTheJobAndReadsOnlyWhatIsLeft runs the pipeline in the
// worker pool with the retry scheduler: Zendesk's 503 for the second file
// makes the attempt retry; the next attempt downloads only that file.
func TestA503RetriesTheJobAndReadsOnlyWhatIsLeft(t *testing.T) {
	t.Parallel()
	a := setupAttached(t, coverLetter,
		zendeskFile{"forderung.pdf", "application/pdf", must(t)(readtest.StatementPDF(1))},
		zendeskFile{"brief.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", must(t)(readtest.StatementDOCX())})
	a.zd.FailNext("brief.docx", http.StatusServiceUnavailable)
	st := a.db.Store(t)
	r := apptest.NewRedis(t)
	q := workers.NewQueue(r.Client, r.Namespace, "inst")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := workers.NewPool(workers.PoolConfig{
		Concurrency: 1, JobTimeout: 30 * time.Second, LeaseDuration: 10 * time.Second, ShutdownTimeout: time.Second,
		Retry: background.RetryPolicy{MaxRetries: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}, st, q, a.pipeline, workers.NewMetrics(prometheus.NewRegistry()), log)
	sched := workers.NewScheduler(st, q, 20*time.Millisecond, log)
	require.NoError(t, sched.Start(context.Background()))
	t.Cleanup(sched.Stop)
	require.NoError(t, pool.Start(context.Background()))
	t.Cleanup(pool.Stop)
	require.NoError(t, q.Push(context.Background(), a.email))
	apptest.Eventually(t, 30*time.Second, func() bool {
		e, _ := a.read(t)
		return e.ProcessingStatus == models.StatusCompleted
	}, "email completed after its retry")

	e, data := a.read(t)
	require.Equal(t, 1, e.RetryCount)
	require.InDelta(t, 1212.40, *data.DebtAmount, 0.001)
	attempts := []models.EmailAttempt{}
	require.NoError(t, a.db.Where("incoming_email_id = ?", a.email).Order("id").Find(&attempts).Error)
	require.Len(t, attempts, 2)
	require.Equal(t, models.OutcomeRetry, *attempts[0].Outcome)
	require.Contains(t, *attempts[0].Error, "status 503")
	require.Equal(t, 1, a.zd.Requests("forderung.pdf"), "read once, reused by the retry")
	require.Equal(t, 2, a.zd.Requests("brief.docx"))
}

func TestUnreadableAndRefusedFilesLeaveTheEmailToComplete(t *testing.T) {
	t.Parallel()
	whole := must(t)(readtest.StatementPDF(1))
	a := setupAttached(t, replyHTML,
		zendeskFile{"kaputt.pdf", "application/pdf", whole[:len(whole)/2]},
		zendeskFile{"bombe.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			must(t)(readtest.DOCXBomb(64 << 20))})
	e, _ := a.read(t)
	list, err := e.Attachments()
	require.NoError(t, err)
	list = append(list, models.Attachment{URL: "https://files.evil.example/forderung.pdf", Filename: "forderung.pdf"})
	require.NoError(t, a.db.Exec("UPDATE incoming_emails SET attachment_urls = ? WHERE id = ?", models.MustJSON(list), a.email).Error)

	status, err := a.pipeline.Process(context.Background(), claim(t, a.db.Store(t), a.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	e, data := a.read(t)
	require.InDelta(t, 2345.67, *data.DebtAmount, 0.001, "the body's amount")
	require.Equal(t, models.SourceBody, data.Sources[models.FieldDebtAmount])
	require.Equal(t, models.MatchAuto, *e.MatchStatus)
	rows, err := a.db.Store(t).Attachments(context.Background(), a.email)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	for i, want := range []struct{ status, reason string }{
		{models.AttachmentUnreadable, "corrupt PDF"},
		{models.AttachmentUnreadable, "ZIP bomb"},
		{models.AttachmentFailed, "host is not in ATTACHMENT_ALLOWED_HOSTS"},
	} {
		require.Equal(t, want.status, rows[i].Status, i)
		require.Contains(t, *rows[i].Error, want.reason, i)
	}
}
