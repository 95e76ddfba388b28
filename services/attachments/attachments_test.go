package attachments_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
)

const (
	pdfType  = "application/pdf"
	docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

func TestEachFileIsReadOnceAndStoredBeforeItsTextIsUsed(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	pdf := must(t)(readtest.StatementPDF(2))
	list := []models.Attachment{
		e.zd.Add("forderung.pdf", pdfType, pdf),
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
		e.zd.Add("konto.xlsx", xlsxType, must(t)(readtest.StatementXLSX(20))),
		e.zd.Add("scan.pdf", pdfType, must(t)(readtest.ScannedPDF(1))),
	}
	list[2].Filename = "" // a webhook without a name: the download's Content-Disposition names it
	s := e.stage(t, attachments.Config{})
	job := e.job(t, list, 0)

	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Len(t, texts, 4)
	rows := e.rows(t, job.Email.ID)
	require.Len(t, rows, 4)
	for i, want := range []struct{ reader, typ string }{
		{read.ReaderPDFText, pdfType}, {read.ReaderOffice, docxType}, {read.ReaderOffice, xlsxType}, {read.ReaderOCR, pdfType},
	} {
		r := rows[i]
		requireRow(t, r, models.AttachmentRead, "")
		require.Equal(t, want.reader, *r.Reader, i)
		require.Equal(t, want.typ, r.ContentType, i)
		require.Equal(t, i, texts[i].Position)
		require.Equal(t, *r.Text, texts[i].Text)
		require.Contains(t, *r.Text, "Gesamtforderung", i)
		require.Equal(t, 1, r.Attempts)
	}
	sum := sha256.Sum256(pdf)
	require.Equal(t, hex.EncodeToString(sum[:]), *rows[0].SHA256)
	require.Equal(t, int64(len(pdf)), *rows[0].SizeBytes)
	require.Equal(t, 2, *rows[0].Pages)
	require.Nil(t, rows[1].Pages, "a DOCX has no page count")
	require.Equal(t, "konto.xlsx", rows[2].Filename)
	require.Zero(t, e.zd.LeakedAuth(), "the API token goes to the API host only")

	// A second attempt reuses the rows: nothing is downloaded again.
	texts2, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Equal(t, texts, texts2)
	for _, a := range list {
		name := a.Filename
		if name == "" {
			name = "konto.xlsx"
		}
		require.Equal(t, 1, e.zd.Requests(name), name)
	}
}

func TestWithoutCredentialsEveryFileIsSkippedOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	f, err := fetch.New(fetch.Config{})
	require.NoError(t, err)
	s := attachments.New(e.st, f, e.reader, attachments.Config{})
	list := []models.Attachment{e.zd.Add("a.pdf", pdfType, []byte("%PDF")), e.zd.Add("b.pdf", pdfType, []byte("%PDF"))}
	job := e.job(t, list, 0)

	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Empty(t, texts)
	rows := e.rows(t, job.Email.ID)
	require.Len(t, rows, 2)
	for _, r := range rows {
		requireRow(t, r, models.AttachmentSkipped, "Zendesk credentials not configured (")
		require.Zero(t, r.Attempts)
		require.Equal(t, int64(4), *r.SizeBytes, "the size Zendesk declared")
	}
	first := rows[0].UpdatedAt

	_, err = s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Equal(t, first, e.rows(t, job.Email.ID)[0].UpdatedAt, "recorded once")
	require.Zero(t, e.zd.Requests("a.pdf"))
}

func TestATransientFailureRetriesOnlyThatFile(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{
		e.zd.Add("forderung.pdf", pdfType, must(t)(readtest.StatementPDF(1))),
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
	}
	e.zd.FailNext("forderung.docx", http.StatusServiceUnavailable)
	s := e.stage(t, attachments.Config{MaxRetries: 5})
	job := e.job(t, list, 0)

	_, err := s.Read(e.ctx, job, list)
	var tr *models.TransientError
	require.ErrorAs(t, err, &tr)
	require.Equal(t, time.Second, tr.RetryAfter, "Zendesk's Retry-After")
	require.ErrorContains(t, err, "attachment 1: GET https://127.0.0.1")
	rows := e.rows(t, job.Email.ID)
	requireRow(t, rows[0], models.AttachmentRead, "")
	requireRow(t, rows[1], models.AttachmentFailed, "status 503")

	// The retry reads the failed file; the read one is not fetched again.
	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Len(t, texts, 2)
	rows = e.rows(t, job.Email.ID)
	requireRow(t, rows[1], models.AttachmentRead, "")
	require.Equal(t, 2, rows[1].Attempts)
	require.Equal(t, 1, e.zd.Requests("forderung.pdf"))
	require.Equal(t, 2, e.zd.Requests("forderung.docx"))
}

