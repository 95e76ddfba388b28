package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// MaxInsertRows bounds the emails one InsertEmails statement stores: beyond
// a few dozen rows the statement's cost no longer shrinks per row.
const MaxInsertRows = 64

// Inserted is what InsertEmails did with one email: its new id, or 0 when
// it repeats a stored email (or an earlier one of the same call), or Err
// when PostgreSQL refused its row.
type Inserted struct {
	ID  uint64
	Err error
}

// InsertEmails stores up to MaxInsertRows emails as received, durably, with
// one multi-row INSERT, and returns what happened to each, in order. The
// unique dedup key and webhook id, not a check-then-insert, decide between
// concurrent identical deliveries: a repeat inserts nothing (ON CONFLICT
// waits for a concurrent insert of the same key to commit before it skips
// the row, so the original can be read at once). The error is for the call
// as a whole: PostgreSQL unavailable.
//
// Should a row break a constraint or carry bad data, or the statement lose a
// deadlock to another, the rows are written one by one, so only a row at
// fault fails. Rows are sent in dedup-key order, so concurrent statements
// holding the same keys take the unique index's entries in the same order
// and do not deadlock.
func (s *Store) InsertEmails(ctx context.Context, emails []models.IncomingEmail) ([]Inserted, error) {
	if len(emails) > MaxInsertRows {
		return nil, fmt.Errorf("insert emails: %d rows, at most %d", len(emails), MaxInsertRows)
	}
	rows := distinctRows(emails)
	ids, err := s.insert(ctx, rows)
	var failed map[string]error
	if err != nil && rowRefused(err) {
		ids, failed, err = s.insertEach(ctx, rows)
	}
	if err != nil {
		return nil, fmt.Errorf("insert emails: %w", err)
	}
	out := make([]Inserted, len(emails))
	for i, e := range emails {
		// The first email of a key takes its new id; a later one finds it
		// gone and is a repeat.
		if id, ok := ids[e.DedupKey]; ok {
			delete(ids, e.DedupKey)
			out[i].ID = id
		} else if err, ok := failed[e.DedupKey]; ok {
			out[i].Err = fmt.Errorf("insert email: %w", err)
		}
	}
	return out, nil
}

// distinctRows returns the first email of each dedup key, sorted by key.
func distinctRows(emails []models.IncomingEmail) []*models.IncomingEmail {
	seen := make(map[string]bool, len(emails))
	rows := make([]*models.IncomingEmail, 0, len(emails))
	for i := range emails {
		if e := &emails[i]; !seen[e.DedupKey] {
			seen[e.DedupKey] = true
			rows = append(rows, e)
		}
	}
	slices.SortFunc(rows, func(a, b *models.IncomingEmail) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	return rows
}

// insert stores rows with one statement and returns the new ids by dedup
// key; a row that repeats a stored email is not returned. Written by hand and
// sent straight to the connection pool, past GORM: it is the webhook's hot
// path, and GORM's placeholder rewriting and reflective scan cost a tenth of
// its CPU (measured with BenchmarkAccept in services/intake, bench/README.md).
func (s *Store) insert(ctx context.Context, rows []*models.IncomingEmail) (map[string]uint64, error) {
	args := make([]any, 0, len(rows)*insertArgs)
	for _, e := range rows {
		args = append(args, e.ZendeskTicketID, e.ZendeskWebhookID, e.DedupKey, e.FromEmail, e.FromName,
			e.Subject, e.RawBodyHTML, e.RawBodyText, e.ReceivedAt, e.AttachmentURLs, warnings(e))
	}
	res, err := s.db.Statement.ConnPool.QueryContext(ctx, insertStatements()[len(rows)], args...)
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

// insertEach stores rows one statement each and returns the new ids and
// the errors of the rows that failed, by dedup key.
func (s *Store) insertEach(ctx context.Context, rows []*models.IncomingEmail) (map[string]uint64, map[string]error, error) {
	ids := make(map[string]uint64, len(rows))
	failed := map[string]error{}
	for _, e := range rows {
		one, err := s.insert(ctx, []*models.IncomingEmail{e})
		if err != nil {
			failed[e.DedupKey] = err
			continue
		}
		maps.Copy(ids, one)
	}
	return ids, failed, nil
}

// insertArgs is the number of arguments per row of insertStatements.
const insertArgs = 11

// warnings is e's intake_warnings, the empty list when it has none (the
// column is NOT NULL; a parameter cannot ask for its default).
func warnings(e *models.IncomingEmail) any {
	if len(e.IntakeWarnings) == 0 {
		return noWarnings
	}
	return e.IntakeWarnings
}

// noWarnings is an empty intake_warnings list.
const noWarnings = "[]"

// insertStatements()[n] stores n emails as received; a repeated dedup key or
// webhook id inserts nothing and returns no row. Each batch size has its own
// fixed text, so pgx prepares each once per connection. Built on first use
// (a few ms), not at start-up of every mode that links this package.
var insertStatements = sync.OnceValue(func() []string {
	stmts := make([]string, MaxInsertRows+1)
	for n := 1; n <= MaxInsertRows; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO incoming_emails (zendesk_ticket_id, zendesk_webhook_id, dedup_key, from_email, from_name,
  subject, raw_body_html, raw_body_text, received_at, attachment_urls, intake_warnings, processing_status, sync_status)
VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(",\n  ")
			}
			b.WriteString("(")
			for j := range insertArgs {
				fmt.Fprintf(&b, "$%d, ", i*insertArgs+j+1)
			}
			fmt.Fprintf(&b, "'%s', '%s')", models.StatusReceived, models.SyncNotApplicable)
		}
		b.WriteString("\nON CONFLICT DO NOTHING\nRETURNING id, dedup_key")
		stmts[n] = b.String()
	}
	return stmts
})

