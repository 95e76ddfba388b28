package debts_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

type fixture struct {
	ctx     context.Context
	db      *apptest.DB
	st      *store.Store
	inquiry models.CreditorInquiry
	email   models.IncomingEmail
	data    models.ExtractedData
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	db := apptest.NewDB(t)
	az, mail, ticket, old := "2026/0042", "forderungen@stadtwerke.example", "4242", 1999.0
	inq := models.CreditorInquiry{ClientName: "Musterfrau, Erika", ClientAktenzeichen: &az,
		CreditorName: "Stadtwerke Beispielstadt GmbH", CreditorEmail: &mail, ZendeskTicketID: &ticket,
		DebtAmount: &old}
	require.NoError(t, db.Omit("id").Create(&inq).Error)
	e := models.IncomingEmail{ZendeskTicketID: ticket, DedupKey: "k:" + apptest.RandomID(), FromEmail: mail,
		ProcessingStatus: models.StatusMatching, ReceivedAt: time.Date(2026, 3, 25, 5, 9, 27, 123456789, time.UTC),
		SyncStatus: models.SyncNotApplicable, AttachmentURLs: models.JSON("[]")}
	require.NoError(t, db.Omit("id").Create(&e).Error)
	amount := 2345.67
	data := models.ExtractedData{IsCreditorReply: true, ClientName: "Erika Musterfrau", CreditorName: "Stadtwerke",
		DebtAmount: &amount, ReferenceNumbers: []string{"V-123"}, Summary: "Forderung 2.345,67 EUR", Confidence: 0.9}
	return fixture{ctx: ctx, db: db, st: db.Store(t), inquiry: inq, email: e, data: data}
}

// complete moves the email matching → completed with the writer's record,
// as the pipeline does (without a lease token), and returns the sync_status
// it wrote.
func (f fixture) complete(w debts.Writer, d debts.Decision) (string, error) {
	rec, sync, err := w.Record(f.email, f.data, d)
	if err != nil {
		return "", err
	}
	m := store.Match{Status: d.Status, InquiryID: d.InquiryID, Confidence: d.Confidence}
	return sync, f.st.Finish(f.ctx, &models.Job{Email: f.email}, store.Completed(m, sync, rec))
}

func (f fixture) write(t *testing.T, w debts.Writer, d debts.Decision) string {
	t.Helper()
	sync, err := f.complete(w, d)
	require.NoError(t, err)
	var stored models.IncomingEmail
	require.NoError(t, f.db.Take(&stored, f.email.ID).Error)
	require.Equal(t, models.StatusCompleted, stored.ProcessingStatus)
	require.Equal(t, sync, stored.SyncStatus)
	return sync
}

func (f fixture) auto() debts.Decision {
	id := f.inquiry.ID
	return debts.Decision{Status: models.MatchAuto, InquiryID: &id, Confidence: 0.93, Inquiry: &f.inquiry}
}

func (f fixture) outbox(t *testing.T) map[string]models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	require.NoError(t, f.db.Where("aggregate_id = ?", f.email.ID).Find(&rows).Error)
	byKind := map[string]models.OutboxMessage{}
	for _, r := range rows {
		_, dup := byKind[r.AggregateType]
		require.False(t, dup, "one outbox row per kind, got two %s", r.AggregateType)
		require.Equal(t, models.OutboxKey(r.AggregateType, f.email.ID), r.IdempotencyKey)
		byKind[r.AggregateType] = r
	}
	return byKind
}

func (f fixture) updates(t *testing.T) []models.DebtUpdate {
	t.Helper()
	var ups []models.DebtUpdate
	require.NoError(t, f.db.Where("incoming_email_id = ?", f.email.ID).Find(&ups).Error)
	return ups
}

func (f fixture) answered(t *testing.T) bool {
	t.Helper()
	var inq models.CreditorInquiry
	require.NoError(t, f.db.Take(&inq, f.inquiry.ID).Error)
	return inq.ResponseReceived
}

func TestWriteAutoMatchRecordsUpdateAndBothOutboxRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.Equal(t, models.SyncPending, f.write(t, debts.Writer{SyncEnabled: true}, f.auto()))

	ups := f.updates(t)
	require.Len(t, ups, 1)
	up := ups[0]
	require.Equal(t, f.inquiry.ID, *up.CreditorInquiryID)
	require.Equal(t, 2345.67, up.Amount)
	require.NotNil(t, up.PreviousAmount, "previous_amount comes from the inquiry's debt_amount")
	require.Equal(t, 1999.0, *up.PreviousAmount)
	require.Equal(t, "Musterfrau, Erika", up.ClientName, "the inquiry's names win over extracted ones")
	require.Equal(t, "2026/0042", *up.ClientAktenzeichen)
	require.Equal(t, models.MatchAuto, up.MatchStatus)
	require.JSONEq(t, `["V-123"]`, string(up.ReferenceNumbers))
	require.True(t, f.answered(t), "an auto match marks the inquiry answered")

	rows := f.outbox(t)
	require.Len(t, rows, 2)
	var sync models.DebtSyncPayload
	require.NoError(t, json.Unmarshal(rows[models.OutboxCreditorDebtUpdate].Payload, &sync))
	require.Equal(t, f.email.ID, sync.EmailID)
	require.Equal(t, up.ID, sync.DebtUpdateID)
	require.Equal(t, f.inquiry.ID, *sync.InquiryID)
	require.Equal(t, "2026/0042", sync.ClientAktenzeichen)
	require.Equal(t, 2345.67, sync.Amount)
	require.True(t, f.email.ReceivedAt.Truncate(time.Millisecond).Equal(sync.ResponseReceivedAt))

	var note models.DebtNotificationPayload
	require.NoError(t, json.Unmarshal(rows[models.OutboxDebtNotification].Payload, &note))
	require.Equal(t, 1999.0, *note.OldAmount)
	require.Equal(t, 2345.67, note.NewAmount)
	require.Equal(t, "4242", note.TicketID)
	require.Equal(t, models.MatchAuto, note.MatchStatus)
}

