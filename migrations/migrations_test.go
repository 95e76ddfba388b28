package migrations_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/migrations"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// tables lists the tables of the schema in db.Schema.
func tables(t *testing.T, db *apptest.DB) []string {
	t.Helper()
	var names []string
	require.NoError(t, db.Raw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = ? ORDER BY table_name`, db.Schema).Scan(&names).Error)
	return names
}

func appliedCount(t *testing.T, db *apptest.DB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM schema_migrations").Scan(&n).Error)
	return n
}

func TestRunFromEmptySchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewEmptyDB(t)
	require.Empty(t, tables(t, db))

	require.NoError(t, migrations.Run(ctx, db.DB))

	require.Subset(t, tables(t, db), []string{
		"incoming_emails", "email_attempts", "creditor_inquiries", "debt_updates",
		"outbox_messages", "schema_migrations", "admin_sessions",
	})

	var indexDef string
	require.NoError(t, db.Raw(`SELECT indexdef FROM pg_indexes
		WHERE schemaname = ? AND tablename = 'incoming_emails'
		  AND indexname = 'incoming_emails_status_received_idx'`, db.Schema).Scan(&indexDef).Error)
	require.Contains(t, indexDef, "(processing_status, received_at)")
	// Every status change writes each index of the table: it keeps only these
	// (the review queue's is partial: only held emails have an entry).
	var indexes []string
	require.NoError(t, db.Raw(`SELECT indexname FROM pg_indexes
		WHERE schemaname = ? AND tablename = 'incoming_emails'`, db.Schema).Scan(&indexes).Error)
	require.ElementsMatch(t, []string{"incoming_emails_pkey", "incoming_emails_dedup_key_key",
		"incoming_emails_zendesk_webhook_id_key", "incoming_emails_status_received_idx",
		"incoming_emails_received_id_idx", "incoming_emails_review_open_idx"}, indexes)

	// The columns other systems and later issues rely on.
	var cols []string
	require.NoError(t, db.Raw(`SELECT column_name FROM information_schema.columns
		WHERE table_schema = ? AND table_name = 'incoming_emails'`, db.Schema).Scan(&cols).Error)
	require.Subset(t, cols, []string{
		"id", "zendesk_ticket_id", "zendesk_webhook_id", "from_email", "from_name", "subject",
		"raw_body_html", "raw_body_text", "cleaned_body", "token_count_before", "token_count_after",
		"extracted_data", "processing_status", "processing_error", "matched_inquiry_id", "match_status",
		"match_confidence", "received_at", "started_at", "completed_at", "processed_at", "created_at",
		"updated_at", "retry_count", "attachment_urls", "sync_status", "sync_error", "lease_token",
		"lease_until", "next_attempt_at", "raw_payload", "intake_warnings",
	})
}

func TestRerunIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t) // already migrated once
	before := appliedCount(t, db)
	require.Positive(t, before)

	require.NoError(t, db.Exec(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at)
		VALUES ('1', 'k1', 'a@b.de', now())`).Error)

	require.NoError(t, migrations.Run(ctx, db.DB))
	require.NoError(t, migrations.Run(ctx, db.DB))

	require.Equal(t, before, appliedCount(t, db))
	var rows int64
	require.NoError(t, db.Raw("SELECT count(*) FROM incoming_emails").Scan(&rows).Error)
	require.Equal(t, int64(1), rows, "re-running keeps the data")
}

func TestConcurrentRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewEmptyDB(t)

	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = migrations.Run(ctx, db.DB)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "runner %d", i)
	}

	var distinct, total int64
	require.NoError(t, db.Raw("SELECT count(DISTINCT id), count(*) FROM schema_migrations").Row().Scan(&distinct, &total))
	require.Equal(t, distinct, total, "each migration recorded once")
	require.Subset(t, tables(t, db), []string{"incoming_emails", "outbox_messages"})

	// The lock was released: another run does not block.
	require.NoError(t, migrations.Run(ctx, db.DB))
}

