package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func newEmail(key string) models.IncomingEmail {
	webhook := "wh-" + key
	return models.IncomingEmail{ZendeskTicketID: "T-" + key, ZendeskWebhookID: &webhook, DedupKey: "webhook:" + key,
		FromEmail: "inkasso@example.com", Subject: "Ihre Anfrage", RawBodyText: "Forderung 100,00 EUR",
		ReceivedAt: time.Now().UTC(), AttachmentURLs: models.JSON(`[]`)}
}

func TestInsertEmailsStoresEachKeyOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	stored := newEmail("stored-" + apptest.RandomID())
	first, err := f.st.InsertEmails(f.ctx, []models.IncomingEmail{stored})
	require.NoError(t, err)
	require.NotZero(t, first[0].ID)

	run := apptest.RandomID()
	emails := []models.IncomingEmail{newEmail(run + "-b"), newEmail(run + "-a"), stored, newEmail(run + "-b")}
	res, err := f.st.InsertEmails(f.ctx, emails)
	require.NoError(t, err)
	require.NotZero(t, res[0].ID)
	require.NotZero(t, res[1].ID)
	require.Zero(t, res[2], "a repeat of a stored email inserts nothing")
	require.Zero(t, res[3], "a repeat within the call inserts nothing")
	for i, r := range res[:2] {
		e := f.email(t, r.ID)
		require.Equal(t, emails[i].DedupKey, e.DedupKey)
		require.Equal(t, models.StatusReceived, e.ProcessingStatus)
		require.Equal(t, models.SyncNotApplicable, e.SyncStatus)
	}

	orig, err := f.st.Original(f.ctx, stored.DedupKey, "")
	require.NoError(t, err)
	require.Equal(t, first[0].ID, orig.ID)
	require.Equal(t, models.StatusReceived, orig.ProcessingStatus)
	orig, err = f.st.Original(f.ctx, "another-key", *stored.ZendeskWebhookID)
	require.NoError(t, err)
	require.Equal(t, first[0].ID, orig.ID, "the webhook id names the same email")
	_, err = f.st.Original(f.ctx, "no-such-key", "")
	require.ErrorIs(t, err, models.ErrNotFound)
}

func TestInsertEmailsRefusedRowFailsAlone(t *testing.T) {
	t.Parallel()
	f := setup(t)
	run := apptest.RandomID()
	emails := make([]models.IncomingEmail, 5)
	for i := range emails {
		emails[i] = newEmail(fmt.Sprintf("%s-%d", run, i))
	}
	emails[2].RawBodyText = "NUL \x00 is not text" // invalid byte sequence
	res, err := f.st.InsertEmails(f.ctx, emails)
	require.NoError(t, err)
	for i, r := range res {
		if i == 2 {
			require.Error(t, r.Err)
			require.Zero(t, r.ID)
			continue
		}
		require.NoError(t, r.Err)
		require.NotZero(t, r.ID)
	}

	_, err = f.st.InsertEmails(f.ctx, make([]models.IncomingEmail, store.MaxInsertRows+1))
	require.Error(t, err)
}

func TestInsertEmailsWithoutPostgres(t *testing.T) {
	t.Parallel()
	db := apptest.ClosedDB(t)
	_, err := store.New(db, db).InsertEmails(t.Context(), []models.IncomingEmail{newEmail(apptest.RandomID())})
	require.Error(t, err)
}

// TestInsertFailedOnceWithOneAlert: an unusable delivery is stored failed
// with its payload, warnings, error and one alert in one statement; a
// repeat — by dedup key, or by webhook id against an email intake stored
// usable — writes nothing, no alert either.
func TestInsertFailedOnceWithOneAlert(t *testing.T) {
	t.Parallel()
	f := setup(t)
	e := newEmail("failed-" + apptest.RandomID())
	e.RawPayload = []byte("{\"x\":\"\xff\\u0000\"}")
	e.IntakeWarnings = models.JSON(`["from_email given as Name <address>"]`)
	id, err := f.st.InsertFailed(f.ctx, e, "unusable delivery: ticket_id: required")
	require.NoError(t, err)
	require.NotZero(t, id)
	row := f.email(t, id)
	require.Equal(t, models.StatusFailed, row.ProcessingStatus)
	require.Equal(t, e.RawPayload, row.RawPayload)
	require.JSONEq(t, string(e.IntakeWarnings), string(row.IntakeWarnings))
	require.Equal(t, "unusable delivery: ticket_id: required", *row.ProcessingError)
	require.NotNil(t, row.CompletedAt)
	require.EqualValues(t, 1, f.outboxCount(t, id, models.OutboxFailureAlert))
	var key string
	require.NoError(t, f.db.Raw(`SELECT idempotency_key FROM outbox_messages WHERE aggregate_id = ?`, id).Find(&key).Error)
	require.Equal(t, models.OutboxKey(models.OutboxFailureAlert, id), key)

	again, err := f.st.InsertFailed(f.ctx, e, "unusable delivery: ticket_id: required")
	require.NoError(t, err)
	require.Zero(t, again, "a repeat inserts nothing")

	usable := newEmail("usable-" + apptest.RandomID())
	res, err := f.st.InsertEmails(f.ctx, []models.IncomingEmail{usable})
	require.NoError(t, err)
	same := e
	same.DedupKey, same.ZendeskWebhookID = "body:other", usable.ZendeskWebhookID
	again, err = f.st.InsertFailed(f.ctx, same, "unusable")
	require.NoError(t, err)
	require.Zero(t, again, "the webhook id names the stored email")
	require.Zero(t, f.outboxCount(t, res[0].ID, models.OutboxFailureAlert))
	var alerts int64
	require.NoError(t, f.db.Raw(`SELECT count(*) FROM outbox_messages`).Find(&alerts).Error)
	require.EqualValues(t, 1, alerts)

	require.JSONEq(t, `[]`, string(f.email(t, res[0].ID).IntakeWarnings), "no warnings: the empty list")
}
