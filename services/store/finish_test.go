package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestFinishEffectsHappenOnlyWithTheMove(t *testing.T) {
	t.Parallel()
	f := setup(t)
	job := f.job(t, models.StatusMatching, "tok-1")
	stale := *job
	stale.Token = "tok-other"
	fail := store.Failed("boom", models.FailureAlert(job.Email, "boom"))

	require.ErrorIs(t, f.st.Finish(f.ctx, &stale, fail), models.ErrLeaseLost)
	require.Zero(t, f.outboxCount(t, job.Email.ID, models.OutboxFailureAlert), "a refused move writes none of its effects")
	require.Nil(t, f.attempts(t, job.Email.ID)[0].FinishedAt, "nor closes the attempt")
	require.Equal(t, models.StatusMatching, f.email(t, job.Email.ID).ProcessingStatus)

	require.NoError(t, f.st.Finish(f.ctx, job, fail))
	require.EqualValues(t, 1, f.outboxCount(t, job.Email.ID, models.OutboxFailureAlert))
	a := f.attempts(t, job.Email.ID)[0]
	require.NotNil(t, a.FinishedAt)
	require.Equal(t, models.OutcomeFailed, *a.Outcome)
	require.Equal(t, "boom", *a.Error)
	e := f.email(t, job.Email.ID)
	require.Equal(t, models.StatusFailed, e.ProcessingStatus)
	require.Equal(t, models.StatusFailed, job.Email.ProcessingStatus, "the job follows its row")
	require.Equal(t, "boom", *e.ProcessingError)
	require.NotNil(t, e.CompletedAt)
	require.Nil(t, e.LeaseToken, "leaving the leased stages ends the lease")
}

func TestFinishWritesEachEnd(t *testing.T) {
	t.Parallel()
	f := setup(t)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	for _, c := range []struct {
		final   store.Final
		from    models.Status
		to      models.Status
		outcome string
		check   func(e models.IncomingEmail)
	}{
		{store.Retrying(2, at, "llm rate limited"), models.StatusExtracting, models.StatusRetrying, models.OutcomeRetry,
			func(e models.IncomingEmail) {
				require.Equal(t, 2, e.RetryCount)
				require.True(t, at.Equal(*e.NextAttemptAt))
				require.Equal(t, "llm rate limited", *e.ProcessingError)
			}},
		{store.Interrupted(), models.StatusParsed, models.StatusQueued, models.OutcomeInterrupted,
			func(e models.IncomingEmail) { require.NotNil(t, e.LastDispatchedAt) }},
		{store.NotCreditorReply(), models.StatusExtracted, models.StatusNotCreditorReply, models.OutcomeNotCreditorReply,
			func(e models.IncomingEmail) {
				require.Equal(t, models.MatchNone, *e.MatchStatus)
				require.Equal(t, models.SyncNotApplicable, e.SyncStatus)
				require.NotNil(t, e.CompletedAt)
				require.NotNil(t, e.ProcessedAt)
			}},
		{store.Completed(store.Match{Status: models.MatchNone, Details: models.JSON(`{"reason":"none"}`)},
			models.SyncNotApplicable, nil), models.StatusMatching, models.StatusCompleted, models.OutcomeCompleted,
			func(e models.IncomingEmail) {
				require.Equal(t, models.MatchNone, *e.MatchStatus)
				require.JSONEq(t, `{"reason":"none"}`, string(e.MatchDetails))
				require.Nil(t, e.MatchedInquiryID)
				require.Nil(t, e.ProcessingError)
			}},
	} {
		job := f.job(t, c.from, models.NewToken())
		require.NoError(t, f.st.Finish(f.ctx, job, c.final), "%s → %s", c.from, c.to)
		e := f.email(t, job.Email.ID)
		require.Equal(t, c.to, e.ProcessingStatus)
		require.Nil(t, e.LeaseToken)
		c.check(e)
		a := f.attempts(t, job.Email.ID)[0]
		require.Equal(t, c.outcome, *a.Outcome)
		require.NotNil(t, a.FinishedAt)
		// A second end of the same attempt changes nothing.
		job.Email.ProcessingStatus = c.from
		require.ErrorIs(t, f.st.Finish(f.ctx, job, c.final), models.ErrLeaseLost)
	}
}

// TestCompletedWritesTheDebtRecordInItsStatement: the sync row's payload
// gets the id of the debt update inserted by the same statement.
func TestCompletedWritesTheDebtRecordInItsStatement(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var inquiry uint64
	require.NoError(t, f.db.Raw(`INSERT INTO creditor_inquiries (client_name, creditor_name) VALUES ('Erika', 'Stadtwerke')
		RETURNING id`).Scan(&inquiry).Error)
	job := f.job(t, models.StatusMatching, "tok")
	rec := &models.DebtRecord{
		Update: models.DebtUpdate{IncomingEmailID: job.Email.ID, CreditorInquiryID: &inquiry, ClientName: "Erika",
			CreditorName: "Stadtwerke", CreditorEmail: "a@b.de", Amount: 12.5, ReferenceNumbers: models.JSON(`[]`),
			MatchStatus: models.MatchAuto, MatchConfidence: 0.9},
		Notification: models.DebtNotificationPayload{EmailID: job.Email.ID, NewAmount: 12.5},
		Sync:         &models.DebtSyncPayload{EmailID: job.Email.ID, Amount: 12.5},
		Answered:     &inquiry,
	}
	m := store.Match{Status: models.MatchAuto, InquiryID: &inquiry, Confidence: 0.9, Details: models.JSON(`{}`)}
	require.NoError(t, f.st.Finish(f.ctx, job, store.Completed(m, models.SyncPending, rec)))

	var up models.DebtUpdate
	require.NoError(t, f.db.Where("incoming_email_id = ?", job.Email.ID).Take(&up).Error)
	var row models.OutboxMessage
	require.NoError(t, f.db.Where("idempotency_key = ?", models.OutboxKey(models.OutboxCreditorDebtUpdate, job.Email.ID)).
		Take(&row).Error)
	var sync models.DebtSyncPayload
	require.NoError(t, json.Unmarshal(row.Payload, &sync))
	require.Equal(t, up.ID, sync.DebtUpdateID)
	require.EqualValues(t, 1, f.outboxCount(t, job.Email.ID, models.OutboxDebtNotification))
	var answered bool
	require.NoError(t, f.db.Raw("SELECT response_received FROM creditor_inquiries WHERE id = ?", inquiry).Scan(&answered).Error)
	require.True(t, answered)
	e := f.email(t, job.Email.ID)
	require.Equal(t, models.SyncPending, e.SyncStatus)
	require.Equal(t, inquiry, *e.MatchedInquiryID)
}

func TestLeaseLostClosesTheAttemptOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	job := f.job(t, models.StatusParsed, "tok")
	require.NoError(t, f.st.LeaseLost(f.ctx, job))
	a := f.attempts(t, job.Email.ID)[0]
	require.Equal(t, models.OutcomeRescued, *a.Outcome)
	require.Equal(t, "lease lost", *a.Error)
	first := *a.FinishedAt
	require.NoError(t, f.st.LeaseLost(f.ctx, job))
	require.True(t, first.Equal(*f.attempts(t, job.Email.ID)[0].FinishedAt), "a closed attempt stays as it was")
	require.Equal(t, models.StatusParsed, f.email(t, job.Email.ID).ProcessingStatus, "the email is not touched")
}
