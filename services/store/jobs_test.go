package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestListEmailsFiltersCountsAndPages(t *testing.T) {
	t.Parallel()
	f := setup(t)
	failed, queued := f.insert(t, models.StatusFailed, ""), f.insert(t, models.StatusQueued, "")
	f.insert(t, models.StatusFailed, "") // another sender
	require.NoError(t, f.db.Exec(`UPDATE incoming_emails SET from_email = '100%_sure@x.de', subject = 'Ihre Anfrage vom Mai',
		received_at = now() - (id % 10) * interval '1 minute' WHERE id IN (?, ?)`, failed, queued).Error)

	by, rows, err := f.st.ListEmails(f.ctx, store.EmailFilter{Status: models.StatusFailed, From: "100%_"},
		store.Page{Limit: 10, SubjectRunes: 5})
	require.NoError(t, err)
	require.Len(t, by, len(models.AllStatuses), "every state is counted")
	require.EqualValues(t, 1, by[models.StatusFailed], "counts ignore the status filter, not the sender's")
	require.EqualValues(t, 1, by[models.StatusQueued])
	require.Len(t, rows, 1)
	require.Equal(t, failed, rows[0].ID)
	require.Equal(t, "Ihre ", rows[0].Subject)

	_, page, err := f.st.ListEmails(f.ctx, store.EmailFilter{}, store.Page{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	last := page[1]
	_, rest, err := f.st.ListEmails(f.ctx, store.EmailFilter{},
		store.Page{Limit: 2, After: &store.Position{ReceivedAt: last.ReceivedAt, ID: last.ID}})
	require.NoError(t, err)
	require.Len(t, rest, 1)
	require.NotContains(t, []uint64{page[0].ID, page[1].ID}, rest[0].ID)
}

func TestRetryFailedGoesThroughTheTable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusFailed, "")
	require.NoError(t, f.db.Exec(`UPDATE incoming_emails SET retry_count = 5, rescue_count = 2, processing_error = 'x',
		completed_at = now() WHERE id = ?`, id).Error)
	require.NoError(t, f.st.RetryFailed(f.ctx, id))
	e := f.email(t, id)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Zero(t, e.RetryCount)
	require.Zero(t, e.RescueCount)
	require.Nil(t, e.ProcessingError)
	require.Nil(t, e.CompletedAt)
	require.NotNil(t, e.LastDispatchedAt)
	require.ErrorIs(t, f.st.RetryFailed(f.ctx, id), models.ErrTransitionRefused)
	status, err := f.st.EmailStatus(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, models.StatusQueued, status)
	_, err = f.st.EmailStatus(f.ctx, 987654)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = f.st.Email(f.ctx, 987654)
	require.ErrorIs(t, err, models.ErrNotFound)

	batch := []uint64{f.insert(t, models.StatusFailed, ""), f.insert(t, models.StatusFailed, ""), f.insert(t, models.StatusFailed, "")}
	f.insert(t, models.StatusCompleted, "")
	ids, err := f.st.RetryFailedBatch(f.ctx, store.EmailFilter{}, 2)
	require.NoError(t, err)
	require.Equal(t, batch[:2], ids, "id order, no more than asked")
	n, err := f.st.CountEmails(f.ctx, store.EmailFilter{Status: models.StatusFailed})
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	_, err = f.st.RetryFailedBatch(f.ctx, store.EmailFilter{Status: models.StatusCompleted}, 2)
	require.Error(t, err)
}

// TestRetryDecodedFillsFields: a stored delivery's retry writes the fields
// decoded again, clears what was derived from the old ones, keeps its
// identity and payload, and goes through the table like RetryFailed; the
// batch retry leaves such rows to it.
func TestRetryDecodedFillsFields(t *testing.T) {
	t.Parallel()
	f := setup(t)
	e := newEmail("stored-" + apptest.RandomID())
	e.ZendeskTicketID, e.FromEmail, e.RawPayload = "", "", []byte(`{"any":"thing"}`)
	id, err := f.st.InsertFailed(f.ctx, e, "unusable delivery: ticket_id: required")
	require.NoError(t, err)
	require.NoError(t, f.db.Exec(`UPDATE incoming_emails SET cleaned_body = 'old', extracted_data = '{}' WHERE id = ?`, id).Error)

	got, err := f.st.StoredDelivery(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, models.StatusFailed, got.ProcessingStatus)
	require.Equal(t, e.RawPayload, got.RawPayload)
	require.False(t, got.CreatedAt.IsZero())
	_, err = f.st.StoredDelivery(f.ctx, 987654)
	require.ErrorIs(t, err, models.ErrNotFound)
	head, size, err := f.st.RawPayloadHead(f.ctx, id, 5)
	require.NoError(t, err)
	require.Equal(t, []byte(`{"any`), head)
	require.EqualValues(t, len(e.RawPayload), size)

	ids, err := f.st.RetryFailedBatch(f.ctx, store.EmailFilter{}, 10)
	require.NoError(t, err)
	require.Empty(t, ids, "a stored delivery is never retried without decoding it")

	fixed := newEmail("fixed")
	fixed.IntakeWarnings = models.JSON(`["w"]`)
	require.NoError(t, f.st.RetryDecoded(f.ctx, id, fixed))
	row := f.email(t, id)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
	require.Equal(t, fixed.ZendeskTicketID, row.ZendeskTicketID)
	require.Equal(t, fixed.FromEmail, row.FromEmail)
	require.Equal(t, fixed.RawBodyText, row.RawBodyText)
	require.JSONEq(t, `["w"]`, string(row.IntakeWarnings))
	require.Nil(t, row.ProcessingError)
	require.Nil(t, row.CleanedBody)
	require.Nil(t, row.ExtractedData)
	require.Equal(t, e.DedupKey, row.DedupKey)
	require.Equal(t, e.RawPayload, row.RawPayload)
	require.ErrorIs(t, f.st.RetryDecoded(f.ctx, id, fixed), models.ErrTransitionRefused)

	head, size, err = f.st.RawPayloadHead(f.ctx, f.insert(t, models.StatusFailed, ""), 5)
	require.NoError(t, err)
	require.Nil(t, head)
	require.Zero(t, size)
}

func TestReadStats(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.insert(t, models.StatusFailed, "")
	q := f.insert(t, models.StatusQueued, "")
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET received_at = now() - interval '90 seconds' WHERE id = ?", q).Error)
	_, err := f.st.EnqueueOutbox(f.ctx, models.OutboxFailureAlert, q, map[string]any{})
	require.NoError(t, err)
	st, err := f.st.ReadEmailStats(f.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.ByStatus[models.StatusFailed])
	require.InDelta(t, 90, st.OldestWaitingSeconds, 30)
	ob, err := f.st.ReadOutboxStats(f.ctx)
	require.NoError(t, err)
	require.Equal(t, store.OutboxCounts{Backlog: 1}, ob[models.OutboxFailureAlert])
}
