// Package intake decodes a webhook delivery (Decode), stores the email
// durably and hands its id to the queue. PostgreSQL is written first and is
// the truth; the Redis push is best effort, because the reaper dispatches
// whatever it misses. A delivery whose content is unusable is stored failed
// with its raw body, never refused (DESIGN.md §5).
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Pusher hands email ids to the workers.
type Pusher interface {
	Push(ctx context.Context, ids ...uint64) error
}

// Email is a decoded webhook email.
type Email struct {
	TicketID    string
	WebhookID   string // optional
	DedupKey    string // "webhook:" + webhook id, else "body:" + the raw body's SHA-256
	FromEmail   string
	FromName    string
	Subject     string
	BodyHTML    string
	BodyText    string
	ReceivedAt  time.Time
	Attachments []models.Attachment

	// Problems names, per field, what a signed delivery lacks or cannot
	// use (e.g. "ticket_id": "required"). An email with problems is not
	// processed: it is stored failed, so staff see it (DESIGN.md §5).
	Problems map[string]string
	// Warnings lists what tolerant decoding fixed up, for intake_warnings
	// (e.g. "from_email given as Name <address>").
	Warnings []string
	// RawPayload is the delivery's raw body, set when Problems is not
	// empty, so a retry after a fix can decode it again (raw_payload).
	RawPayload []byte
}

// Result says which email row the delivery maps to.
type Result struct {
	ID        uint64
	Duplicate bool
	// Failed says the email was stored failed: its content is unusable.
	Failed bool
}

// Service accepts webhook emails.
type Service struct {
	store *store.Store
	queue Pusher
	log   *slog.Logger
	batch interface { // a groupcommit.Batcher; tests use groupcommittest's
		Do(ctx context.Context, r *request) error
	}
}

// New returns an intake service.
func New(st *store.Store, queue Pusher, log *slog.Logger) *Service {
	s := &Service{store: st, queue: queue, log: log}
	s.batch = groupcommit.New(s.writeBatch, batchOptions())
	return s
}

// Group commit (services/groupcommit): every accepted webhook needs a
// durable INSERT and a queued mark, so concurrent Accept calls are written
// together: one multi-row INSERT, one Redis push and one UPDATE per batch.
// The push and the mark are the batch's finish, done after the next batch
// may start its INSERT.
const (
	// maxFlushers is how many batches are stored at once. One, measured
	// with bench/loadgen (32 senders, 2 cores, PostgreSQL local): two and
	// three flushers made smaller batches (9 and 6 rows against 16), cost
	// PostgreSQL a quarter to a half more CPU per email, and gave no more
	// throughput and a worse p99. One flusher leaves the database little
	// idle time because it passes the role on before its batch's dispatch.
	maxFlushers = 1
	// maxBatchBytes bounds one INSERT (store.MaxInsertRows bounds its
	// rows): bodies of up to 5 MiB must not build statements of hundreds
	// of MiB.
	maxBatchBytes = 8 << 20
)

func batchOptions() groupcommit.Options[*request] {
	return groupcommit.Options[*request]{MaxFlushers: maxFlushers,
		MaxItems: store.MaxInsertRows, MaxBytes: maxBatchBytes, Size: func(r *request) int { return r.email.size() },
		Timeout: writeTimeout}
}

// request is one Accept call's email and, once its batch is written, its answer.
type request struct {
	email    Email
	id       uint64
	inserted bool // false with a nil err: a repeat, the caller looks up the original
	err      error
}

// size is about how many bytes e adds to a batch's INSERT.
func (e Email) size() int {
	return len(e.TicketID) + len(e.WebhookID) + len(e.DedupKey) + len(e.FromEmail) + len(e.FromName) +
		len(e.Subject) + len(e.BodyHTML) + len(e.BodyText) + 256*(1+len(e.Attachments)+len(e.Warnings))
}

// ErrUnavailable means PostgreSQL could not store the email; the caller
// answers 503 so Zendesk delivers it again.
var ErrUnavailable = errors.New("database unavailable")

const (
	// writeTimeout bounds a batch's INSERT. It runs on behalf of several
	// requests, so no single request's context bounds it; it stays below
	// the webhook handler's 8 s, which answers 503 on its own.
	writeTimeout = 5 * time.Second
	// dispatchTimeout bounds the push and the queued mark; the reaper
	// dispatches whatever they miss.
	dispatchTimeout = 2 * time.Second
)

