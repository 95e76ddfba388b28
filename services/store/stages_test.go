package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestAdvanceStagesMovesEachJobUnderItsLease(t *testing.T) {
	t.Parallel()
	f := setup(t)
	parsed, extracted, stale, skip := f.job(t, models.StatusProcessing, "t1"), f.job(t, models.StatusExtracting, "t2"),
		f.job(t, models.StatusParsed, "t3"), f.job(t, models.StatusProcessing, "t4")
	stale.Token = "an-older-attempt"
	body, before, after := "Sehr geehrte Damen und Herren", 120, 30

	errs, err := f.st.AdvanceStages(f.ctx, []store.StageMove{
		{Job: parsed, To: models.StatusParsed, CleanedBody: &body, TokensBefore: &before, TokensAfter: &after},
		{Job: extracted, To: models.StatusExtracted, Extracted: models.JSON(`{"extractor":"rules"}`)},
		{Job: stale, To: models.StatusExtracting},
		{Job: skip, To: models.StatusMatching},
	})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], models.ErrLeaseLost)
	require.ErrorContains(t, errs[3], "not a stage move")

	e := f.email(t, parsed.Email.ID)
	require.Equal(t, models.StatusParsed, e.ProcessingStatus)
	require.Equal(t, body, *e.CleanedBody)
	require.Equal(t, models.StatusParsed, parsed.Email.ProcessingStatus, "the job follows its row")
	e = f.email(t, extracted.Email.ID)
	require.Equal(t, models.StatusExtracted, e.ProcessingStatus)
	require.JSONEq(t, `{"extractor":"rules"}`, string(e.ExtractedData))
	require.Equal(t, models.StatusParsed, f.email(t, stale.Email.ID).ProcessingStatus)
	require.Equal(t, models.StatusProcessing, f.email(t, skip.Email.ID).ProcessingStatus)

	// A move from a stage the row is not in (the job's view is stale) is
	// refused even under the right token.
	behind := &models.Job{Email: models.IncomingEmail{ID: extracted.Email.ID, ProcessingStatus: models.StatusParsed}, Token: "t2"}
	errs, err = f.st.AdvanceStages(f.ctx, []store.StageMove{{Job: behind, To: models.StatusExtracting}})
	require.NoError(t, err)
	require.ErrorIs(t, errs[0], models.ErrLeaseLost)
	require.Equal(t, models.StatusExtracted, f.email(t, extracted.Email.ID).ProcessingStatus)

	// The next stage keeps what earlier stages saved.
	errs, err = f.st.AdvanceStages(f.ctx, []store.StageMove{{Job: parsed, To: models.StatusExtracting}})
	require.NoError(t, err)
	require.NoError(t, errs[0])
	e = f.email(t, parsed.Email.ID)
	require.Equal(t, models.StatusExtracting, e.ProcessingStatus)
	require.Equal(t, body, *e.CleanedBody)
	require.Equal(t, 30, *e.TokenCountAfter)
}

func TestAdvanceStagesRefusesMovesOutOfTheStages(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// matching → completed and processing → retrying are in the table, but
	// they end the lease and carry effects: only Finish writes them.
	for _, m := range []struct{ from, to models.Status }{
		{models.StatusMatching, models.StatusCompleted},
		{models.StatusProcessing, models.StatusRetrying},
	} {
		job := f.job(t, m.from, "tok-"+string(m.from))
		errs, err := f.st.AdvanceStages(f.ctx, []store.StageMove{{Job: job, To: m.to}})
		require.NoError(t, err)
		require.ErrorContains(t, errs[0], "not a stage move", "%s → %s", m.from, m.to)
		require.Equal(t, m.from, f.email(t, job.Email.ID).ProcessingStatus)
	}
}

func TestSaveExtractionIsAGuardedStageMove(t *testing.T) {
	t.Parallel()
	f := setup(t)
	job := f.job(t, models.StatusExtracting, "tok")
	require.NoError(t, f.st.SaveExtraction(f.ctx, job, models.JSON(`{"extractor":"claude"}`)))
	e := f.email(t, job.Email.ID)
	require.Equal(t, models.StatusExtracted, e.ProcessingStatus)
	require.Equal(t, models.StatusExtracted, job.Email.ProcessingStatus)
	require.JSONEq(t, `{"extractor":"claude"}`, string(e.ExtractedData))
	require.Equal(t, "tok", *e.LeaseToken)

	job.Token = "an-older-attempt"
	job.Email.ProcessingStatus = models.StatusExtracting
	require.ErrorIs(t, f.st.SaveExtraction(f.ctx, job, models.JSON(`{}`)), models.ErrLeaseLost)
}

// TestBatchMovesCheckTheRowAsLocked: a batched move that waited for another
// transaction's row lock checks its guard on the row that transaction left
// (lockedByID locks FOR UPDATE), not on the row as its statement first saw it.
func TestBatchMovesCheckTheRowAsLocked(t *testing.T) {
	t.Parallel()
	f := setup(t)

	// Intake's queued mark waits for a worker's claim of a received row:
	// it must not take the claimed row back to queued.
	claimed := f.insert(t, models.StatusReceived, "")
	var (
		marked []uint64
		err    error
	)
	behindLock(t, f.db.DB, func(tx *gorm.DB) {
		require.NoError(t, store.New(tx, tx).Apply(f.ctx, store.Change{To: models.StatusProcessing,
			Set: []store.Assign{{Column: "lease_token", Value: "worker"}}}, claimed))
	}, func() {
		marked, err = f.st.MarkQueued(f.ctx, []uint64{claimed})
	})
	require.NoError(t, err)
	require.Empty(t, marked)
	e := f.email(t, claimed)
	require.Equal(t, models.StatusProcessing, e.ProcessingStatus)
	require.Equal(t, "worker", *e.LeaseToken)

	// An old attempt's stage move waits for the reaper's rescue of its
	// email: it must not move the rescued row on.
	job := f.job(t, models.StatusProcessing, "old")
	var errs []error
	behindLock(t, f.db.DB, func(tx *gorm.DB) {
		require.NoError(t, store.New(tx, tx).Apply(f.ctx, store.Change{To: models.StatusQueued}, job.Email.ID))
	}, func() {
		errs, err = f.st.AdvanceStages(f.ctx, []store.StageMove{{Job: job, To: models.StatusParsed}})
	})
	require.NoError(t, err)
	require.ErrorIs(t, errs[0], models.ErrLeaseLost)
	require.Equal(t, models.StatusQueued, f.email(t, job.Email.ID).ProcessingStatus)
}