// Original finds the stored email a repeated delivery repeats: by dedup
// key, or by webhook id when it has one. It returns the email's id and
// state only; models.ErrNotFound when there is none.
func (s *Store) Original(ctx context.Context, dedupKey, webhookID string) (models.IncomingEmail, error) {
	var orig models.IncomingEmail
	q := s.db.WithContext(ctx).Select("id", "processing_status")
	if webhookID != "" {
		q = q.Where("dedup_key = ? OR zendesk_webhook_id = ?", dedupKey, webhookID)
	} else {
		q = q.Where("dedup_key = ?", dedupKey)
	}
	err := q.Take(&orig).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.IncomingEmail{}, models.ErrNotFound
	}
	if err != nil {
		return models.IncomingEmail{}, fmt.Errorf("find original: %w", err)
	}
	return orig, nil
}

// MarkQueued moves the emails of ids that are still received to queued,
// stamping the dispatch, in one statement, and returns the ids that moved.
// It commits asynchronously: losing the mark in a crash only leaves a row
// received, which workers claim as well.
func (s *Store) MarkQueued(ctx context.Context, ids []uint64) ([]uint64, error) {
	c := change{To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: []assign{{"last_dispatched_at", now}}}
	return c.applyAll(ctx, s.async, ids)
}

// insertFailedSQL stores an unusable delivery as failed, with its failure
// alert, in one statement: the alert is written only if the email is (its
// key is OutboxKey's, "failure_alert:<id>", and its payload gets the new
// id), so a repeat of the delivery, which inserts nothing, alerts nobody
// again.
const insertFailedSQL = `WITH stored AS (
  INSERT INTO incoming_emails (zendesk_ticket_id, zendesk_webhook_id, dedup_key, from_email, from_name,
    subject, raw_body_html, raw_body_text, received_at, attachment_urls, intake_warnings, raw_payload,
    processing_status, processing_error, completed_at, sync_status)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)
  ON CONFLICT DO NOTHING
  RETURNING id
), alert AS (
  INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
  SELECT ?, id, jsonb_set(?::jsonb, '{email_id}', to_jsonb(id)), ? || id FROM stored
  ON CONFLICT (idempotency_key) DO NOTHING
)
SELECT id FROM stored`

// InsertFailed stores e, a signed delivery whose content is unusable, as
// failed with msg as its processing error, its raw payload and warnings,
// and its one failure alert, durably and in one statement (DESIGN.md §5:
// the state machine's received → failed, taken within the INSERT). It
// returns the new id, or 0 when e repeats a stored email (by dedup key or
// webhook id; the unique indexes decide, as for InsertEmails): then
// nothing is written, no second alert either.
func (s *Store) InsertFailed(ctx context.Context, e models.IncomingEmail, msg string) (uint64, error) {
	if !models.CanTransition(models.StatusReceived, models.StatusFailed) {
		return 0, fmt.Errorf("insert failed email: received → failed is not in the state machine")
	}
	kind := models.OutboxFailureAlert
	var ids []uint64
	err := s.db.WithContext(ctx).Raw(insertFailedSQL,
		e.ZendeskTicketID, e.ZendeskWebhookID, e.DedupKey, e.FromEmail, e.FromName, e.Subject, e.RawBodyHTML,
		e.RawBodyText, e.ReceivedAt, e.AttachmentURLs, warnings(&e), e.RawPayload,
		string(models.StatusFailed), msg, models.SyncNotApplicable,
		kind, models.MustJSON(models.FailureAlert(e, msg)), kind+":").Find(&ids).Error
	if err != nil {
		return 0, fmt.Errorf("insert failed email: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}
