package outbox

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

// TestApprovedReviewSyncsPortal follows a held amount to the portal: nothing
// reaches the client's file while it waits; once a person approves it, the
// relay delivers it and the portal document (FerretDB) has the amount.
func TestApprovedReviewSyncsPortal(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	m := setupMongo(t)
	portalFixture(t, m)
	beforeB := m.raw(t, "client-b")

	az, creditorEmail, prevClaim := "123/24", "info@inkasso-a.de", 100.0
	inq := models.CreditorInquiry{ClientName: "Mustermann, Max", ClientAktenzeichen: &az, CreditorName: "Inkasso A GmbH",
		CreditorEmail: &creditorEmail, DebtAmount: &prevClaim}
	require.NoError(t, s.db.Omit("id").Create(&inq).Error)
	amount, prev := 1850.75, 100.0
	data := models.ExtractedData{IsCreditorReply: true, ClientName: "Mustermann, Max", ClientAktenzeichen: az,
		CreditorName: "Inkasso A GmbH", DebtAmount: &amount, ReferenceNumbers: []string{"AZ-1"},
		Summary: "Forderung beträgt 1.850,75 EUR", Extractor: "rules", Confidence: 0.9}
	rv := models.Review{Reasons: []models.ReviewReason{{Code: models.ReasonAmountChange, Message: "changed"}},
		Sentence: "changed", ProposedInquiryID: &inq.ID, Amount: &amount, PreviousAmount: &prev}
	received := time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC)
	var id uint64
	require.NoError(t, s.db.Raw(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at,
  processing_status, match_status, matched_inquiry_id, extracted_data, review, sync_status, completed_at, attachment_urls)
VALUES ('4242', ?, ?, ?, 'completed', 'needs_review', ?, ?, ?, 'not_applicable', now(), '[]') RETURNING id`,
		"k:"+apptest.RandomID(), creditorEmail, received, inq.ID, models.MustJSON(data), models.MustJSON(rv)).Row().Scan(&id))

	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxCreditorDebtUpdate: m.sink})
	require.Zero(t, runOnce(t, s.ctx, r), "a held amount queues no portal sync")
	_, answered := m.entry(t, "client-a", 0)["current_debt_amount"]
	require.False(t, answered)

	svc := review.NewService(s.st, debts.Writer{SyncEnabled: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, svc.Decide(s.ctx, id, review.Request{Action: models.ReviewApprove, DecidedBy: "api"}))
	require.Equal(t, models.SyncPending, s.emailRow(t, id).SyncStatus)
	require.EqualValues(t, 1, s.outboxCount(t, id, models.OutboxCreditorDebtUpdate))

	require.Equal(t, 2, runOnce(t, s.ctx, r)) // the sync, and the notification (no mail sink here: skipped)
	require.Equal(t, models.SyncSynced, s.emailRow(t, id).SyncStatus)
	e := m.entry(t, "client-a", 0)
	require.Equal(t, amount, e["current_debt_amount"])
	require.Equal(t, amount, e["creditor_response_amount"])
	require.Equal(t, "creditor_response", e["amount_source"])
	require.Equal(t, 100.0, e["claim_amount"], "the original claim stays")
	require.Equal(t, beforeB, m.raw(t, "client-b"), "the other client is untouched")
}

// TestSMTPSinkSendsReviewNeededWithScreenLink: the staff mail names the
// reasons, no amounts or names, and links the item's review screen.
func TestSMTPSinkSendsReviewNeededWithScreenLink(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	sink := smtpSinkFor(ts)
	p := models.ReviewNeededPayload{EmailID: 42, TicketID: "4711", Reasons: []string{models.ReasonAmountChange},
		Sentence: "The amount changed by more than allowed."}
	require.NoError(t, sink.Deliver(context.Background(), models.OutboxMessage{ID: 3, AggregateType: models.OutboxReviewNeeded, AggregateID: 42,
		Payload: models.MustJSON(p), IdempotencyKey: models.OutboxKey(models.OutboxReviewNeeded, 42)}))
	mails := ts.Mails()
	require.Len(t, mails, 1)
	pm := parseMail(t, mails[0].Data)
	require.Equal(t, "Creditor Matcher: E-Mail #42 wartet auf Prüfung", pm.subject(t))
	for _, part := range []string{pm.parts["text/plain"], pm.parts["text/html"]} {
		require.Contains(t, part, "https://matcher.kanzlei.example/admin/reviews/42")
		require.Contains(t, part, models.ReasonAmountChange)
	}
}
