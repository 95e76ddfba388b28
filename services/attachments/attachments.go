// Package attachments is the pipeline stage between parsed and extracting
// for an email that lists attachments (status reading_attachments): it
// downloads each file from Zendesk (package fetch), reads it into text
// (package read) and stores one email_attachments row per file before
// extraction uses it.
//
// The resume rule: a row that is read, skipped or unreadable is settled and
// reused on every later attempt — its file is never downloaded again; only
// a file without a row, or whose row is failed, is fetched. So a retry or a
// restart after a crash reads only what was not read yet.
//
// What a file's row says:
//
//   - read: its text is stored (capped at ATTACHMENT_TEXT_MAX_CHARS) with
//     the reader, pages and the file's size and SHA-256.
//   - skipped: not downloaded because the Zendesk credentials are not set;
//     written once, and mail is processed on the body alone.
//   - unreadable: the file itself cannot be read (encrypted, corrupt, over
//     ATTACHMENT_MAX_BYTES or ATTACHMENT_MAX_PAGES, an archive, flagged as
//     malware), or it ran out of ATTACHMENT_TIMEOUT on MaxTimeouts tries.
//   - failed: the download or read failed in a way a later attempt may not:
//     a timeout, a 5xx or 429, a killed reader program, the email's
//     ATTACHMENT_EMAIL_TIMEOUT; or a refusal an operator can lift (a host
//     outside ATTACHMENT_ALLOWED_HOSTS, 401/403/404). A transient failure
//     makes the stage return a models.Transient error after the other files
//     are stored, so the job retries and reads just that file again. On the
//     job's last attempt (RetryCount ≥ JOB_MAX_RETRIES) the stage goes on
//     with what was read instead, leaving the file failed, so the email is
//     not lost for one slow file. A refusal fails only its file: the email
//     goes on, and its next attempt (a retry for another reason, a manual
//     retry) tries the file again.
//
// Memory: a download streams to a temporary file, removed after the read;
// reads run at most Config.MaxReads at once in the process, whatever the
// number of workers, so the bytes held by in-process readers (DOCX, XLSX)
// and by reader output are bounded.
package attachments

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Fetcher downloads an attachment into a temporary file (fetch.Fetcher).
type Fetcher interface {
	// Configured reports whether the Zendesk credentials are set.
	Configured() bool
	Fetch(ctx context.Context, rawURL string) (fetch.Download, error)
}

// Config bounds the stage. Zero fields take the defaults below.
type Config struct {
	// EmailTimeout bounds the stage for one email, every download and read
	// included (ATTACHMENT_EMAIL_TIMEOUT). Files not done by then are failed
	// and read on the next attempt.
	EmailTimeout time.Duration
	// FileTimeout is ATTACHMENT_TIMEOUT, named in the reason of a file that
	// was too slow on every try (the limit itself is the fetcher's and the
	// reader's).
	FileTimeout time.Duration
	// MaxReads bounds the files read at once in this process, across all
	// workers (0: the number of CPUs).
	MaxReads int
	// MaxRetries is JOB_MAX_RETRIES: an attempt whose email has been retried
	// that often is its last, and goes on without the files that failed.
	MaxRetries int
	// MaxTimeouts is how many tries of one file may run out of FileTimeout
	// before it is unreadable (0: DefaultMaxTimeouts).
	MaxTimeouts int
}

// Defaults of Config.
const (
	DefaultEmailTimeout = 5 * time.Minute
	DefaultMaxTimeouts  = 3
)

// Stage reads emails' attachments and stores their rows. One per process:
// its read slots are the process's. Safe for concurrent use.
type Stage struct {
	store *store.Store
	fetch Fetcher
	read  read.Reader
	cfg   Config
	reads chan struct{}
}

// New returns the stage over st, downloading with f and reading with r.
func New(st *store.Store, f Fetcher, r read.Reader, cfg Config) *Stage {
	if cfg.EmailTimeout <= 0 {
		cfg.EmailTimeout = DefaultEmailTimeout
	}
	if cfg.FileTimeout <= 0 {
		cfg.FileTimeout = read.DefaultTimeout
	}
	if cfg.MaxReads <= 0 {
		cfg.MaxReads = runtime.NumCPU()
	}
	if cfg.MaxTimeouts <= 0 {
		cfg.MaxTimeouts = DefaultMaxTimeouts
	}
	return &Stage{store: st, fetch: f, read: r, cfg: cfg, reads: make(chan struct{}, cfg.MaxReads)}
}

// errEmailTimeout is the cause of the stage's deadline for one email.
var errEmailTimeout = errors.New("attachment stage ran out of ATTACHMENT_EMAIL_TIMEOUT")

// Read brings every attachment in list (the email's attachment list, its
// index the position) to a stored row, reusing settled rows, and returns
// the texts of the files that were read, in position order, for
// extraction. It returns a models.Transient error when a file failed
// transiently and this is not the email's last attempt (its row and the
// others are stored first); models.ErrLeaseLost when the attempt lost the
// email; the context's error when the attempt was cancelled.
func (s *Stage) Read(ctx context.Context, job *models.Job, list []models.Attachment) ([]models.AttachmentText, error) {
	stored, err := s.store.Attachments(ctx, job.Email.ID)
	if err != nil {
		return nil, err
	}
	rows := make(map[int]models.EmailAttachment, len(stored))
	for _, r := range stored {
		rows[r.Position] = r
	}
	if !s.fetch.Configured() {
		if err := s.skipAll(ctx, job, list, rows); err != nil {
			return nil, err
		}
		return texts(list, rows), nil
	}
	again, err := s.readPending(ctx, job, list, rows)
	if err != nil {
		return nil, err
	}
	if again != nil && job.Email.RetryCount < s.cfg.MaxRetries {
		return nil, again
	}
	return texts(list, rows), nil
}

