// Package intake stores an accepted webhook email durably and hands its id
// to the queue. PostgreSQL is written first and is the truth; the Redis push
// is best effort, because the reaper dispatches whatever it misses.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
)

// Pusher hands email ids to the workers.
type Pusher interface {
	Push(ctx context.Context, ids ...uint64) error
}

// Email is a validated webhook email.
type Email struct {
	TicketID    string
	WebhookID   string // optional
	DedupKey    string // webhook id, else invocation id, else a content hash
	FromEmail   string
	FromName    string
	Subject     string
	BodyHTML    string
	BodyText    string
	ReceivedAt  time.Time
	Attachments []models.Attachment
}

// Result says which email row the delivery maps to.
type Result struct {
	ID        uint64
	Duplicate bool
}

// Service accepts webhook emails.
type Service struct {
	db    *gorm.DB // durable commits: the stored email
	async *gorm.DB // models.AsyncPoolDSN: the queued mark
	queue Pusher
	log   *slog.Logger
	batch interface { // a groupcommit.Batcher; tests use groupcommittest's
		Do(ctx context.Context, r *request) error
	}
}

// New returns an intake service.
func New(db, async *gorm.DB, queue Pusher, log *slog.Logger) *Service {
	s := &Service{db: db, async: async, queue: queue, log: log}
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
	// maxBatchRows and maxBatchBytes bound one INSERT: beyond a few dozen
	// rows the statement cost no longer shrinks per row, and bodies of up
	// to 5 MiB must not build statements of hundreds of MiB.
	maxBatchRows  = 64
	maxBatchBytes = 8 << 20
)

