package review_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

type setup struct {
	db      *apptest.DB
	svc     *review.Service
	inquiry uint64
}

func newSetup(t *testing.T) setup {
	t.Helper()
	db := apptest.NewDB(t)
	inq := models.CreditorInquiry{ClientName: "Mustermann, Max", CreditorName: "Inkasso Beispiel GmbH", DebtAmount: ptr(1000.0)}
	require.NoError(t, db.Omit("id").Create(&inq).Error)
	svc := review.NewService(db.Store(t), debts.Writer{SyncEnabled: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return setup{db: db, svc: svc, inquiry: inq.ID}
}

// held stores an email the guard held, proposing the setup's inquiry.
func (s setup) held(t *testing.T, amount *float64) uint64 {
	t.Helper()
	data := models.ExtractedData{IsCreditorReply: true, ClientName: "Mustermann, Max", DebtAmount: amount, Extractor: "rules"}
	rv := models.Review{Reasons: []models.ReviewReason{{Code: models.ReasonAmountChange, Message: "x"}},
		ProposedInquiryID: &s.inquiry, Amount: amount}
	var id uint64
	require.NoError(t, s.db.Raw(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at,
  processing_status, match_status, matched_inquiry_id, extracted_data, review, completed_at)
VALUES ('1', ?, 'a@b.de', now(), 'completed', 'needs_review', ?, ?, ?, now()) RETURNING id`,
		apptest.RandomID(), s.inquiry, models.MustJSON(data), models.MustJSON(rv)).Row().Scan(&id))
	return id
}

func (s setup) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.db.Table(table).Where(where, args...).Count(&n).Error)
	return n
}

func TestConcurrentDecisionsApplyOnce(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	id := s.held(t, ptr(2500.0))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.svc.Decide(context.Background(), id, review.Request{Action: models.ReviewApprove, DecidedBy: "api"})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Equal(t, models.ECONFLICT, models.ErrorCode(err), err)
		}
	}
	require.Equal(t, 1, ok)
	require.EqualValues(t, 1, s.count(t, "debt_updates", "incoming_email_id = ? AND amount = 2500", id))
	require.EqualValues(t, 1, s.count(t, "review_decisions", "incoming_email_id = ?", id))
	for _, kind := range []string{models.OutboxCreditorDebtUpdate, models.OutboxDebtNotification} {
		require.EqualValues(t, 1, s.count(t, "outbox_messages", "aggregate_id = ? AND aggregate_type = ?", id, kind), kind)
	}
	require.EqualValues(t, 1, s.count(t, "creditor_inquiries", "id = ? AND response_received", s.inquiry))
	require.EqualValues(t, 1, s.count(t, "incoming_emails", "id = ? AND match_status = 'reviewed' AND sync_status = 'pending'", id))
}

func TestEachAction(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	ctx := context.Background()

	missing := uint64(999999)
	id := s.held(t, ptr(2500.0))
	err := s.svc.Decide(ctx, id, review.Request{Action: models.ReviewReassign, InquiryID: &missing, DecidedBy: "api"})
	require.Equal(t, models.EINVALID, models.ErrorCode(err), "reassign to a missing inquiry")
	require.NoError(t, s.svc.Decide(ctx, id, review.Request{Action: models.ReviewReassign, InquiryID: &s.inquiry, DecidedBy: "api"}))
	require.EqualValues(t, 1, s.count(t, "debt_updates", "incoming_email_id = ? AND creditor_inquiry_id = ?", id, s.inquiry))

	id = s.held(t, ptr(2500.0))
	err = s.svc.Decide(ctx, id, review.Request{Action: models.ReviewCorrect, Amount: ptr(430.0), DecidedBy: "api"})
	require.Equal(t, models.EINVALID, models.ErrorCode(err), "a correction needs a note")
	require.NoError(t, s.svc.Decide(ctx, id, review.Request{Action: models.ReviewCorrect, Amount: ptr(430.0),
		Note: "Kontoauszug Seite 2", DecidedBy: "sess-1"}))
	require.EqualValues(t, 1, s.count(t, "debt_updates", "incoming_email_id = ? AND amount = 430", id))
	require.EqualValues(t, 1, s.count(t, "review_decisions", "incoming_email_id = ? AND session_id = 'sess-1' AND amount = 430", id))

	id = s.held(t, ptr(2500.0))
	require.NoError(t, s.svc.Decide(ctx, id, review.Request{Action: models.ReviewReject, DecidedBy: "api"}))
	require.Zero(t, s.count(t, "debt_updates", "incoming_email_id = ?", id))
	require.Zero(t, s.count(t, "outbox_messages", "aggregate_id = ?", id))

	id = s.held(t, nil)
	require.NoError(t, s.svc.Decide(ctx, id, review.Request{Action: models.ReviewApprove, DecidedBy: "api"}))
	require.Zero(t, s.count(t, "debt_updates", "incoming_email_id = ?", id), "no amount, no debt update")
	require.EqualValues(t, 1, s.count(t, "creditor_inquiries", "id = ? AND response_received", s.inquiry))

	err = s.svc.Decide(ctx, 123456789, review.Request{Action: models.ReviewReject, DecidedBy: "api"})
	require.Equal(t, models.ENOTFOUND, models.ErrorCode(err))
}

func TestListOldestFirstWithCounts(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	first := s.held(t, ptr(1.0))
	s.held(t, ptr(2.0))
	q, err := s.svc.List(context.Background(), review.Filter{})
	require.NoError(t, err)
	require.EqualValues(t, 2, q.Total)
	require.EqualValues(t, 2, q.ByReason[models.ReasonAmountChange])
	require.Zero(t, q.ByReason[models.ReasonNoSource])
	require.Equal(t, first, q.Items[0].ID)
	_, err = s.svc.List(context.Background(), review.Filter{Reason: "made_up"})
	require.Equal(t, models.EINVALID, models.ErrorCode(err))
}