// skipAll records every attachment without a settled row as skipped, in
// one statement: without credentials nothing can be downloaded.
func (s *Stage) skipAll(ctx context.Context, job *models.Job, list []models.Attachment, rows map[int]models.EmailAttachment) error {
	var skipped []models.EmailAttachment
	for pos, att := range list {
		if prev, ok := rows[pos]; ok && prev.Settled() {
			continue
		}
		row := newRow(pos, att, rows[pos])
		row.Attempts = rows[pos].Attempts // nothing was tried
		setError(&row, models.AttachmentSkipped, fetch.ErrNotConfigured.Error())
		skipped = append(skipped, row)
		rows[pos] = row
	}
	return s.store.SaveAttachments(ctx, job, skipped)
}

// readPending downloads and reads each attachment without a settled row,
// storing its row as soon as it is done, under the email's time limit. It
// returns the transient failure to retry for (nil when there is none).
func (s *Stage) readPending(ctx context.Context, job *models.Job, list []models.Attachment,
	rows map[int]models.EmailAttachment) (*models.TransientError, error) {
	ectx, cancel := context.WithTimeoutCause(ctx, s.cfg.EmailTimeout, errEmailTimeout)
	defer cancel()
	var again *models.TransientError
	for pos, att := range list {
		if prev, ok := rows[pos]; ok && prev.Settled() {
			continue
		}
		row, retry := s.readOne(ectx, pos, att, rows[pos])
		if err := ctx.Err(); err != nil && row.Status != models.AttachmentRead {
			return nil, err // the attempt was cancelled: its failures say nothing about the file
		}
		if err := s.save(ctx, job, row); err != nil {
			return nil, err
		}
		rows[pos] = row
		if retry != nil && again == nil {
			again = &models.TransientError{Err: fmt.Errorf("attachment %d: %w", pos, retry)}
		}
		if retry != nil {
			again.RetryAfter = max(again.RetryAfter, retryAfter(retry))
		}
	}
	return again, nil
}

// save stores row. A file that was read is stored even when the attempt
// was cancelled meanwhile (shutdown), as the read cost real time; the lease
// guard still keeps an attempt that lost the email from writing.
func (s *Stage) save(ctx context.Context, job *models.Job, row models.EmailAttachment) error {
	if row.Status == models.AttachmentRead && ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
	}
	return s.store.SaveAttachments(ctx, job, []models.EmailAttachment{row})
}

// readOne downloads and reads one file and returns its row, and the error
// to retry for when it failed transiently.
func (s *Stage) readOne(ctx context.Context, pos int, att models.Attachment, prev models.EmailAttachment) (models.EmailAttachment, error) {
	row := newRow(pos, att, prev)
	d, err := s.fetch.Fetch(ctx, att.URL)
	if err != nil {
		return row, s.downloadFailed(ctx, &row, err)
	}
	defer func() { _ = d.Remove() }() // a file left behind goes with the fetcher's directory
	row.SizeBytes, row.SHA256 = &d.Size, &d.SHA256
	if row.Filename == "" {
		row.Filename = storable(d.Filename)
	}
	if row.ContentType == "" {
		row.ContentType = d.ContentType
	}
	res, err := s.readFile(ctx, read.File{Name: row.Filename, ContentType: row.ContentType, Path: d.Path})
	if err != nil {
		return row, s.readFailed(ctx, &row, err)
	}
	text := storable(res.Text)
	row.Status, row.Reader, row.Text, row.Truncated = models.AttachmentRead, &res.Reader, &text, res.Truncated
	if row.ContentType == "" {
		row.ContentType = res.Type // sniffed; a DOCX sniffs as application/zip, so declared types come first
	}
	if res.Pages > 0 {
		row.Pages = &res.Pages
	}
	return row, nil
}

// readFile reads f in one of the process's read slots.
func (s *Stage) readFile(ctx context.Context, f read.File) (read.Result, error) {
	select {
	case s.reads <- struct{}{}:
	case <-ctx.Done():
		return read.Result{}, fmt.Errorf("waiting for a read slot: %w", context.Cause(ctx))
	}
	defer func() { <-s.reads }()
	return s.read.Read(ctx, f)
}

// newRow starts the row of the attachment at pos from what Zendesk sent,
// counting this try on top of prev's.
func newRow(pos int, att models.Attachment, prev models.EmailAttachment) models.EmailAttachment {
	row := models.EmailAttachment{Position: pos, Filename: storable(att.Filename), ContentType: storable(att.ContentType),
		Attempts: prev.Attempts + 1, Timeouts: prev.Timeouts}
	if att.Size > 0 {
		size := att.Size
		row.SizeBytes = &size
	}
	return row
}

// texts returns the read rows' texts in position order.
func texts(list []models.Attachment, rows map[int]models.EmailAttachment) []models.AttachmentText {
	var out []models.AttachmentText
	for pos := range list {
		if r, ok := rows[pos]; ok && r.Status == models.AttachmentRead && r.Text != nil {
			out = append(out, models.AttachmentText{Position: pos, Filename: r.Filename, Text: *r.Text})
		}
	}
	return out
}
