package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

func TestAdvanceStagesMovesEachJobUnderItsLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	job := func(status models.Status, token string) *models.Job {
		id := insertEmail(t, db.DB, status, token)
		return &models.Job{Email: models.IncomingEmail{ID: id, ProcessingStatus: status}, Token: token}
	}
	parsed, extracted, stale, skip := job(models.StatusProcessing, "t1"), job(models.StatusExtracting, "t2"),
		job(models.StatusParsed, "t3"), job(models.StatusProcessing, "t4")
	stale.Token = "an-older-attempt"
	body, before, after := "Sehr geehrte Damen und Herren", 120, 30

	errs, err := models.AdvanceStages(ctx, db.DB, []models.StageMove{
		{Job: parsed, To: models.StatusParsed, CleanedBody: &body, TokensBefore: &before, TokensAfter: &after},
		{Job: extracted, To: models.StatusExtracted, Extracted: models.JSON(`{"extractor":"rules"}`)},
		{Job: stale, To: models.StatusExtracting},
		{Job: skip, To: models.StatusMatching},
	})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], models.ErrLeaseLost)
	require.ErrorContains(t, errs[3], "not in the state machine")

	e := statusOf(t, db.DB, parsed.Email.ID)
	require.Equal(t, models.StatusParsed, e.ProcessingStatus)
	require.Equal(t, body, *e.CleanedBody)
	require.Equal(t, models.StatusParsed, parsed.Email.ProcessingStatus, "the job follows its row")
	e = statusOf(t, db.DB, extracted.Email.ID)
	require.Equal(t, models.StatusExtracted, e.ProcessingStatus)
	require.JSONEq(t, `{"extractor":"rules"}`, string(e.ExtractedData))
	require.Equal(t, models.StatusParsed, statusOf(t, db.DB, stale.Email.ID).ProcessingStatus)
	require.Equal(t, models.StatusProcessing, statusOf(t, db.DB, skip.Email.ID).ProcessingStatus)

	// A move from a stage the row is not in (the job's view is stale) is
	// refused even under the right token.
	behind := &models.Job{Email: models.IncomingEmail{ID: extracted.Email.ID, ProcessingStatus: models.StatusParsed}, Token: "t2"}
	errs, err = models.AdvanceStages(ctx, db.DB, []models.StageMove{{Job: behind, To: models.StatusExtracting}})
	require.NoError(t, err)
	require.ErrorIs(t, errs[0], models.ErrLeaseLost)
	require.Equal(t, models.StatusExtracted, statusOf(t, db.DB, extracted.Email.ID).ProcessingStatus)

	// The next stage keeps what earlier stages saved.
	errs, err = models.AdvanceStages(ctx, db.DB, []models.StageMove{{Job: parsed, To: models.StatusExtracting}})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	e = statusOf(t, db.DB, parsed.Email.ID)
	require.Equal(t, models.StatusExtracting, e.ProcessingStatus)
	require.Equal(t, body, *e.CleanedBody)
	require.Equal(t, 30, *e.TokenCountAfter)
}