func TestWriteAutoMatchWithoutPortalIsNotApplicable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.Equal(t, models.SyncNotApplicable, f.write(t, debts.Writer{}, f.auto()))
	rows := f.outbox(t)
	require.Contains(t, rows, models.OutboxCreditorDebtUpdate, "the relay marks it skipped later")
	require.Contains(t, rows, models.OutboxDebtNotification)
}

func TestWriteTwiceAddsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	w := debts.Writer{SyncEnabled: true}
	first := f.write(t, w, f.auto())
	before := f.outbox(t)
	_, err := f.complete(w, f.auto())
	require.ErrorIs(t, err, models.ErrTransitionRefused, "the guard refuses a second completion")

	// Past the guard (as if the email were matching again), the unique keys
	// still keep one row of each.
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET processing_status = 'matching' WHERE id = ?", f.email.ID).Error)
	require.Equal(t, first, f.write(t, w, f.auto()))

	require.Len(t, f.updates(t), 1)
	after := f.outbox(t)
	require.Len(t, after, 2)
	for kind, row := range before {
		require.Equal(t, row.ID, after[kind].ID)
	}
}

func TestWriteConcurrentlyForOneEmailAddsOneOfEach(t *testing.T) {
	t.Parallel()
	f := setup(t)
	w := debts.Writer{SyncEnabled: true}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := f.complete(w, f.auto())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, models.ErrTransitionRefused)
	}
	require.Equal(t, 1, won, "one completion wins")
	require.Len(t, f.updates(t), 1)
	require.Len(t, f.outbox(t), 2)
}

func TestWriteNeedsReviewNotifiesOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	d := f.auto()
	d.Status = models.MatchNeedsReview
	require.Equal(t, models.SyncNotApplicable, f.write(t, debts.Writer{SyncEnabled: true}, d))

	ups := f.updates(t)
	require.Len(t, ups, 1)
	require.Equal(t, models.MatchNeedsReview, ups[0].MatchStatus)
	rows := f.outbox(t)
	require.Len(t, rows, 1)
	require.Contains(t, rows, models.OutboxDebtNotification)
	require.False(t, f.answered(t), "a person decides first")
}

func TestWriteNoMatchKeepsExtractedNames(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.data.ClientAktenzeichen = "2026/0099"
	require.Equal(t, models.SyncNotApplicable,
		f.write(t, debts.Writer{SyncEnabled: true}, debts.Decision{Status: models.MatchNone}))

	ups := f.updates(t)
	require.Len(t, ups, 1)
	require.Nil(t, ups[0].CreditorInquiryID)
	require.Nil(t, ups[0].PreviousAmount)
	require.Equal(t, "Erika Musterfrau", ups[0].ClientName)
	require.Equal(t, "2026/0099", *ups[0].ClientAktenzeichen)
	rows := f.outbox(t)
	require.Len(t, rows, 1)
	require.Contains(t, rows, models.OutboxDebtNotification)
}

func TestWriteWithoutAmountWritesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.data.DebtAmount = nil
	require.Equal(t, models.SyncNotApplicable, f.write(t, debts.Writer{SyncEnabled: true}, f.auto()))
	require.Empty(t, f.updates(t))
	require.Empty(t, f.outbox(t))
	require.False(t, f.answered(t))
}

func TestWriteRefusesInconsistentInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var permanent *models.PermanentError

	zero := 0.0
	f.data.DebtAmount = &zero
	_, err := f.complete(debts.Writer{}, f.auto())
	require.ErrorAs(t, err, &permanent)

	amount := 10.0
	f.data.DebtAmount = &amount
	_, err = f.complete(debts.Writer{}, debts.Decision{Status: models.MatchAuto})
	require.ErrorAs(t, err, &permanent, "an auto match needs its inquiry")
	d := f.auto()
	d.Inquiry = nil
	_, err = f.complete(debts.Writer{}, d)
	require.ErrorAs(t, err, &permanent, "the decision carries the inquiry it names")
	require.Empty(t, f.updates(t))
	require.Empty(t, f.outbox(t))
}

func TestRefusedCompletionWritesNoEffect(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET processing_status = 'extracted' WHERE id = ?", f.email.ID).Error)
	_, err := f.complete(debts.Writer{SyncEnabled: true}, f.auto())
	require.ErrorIs(t, err, models.ErrTransitionRefused)
	require.Empty(t, f.updates(t))
	require.Empty(t, f.outbox(t))
	require.False(t, f.answered(t), "the inquiry is marked answered only with the completion")
}