func TestTheLastAttemptGoesOnWithoutTheFailedFile(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{
		e.zd.Add("forderung.pdf", pdfType, must(t)(readtest.StatementPDF(1))),
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
	}
	e.zd.FailNext("forderung.pdf", http.StatusBadGateway)
	s := e.stage(t, attachments.Config{MaxRetries: 2})
	job := e.job(t, list, 2) // retried twice: this attempt is the last

	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Len(t, texts, 1)
	require.Equal(t, 1, texts[0].Position)
	requireRow(t, e.rows(t, job.Email.ID)[0], models.AttachmentFailed, "status 502")
}

func TestRefusedHostsFailTheFileNotTheEmail(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{
		{URL: "https://files.evil.example/forderung.pdf", Filename: "forderung.pdf"},
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
	}
	s := e.stage(t, attachments.Config{})
	job := e.job(t, list, 0)
	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err, "a refusal is no reason to retry")
	require.Len(t, texts, 1)
	rows := e.rows(t, job.Email.ID)
	requireRow(t, rows[0], models.AttachmentFailed, "not in ATTACHMENT_ALLOWED_HOSTS")
	requireRow(t, rows[1], models.AttachmentRead, "")

	// Zendesk's redirect to a content host that is not listed is refused too.
	only := e.stage(t, attachments.Config{}, func(c *fetch.Config) { c.AllowedHosts = c.APIHost })
	job = e.job(t, list[1:], 0)
	texts, err = only.Read(e.ctx, job, list[1:])
	require.NoError(t, err)
	require.Empty(t, texts)
	requireRow(t, e.rows(t, job.Email.ID)[0], models.AttachmentFailed, "not in ATTACHMENT_ALLOWED_HOSTS")
	require.Equal(t, 1, e.zd.Requests("forderung.docx"), "the refused hop was never requested")
}

func TestCapsAndBrokenFilesAreUnreadable(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{MaxPages: 3})
	whole := must(t)(readtest.StatementPDF(1))
	list := []models.Attachment{
		e.zd.Add("gross.bin", "application/octet-stream", bytes.Repeat([]byte("x"), 1200<<10)),
		e.zd.Add("konto.pdf", pdfType, must(t)(readtest.StatementPDF(5))),
		e.zd.Add("kaputt.pdf", pdfType, whole[:len(whole)/2]),
		e.zd.Add("bombe.docx", docxType, must(t)(readtest.DOCXBomb(64<<20))),
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
	}
	s := e.stage(t, attachments.Config{}, func(c *fetch.Config) { c.MaxBytes = 1 << 20 })
	job := e.job(t, list, 0)

	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Len(t, texts, 1)
	require.Equal(t, 4, texts[0].Position)
	rows := e.rows(t, job.Email.ID)
	requireRow(t, rows[0], models.AttachmentUnreadable, "attachment too large")
	requireRow(t, rows[1], models.AttachmentUnreadable, "too many pages (5 > ATTACHMENT_MAX_PAGES 3)")
	requireRow(t, rows[2], models.AttachmentUnreadable, "corrupt PDF")
	requireRow(t, rows[3], models.AttachmentUnreadable, "ZIP bomb")
	require.NotNil(t, rows[3].SHA256, "it was downloaded, then refused")

	// Unreadable is final: a later attempt does not download them again.
	_, err = s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Equal(t, 1, e.zd.Requests("konto.pdf"))
}

func TestAFileTooSlowOnEveryTryBecomesUnreadable(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{e.zd.Add("langsam.pdf", pdfType, must(t)(readtest.StatementPDF(1)))}
	e.zd.Stall("langsam.pdf", true)
	s := e.stage(t, attachments.Config{MaxRetries: 5, FileTimeout: 200 * time.Millisecond},
		func(c *fetch.Config) { c.Timeout = 200 * time.Millisecond })
	job := e.job(t, list, 0)

	for try := 1; try <= 2; try++ {
		_, err := s.Read(e.ctx, job, list)
		var tr *models.TransientError
		require.ErrorAs(t, err, &tr, "try %d", try)
		row := e.rows(t, job.Email.ID)[0]
		requireRow(t, row, models.AttachmentFailed, "download took longer than 200ms")
		require.Equal(t, try, row.Timeouts)
	}
	texts, err := s.Read(e.ctx, job, list)
	require.NoError(t, err)
	require.Empty(t, texts)
	requireRow(t, e.rows(t, job.Email.ID)[0], models.AttachmentUnreadable,
		"too slow to download within ATTACHMENT_TIMEOUT (200ms) on 3 tries")
}