func batchOptions() groupcommit.Options[*request] {
	return groupcommit.Options[*request]{MaxFlushers: maxFlushers,
		MaxItems: maxBatchRows, MaxBytes: maxBatchBytes, Size: func(r *request) int { return r.email.size() },
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
		len(e.Subject) + len(e.BodyHTML) + len(e.BodyText) + 256*(1+len(e.Attachments))
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
// gets "duplicate".
func (s *Service) Accept(ctx context.Context, e Email) (Result, error) {
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
// batch may be written. A request whose row is not returned is a repeat
// (of a stored email, or of an earlier request in the same batch); its call
// looks up the original, which is committed by then: ON CONFLICT waits for
// a concurrent insert of the same key to commit before it skips the row.
func (s *Service) writeBatch(ctx context.Context, batch []*request) (finish func()) {
	rows := distinctRows(batch)
	ids, err := s.insert(ctx, rows)
	if err != nil && rowRefused(err) {
		// A row broke a constraint or carried bad data, or the statement
		// lost a deadlock to another batch: write the rows one by one, so
		// only a row at fault fails.
		ids, err = s.insertEach(ctx, rows), nil
	}
	if err != nil {
		for _, r := range batch {
			r.err = fmt.Errorf("%w: insert email: %w", ErrUnavailable, err)
		}
		return nil
	}
	var fresh []uint64
	for _, r := range batch {
		// The first request of a key takes its new id; a later one in
		// the same batch finds it gone and is a repeat.
		if id, ok := ids[r.email.DedupKey]; ok {
			delete(ids, r.email.DedupKey)
			r.id, r.inserted = id, true
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	// ctx ends with the write (writeTimeout); the dispatch has its own.
	return func() { s.dispatch(context.WithoutCancel(ctx), fresh...) }
}

// distinctRows returns the first request of each dedup key, sorted by key.
// A later request with the same key is a repeat and is not sent again. The
// order makes concurrent batches take the unique index's entries in the
// same order, so two batches holding the same keys do not deadlock.
func distinctRows(batch []*request) []*request {
	seen := make(map[string]bool, len(batch))
	rows := make([]*request, 0, len(batch))
	for _, r := range batch {
		if !seen[r.email.DedupKey] {
			seen[r.email.DedupKey] = true
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *request) int { return strings.Compare(a.email.DedupKey, b.email.DedupKey) })
	return rows
}

// insert stores rows with one statement and returns the new ids by dedup
// key; a row that repeats a stored email is not returned. Written by hand and
// sent straight to the connection pool, past GORM: it is the webhook's hot
// path, and GORM's placeholder rewriting and reflective scan cost a tenth of
// its CPU.
func (s *Service) insert(ctx context.Context, rows []*request) (map[string]uint64, error) {
	args := make([]any, 0, len(rows)*insertArgs)
	for _, r := range rows {
		e := r.email
		var webhookID *string
		if e.WebhookID != "" {
			webhookID = &e.WebhookID
		}
		args = append(args, e.TicketID, webhookID, e.DedupKey, e.FromEmail, e.FromName,
			e.Subject, e.BodyHTML, e.BodyText, e.ReceivedAt, models.MustJSON(nonNil(e.Attachments)))
	}
	res, err := s.db.ConnPool.QueryContext(ctx, insertStatements()[len(rows)], args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	ids := make(map[string]uint64, len(rows))
	for res.Next() {
		var (
			id  uint64
			key string
		)
		if err := res.Scan(&id, &key); err != nil {
			return nil, err
		}
		ids[key] = id
	}
	return ids, res.Err()
}

// insertEach stores rows one statement each, setting the error of a row
// that fails, and returns the new ids by dedup key.
func (s *Service) insertEach(ctx context.Context, rows []*request) map[string]uint64 {
	ids := make(map[string]uint64, len(rows))
	for _, r := range rows {
		one, err := s.insert(ctx, []*request{r})
		if err != nil {
			r.err = fmt.Errorf("%w: insert email: %w", ErrUnavailable, err)
			continue
		}
		maps.Copy(ids, one)
	}
	return ids
}

// rowRefused reports whether PostgreSQL answered err about the statement's
// rows (a constraint, bad data, a deadlock), rather than being unreachable,
// overloaded or shutting down, which writing the rows one by one cannot help.
func rowRefused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false // network, timeout, closed pool
	}
	switch pgErr.Code[:2] {
	case "08", "53", "57", "58", "XX": // connection, resources, shutdown/cancel, system, internal
		return false
	}
	return true
}

// insertArgs is the number of arguments per row of insertStatements.
const insertArgs = 10

// insertStatements()[n] stores n emails as received; a repeated dedup key or
// webhook id inserts nothing and returns no row. Each batch size has its own
// fixed text, so pgx prepares each once per connection. Built on first use
// (a few ms), not at start-up of every mode that links this package.
var insertStatements = sync.OnceValue(func() []string {
	stmts := make([]string, maxBatchRows+1)
	for n := 1; n <= maxBatchRows; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO incoming_emails (zendesk_ticket_id, zendesk_webhook_id, dedup_key, from_email, from_name,
  subject, raw_body_html, raw_body_text, received_at, attachment_urls, processing_status, sync_status)
VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(",\n  ")
			}
			b.WriteString("(")
			for j := range insertArgs {
				fmt.Fprintf(&b, "$%d, ", i*insertArgs+j+1)
			}
			b.WriteString("'received', 'not_applicable')")
		}
		b.WriteString("\nON CONFLICT DO NOTHING\nRETURNING id, dedup_key")
		stmts[n] = b.String()
	}
	return stmts
})

// duplicate finds the original of a repeated delivery and, if it is still
// waiting for a worker, makes sure it is queued.
func (s *Service) duplicate(ctx context.Context, e Email) (Result, error) {
	var orig models.IncomingEmail
	q := s.db.WithContext(ctx).Select("id", "processing_status")
	if e.WebhookID != "" {
		q = q.Where("dedup_key = ? OR zendesk_webhook_id = ?", e.DedupKey, e.WebhookID)
	} else {
		q = q.Where("dedup_key = ?", e.DedupKey)
	}
	if err := q.Take(&orig).Error; err != nil {
		return Result{}, fmt.Errorf("%w: find original: %w", ErrUnavailable, err)
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
	_, err := models.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: map[string]any{"last_dispatched_at": gorm.Expr("now()")}}.ApplyAll(ctx, s.async, ids)
	if err != nil {
		s.log.WarnContext(ctx, "mark queued failed", "email_ids", ids, "error", err)
	}
}

func nonNil(a []models.Attachment) []models.Attachment {
	if a == nil {
		return []models.Attachment{}
	}
	return a
}
