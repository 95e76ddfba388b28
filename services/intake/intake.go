// Package intake stores an accepted webhook email durably and hands its id
// to the queue. PostgreSQL is written first and is the truth; the Redis push
// is best effort, because the reaper dispatches whatever it misses.
package intake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
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
	async *gorm.DB // synchronous_commit=off: the queued mark
	queue Pusher
	log   *slog.Logger
}

// New returns an intake service.
func New(db, async *gorm.DB, queue Pusher, log *slog.Logger) *Service {
	return &Service{db: db, async: async, queue: queue, log: log}
}

// ErrUnavailable means PostgreSQL could not store the email; the caller
// answers 503 so Zendesk delivers it again.
var ErrUnavailable = errors.New("database unavailable")

// insertSQL stores a new email as received; a repeated dedup key or webhook
// id inserts nothing and returns no row. Written by hand and sent straight to
// the connection pool, past GORM: it is the webhook's hot path, and GORM's
// placeholder rewriting and reflective scan cost a tenth of its CPU.
const insertSQL = `
INSERT INTO incoming_emails (zendesk_ticket_id, zendesk_webhook_id, dedup_key, from_email, from_name,
  subject, raw_body_html, raw_body_text, received_at, attachment_urls, processing_status, sync_status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'received', 'not_applicable')
ON CONFLICT DO NOTHING
RETURNING id`

// Accept stores e once (a repeat returns the original id) and dispatches it.
// The unique dedup index, not a check-then-insert, decides between
// concurrent identical deliveries.
func (s *Service) Accept(ctx context.Context, e Email) (Result, error) {
	var webhookID *string
	if e.WebhookID != "" {
		webhookID = &e.WebhookID
	}
	var id uint64
	err := s.db.ConnPool.QueryRowContext(ctx, insertSQL, e.TicketID, webhookID, e.DedupKey, e.FromEmail, e.FromName,
		e.Subject, e.BodyHTML, e.BodyText, e.ReceivedAt, models.MustJSON(nonNil(e.Attachments))).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.duplicate(ctx, e)
	case err != nil:
		return Result{}, fmt.Errorf("%w: insert email: %w", ErrUnavailable, err)
	}
	s.dispatch(ctx, id)
	return Result{ID: id}, nil
}

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

// dispatch pushes id to Redis and marks it queued. Neither step may fail the
// request: the row is committed, and the reaper re-dispatches received rows.
// The queued mark is committed asynchronously: losing it in a crash only
// leaves the row received, which workers claim as well.
func (s *Service) dispatch(ctx context.Context, id uint64) {
	if err := s.queue.Push(ctx, id); err != nil {
		s.log.WarnContext(ctx, "push failed; reaper will dispatch", "email_id", id, "error", err)
		return
	}
	err := models.Change{
		ID: id, To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: map[string]any{"last_dispatched_at": gorm.Expr("now()")},
	}.Apply(ctx, s.async)
	if err != nil && !errors.Is(err, models.ErrTransitionRefused) {
		s.log.WarnContext(ctx, "mark queued failed", "email_id", id, "error", err)
	}
}

func nonNil(a []models.Attachment) []models.Attachment {
	if a == nil {
		return []models.Attachment{}
	}
	return a
}