func TestTheEmailsTimeLimitFailsWhatIsLeft(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{
		e.zd.Add("langsam.pdf", pdfType, must(t)(readtest.StatementPDF(1))),
		e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX())),
	}
	e.zd.Stall("langsam.pdf", true)
	s := e.stage(t, attachments.Config{MaxRetries: 5, EmailTimeout: 300 * time.Millisecond})
	job := e.job(t, list, 0)

	_, err := s.Read(e.ctx, job, list)
	var tr *models.TransientError
	require.ErrorAs(t, err, &tr)
	rows := e.rows(t, job.Email.ID)
	require.Len(t, rows, 2, "every attachment has its row")
	for _, r := range rows {
		requireRow(t, r, models.AttachmentFailed, "not read within ATTACHMENT_EMAIL_TIMEOUT (300ms)")
		require.Zero(t, r.Timeouts, "the file's own limit did not pass")
	}
}

func TestAnAttemptThatLostTheEmailWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	list := []models.Attachment{e.zd.Add("forderung.docx", docxType, must(t)(readtest.StatementDOCX()))}
	s := e.stage(t, attachments.Config{})
	job := e.job(t, list, 0)
	job.Token = "an-older-attempt"
	_, err := s.Read(e.ctx, job, list)
	require.ErrorIs(t, err, models.ErrLeaseLost)
	require.Empty(t, e.rows(t, job.Email.ID))
}

// countingReader counts the reads in flight.
type countingReader struct {
	inner     read.Reader
	now, most atomic.Int32
	mu        sync.Mutex
}

func (c *countingReader) Read(ctx context.Context, f read.File) (read.Result, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	c.mu.Lock()
	c.most.Store(max(c.most.Load(), n))
	c.mu.Unlock()
	return c.inner.Read(ctx, f)
}

func TestReadsInFlightAreBoundedAcrossWorkers(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{})
	reader := &countingReader{inner: e.reader}
	fc := e.zd.FetchConfig()
	fc.TempDir = t.TempDir()
	f, err := fetch.New(fc)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	s := attachments.New(e.st, f, reader, attachments.Config{MaxReads: 1})

	var wg sync.WaitGroup
	for i := range 6 {
		name := strings.Repeat("x", i+1) + ".docx"
		list := []models.Attachment{e.zd.Add(name, docxType, must(t)(readtest.StatementDOCX()))}
		job := e.job(t, list, 0)
		wg.Go(func() {
			texts, err := s.Read(e.ctx, job, list)
			require.NoError(t, err)
			require.Len(t, texts, 1)
		})
	}
	wg.Wait()
	require.EqualValues(t, 1, reader.most.Load(), "one read at a time")
}

// waitingTranscriber waits on the model's rate limit until its context
// ends, as claude's Transcriber does when the Limiter holds the call.
type waitingTranscriber struct{}

func (waitingTranscriber) Transcribe(ctx context.Context, _ read.Scan) (read.Result, error) {
	<-ctx.Done()
	return read.Result{}, models.RateLimited(ctx.Err(), models.WaitRateLimit, time.Second)
}

// A transcription that waits on the model's rate limit past the file's
// time is no fault of the file: it stays failed on every try (never
// unreadable for slowness), and the attempt ends as a rate-limit wait.
func TestARateLimitWaitIsNoTimeoutOfTheFile(t *testing.T) {
	t.Parallel()
	e := setup(t, read.Config{Timeout: time.Second, Transcriber: waitingTranscriber{}})
	list := []models.Attachment{e.zd.Add("scan.pdf", pdfType, must(t)(readtest.ScannedPDF(1)))}
	s := e.stage(t, attachments.Config{MaxRetries: 5, FileTimeout: time.Second})
	job := e.job(t, list, 0)

	for try := 1; try <= 4; try++ {
		_, err := s.Read(e.ctx, job, list)
		var waited *models.RateLimitedError
		require.ErrorAs(t, err, &waited, "try %d", try)
		row := e.rows(t, job.Email.ID)[0]
		requireRow(t, row, models.AttachmentFailed, "waited on the model's rate limit")
		require.Zero(t, row.Timeouts, "try %d", try)
	}
}