// Accept stores e once (a repeat returns the original id) and dispatches it.
// The unique dedup index, not a check-then-insert, decides between
// concurrent identical deliveries. Concurrent calls are written together
// (group commit, see batchOptions); a call whose ctx ends while it waits gets
// an error, even though its email may have been stored: Zendesk's retry then
// gets "duplicate". An email with Problems is stored failed instead
// (storeUnusable), deduplicated the same way.
func (s *Service) Accept(ctx context.Context, e Email) (Result, error) {
	if len(e.Problems) > 0 {
		return s.storeUnusable(ctx, e)
	}
	r := &request{email: e}
	if err := s.batch.Do(ctx, r); err != nil {
		return Result{}, fmt.Errorf("%w: waiting for the batch: %w", ErrUnavailable, err)
	}
	switch {
	case r.err != nil:
		return Result{}, r.err
	case !r.inserted:
		return s.duplicate(ctx, e)
	}
	return Result{ID: r.id}, nil
}

// writeBatch stores a batch with one INSERT and returns the dispatch of the
// new rows, one push and one UPDATE, which the batcher runs once the next
// batch may be written. A request whose email is not inserted is a repeat
// (of a stored email, or of an earlier request in the same batch); its call
// looks up the original, which is committed by then.
func (s *Service) writeBatch(ctx context.Context, batch []*request) (finish func()) {
	emails := make([]models.IncomingEmail, len(batch))
	for i, r := range batch {
		emails[i] = r.email.Row()
	}
	res, err := s.store.InsertEmails(ctx, emails)
	if err != nil {
		for _, r := range batch {
			r.err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil
	}
	var fresh []uint64
	for i, r := range batch {
		switch {
		case res[i].Err != nil:
			r.err = fmt.Errorf("%w: %w", ErrUnavailable, res[i].Err)
		case res[i].ID != 0:
			r.id, r.inserted = res[i].ID, true
			fresh = append(fresh, res[i].ID)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	// ctx ends with the write (writeTimeout); the dispatch has its own.
	return func() { s.dispatch(context.WithoutCancel(ctx), fresh...) }
}

// storeUnusable stores e, whose content is unusable, as failed with its raw
// payload, warnings, a processing error naming the fields and one failure
// alert, durably and in one statement (store.InsertFailed), so the delivery
// is answered 200 and never lost; nothing is queued. It is rare, so it
// skips the batch: the hot multi-row INSERT stays as it is.
func (s *Service) storeUnusable(ctx context.Context, e Email) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	row := e.Row()
	row.RawPayload = e.RawPayload
	id, err := s.store.InsertFailed(ctx, row, models.ErrorText(errors.New(e.Unusable())))
	switch {
	case err != nil:
		return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	case id == 0:
		return s.duplicate(ctx, e)
	}
	return Result{ID: id, Failed: true}, nil
}

// Row is e as a new incoming_emails row (without its raw payload).
func (e Email) Row() models.IncomingEmail {
	var webhookID *string
	if e.WebhookID != "" {
		webhookID = &e.WebhookID
	}
	return models.IncomingEmail{ZendeskTicketID: e.TicketID, ZendeskWebhookID: webhookID, DedupKey: e.DedupKey,
		FromEmail: e.FromEmail, FromName: e.FromName, Subject: e.Subject, RawBodyHTML: e.BodyHTML, RawBodyText: e.BodyText,
		ReceivedAt: e.ReceivedAt, AttachmentURLs: models.MustJSON(nonNil(e.Attachments)), IntakeWarnings: e.warnings()}
}

// duplicate finds the original of a repeated delivery and, if it is still
// waiting for a worker, makes sure it is queued.
func (s *Service) duplicate(ctx context.Context, e Email) (Result, error) {
	orig, err := s.store.Original(ctx, e.DedupKey, e.WebhookID)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	switch orig.ProcessingStatus {
	case models.StatusReceived, models.StatusQueued:
		s.dispatch(ctx, orig.ID)
	}
	return Result{ID: orig.ID, Duplicate: true}, nil
}

// dispatch pushes ids to Redis and marks those still received queued.
// Neither step may fail a request: the rows are committed, and the reaper
// re-dispatches received rows. The queued mark is committed asynchronously:
// losing it in a crash only leaves a row received, which workers claim as
// well.
func (s *Service) dispatch(ctx context.Context, ids ...uint64) {
	ctx, cancel := context.WithTimeout(ctx, dispatchTimeout)
	defer cancel()
	if err := s.queue.Push(ctx, ids...); err != nil {
		s.log.WarnContext(ctx, "push failed; reaper will dispatch", "email_ids", ids, "error", err)
		return
	}
	if _, err := s.store.MarkQueued(ctx, ids); err != nil {
		s.log.WarnContext(ctx, "mark queued failed", "email_ids", ids, "error", err)
	}
}

// warnings is e's intake_warnings list; nil (the empty list) without any.
func (e Email) warnings() models.JSON {
	if len(e.Warnings) == 0 {
		return nil
	}
	return models.MustJSON(e.Warnings)
}

func nonNil(a []models.Attachment) []models.Attachment {
	if a == nil {
		return []models.Attachment{}
	}
	return a
}