func TestStatusCheckConstraint(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	insert := func(status string) error {
		return db.Exec(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at, processing_status)
			VALUES ('1', ?, 'a@b.de', now(), ?)`, "k-"+status, status).Error
	}

	err := insert("bogus")
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "got %v", err)
	require.Equal(t, "23514", pgErr.Code, "check_violation")

	require.NoError(t, insert("received"))
	err = db.Exec("UPDATE incoming_emails SET processing_status = 'done'").Error
	require.True(t, errors.As(err, &pgErr), "got %v", err)
	require.Equal(t, "23514", pgErr.Code)
}

// TestEmailBodiesLiveOutOfTheRow proves an email row stays small: a body
// that PostgreSQL would compress and keep inline by default goes to the
// TOAST table, so each of the row's status versions copies a pointer
// instead of the compressed body.
func TestEmailBodiesLiveOutOfTheRow(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	const rows = 100
	// 5 KB that compresses to about 1.3 KB: inline by default (rows under 2 KB).
	require.NoError(t, db.Exec(`
INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at, raw_body_html)
SELECT g::text, 'k' || g, 'a@b.de', now(),
  repeat((SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 40) i), 4)
FROM generate_series(1, ?) g`, rows).Error)
	versions := 1
	for _, status := range []string{"queued", "processing", "parsed"} {
		require.NoError(t, db.Exec("UPDATE incoming_emails SET processing_status = ?", status).Error)
		versions++
	}
	var heap, toast int64
	require.NoError(t, db.Raw(`SELECT pg_relation_size(c.oid), pg_relation_size(c.reltoastrelid)
FROM pg_class c WHERE c.oid = 'incoming_emails'::regclass`).Row().Scan(&heap, &toast))
	require.Less(t, heap, int64(rows*versions*500), "bodies kept in the row: heap %d bytes", heap)
	require.Greater(t, toast, int64(rows*1000), "toast %d bytes", toast)
}

// TestStatusCheckAcceptsEveryState keeps the CHECK constraint and the state
// machine of package models in step: every state can be stored.
func TestStatusCheckAcceptsEveryState(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	for _, s := range models.AllStatuses {
		require.NoError(t, db.Exec(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at, processing_status)
			VALUES ('1', ?, 'a@b.de', now(), ?)`, "k-"+string(s), string(s)).Error, s)
	}
}

// TestOutboxKindCheckAcceptsEveryKind keeps the CHECK constraint on
// outbox_messages and the kinds of package models in step.
func TestOutboxKindCheckAcceptsEveryKind(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	insert := func(kind string) error {
		return db.Exec(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
			VALUES (?, 1, '{}', ?)`, kind, kind+":1").Error
	}
	for _, k := range models.OutboxKinds {
		require.NoError(t, insert(k), k)
	}
	require.Error(t, insert("made_up_kind"))
}

func TestEmailAttachmentsConstraints(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	var email uint64
	require.NoError(t, db.Raw(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at)
		VALUES ('1', 'k1', 'a@b.de', now()) RETURNING id`).Row().Scan(&email))
	insert := func(position int, status, reader string) error {
		return db.Exec(`INSERT INTO email_attachments (incoming_email_id, position, status, reader)
			VALUES (?, ?, ?, NULLIF(?, ''))`, email, position, status, reader).Error
	}
	for i, r := range []string{"pdf_text", "office", "ocr", "model", "text"} {
		require.NoError(t, insert(i, "read", r))
	}
	require.NoError(t, insert(5, "skipped", ""))
	require.NoError(t, insert(6, "unreadable", ""))
	require.NoError(t, insert(7, "failed", ""))
	var pgErr *pgconn.PgError
	for _, bad := range []error{insert(8, "done", ""), insert(8, "read", "magic"), insert(-1, "read", "")} {
		require.True(t, errors.As(bad, &pgErr), "got %v", bad)
		require.Equal(t, "23514", pgErr.Code, "check_violation")
	}
	err := insert(0, "failed", "")
	require.True(t, errors.As(err, &pgErr), "got %v", err)
	require.Equal(t, "23505", pgErr.Code, "one row per position")

	require.NoError(t, db.Exec("DELETE FROM incoming_emails WHERE id = ?", email).Error)
	var left int64
	require.NoError(t, db.Raw("SELECT count(*) FROM email_attachments").Row().Scan(&left))
	require.Zero(t, left, "rows go with their email")
}
