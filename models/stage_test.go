package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

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
	require.ErrorContains(t, errs[3], "not a stage move")

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

func TestAdvanceStagesRefusesMovesOutOfTheStages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	// matching → completed and processing → retrying are in the table, but
	// they end the lease and carry effects: only Change writes them.
	for _, m := range []struct{ from, to models.Status }{
		{models.StatusMatching, models.StatusCompleted},
		{models.StatusProcessing, models.StatusRetrying},
	} {
		id := insertEmail(t, db.DB, m.from, "tok")
		job := &models.Job{Email: models.IncomingEmail{ID: id, ProcessingStatus: m.from}, Token: "tok"}
		errs, err := models.AdvanceStages(ctx, db.DB, []models.StageMove{{Job: job, To: m.to}})
		require.NoError(t, err)
		require.ErrorContains(t, errs[0], "not a stage move", "%s → %s", m.from, m.to)
		require.Equal(t, m.from, statusOf(t, db.DB, id).ProcessingStatus)
	}
}

// TestBatchMovesCheckTheRowAsLocked: a batched move that waited for another
// transaction's row lock checks its guard on the row that transaction left
// (LockedByID locks FOR UPDATE), not on the row as its statement first saw it.
func TestBatchMovesCheckTheRowAsLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)

	// Intake's queued mark waits for a worker's claim of a received row:
	// it must not take the claimed row back to queued.
	claimed := insertEmail(t, db.DB, models.StatusReceived, "")
	var (
		marked []uint64
		err    error
	)
	behindLock(t, db.DB, func(tx *gorm.DB) {
		require.NoError(t, models.Change{ID: claimed, To: models.StatusProcessing,
			Set: map[string]any{"lease_token": "worker"}}.Apply(ctx, tx))
	}, func() {
		marked, err = models.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived}}.
			ApplyAll(ctx, db.DB, []uint64{claimed})
	})
	require.NoError(t, err)
	require.Empty(t, marked)
	e := statusOf(t, db.DB, claimed)
	require.Equal(t, models.StatusProcessing, e.ProcessingStatus)
	require.Equal(t, "worker", *e.LeaseToken)

	// An old attempt's stage move waits for the reaper's rescue of its
	// email: it must not move the rescued row on.
	rescued := insertEmail(t, db.DB, models.StatusProcessing, "old")
	job := &models.Job{Email: models.IncomingEmail{ID: rescued, ProcessingStatus: models.StatusProcessing}, Token: "old"}
	var errs []error
	behindLock(t, db.DB, func(tx *gorm.DB) {
		require.NoError(t, models.Change{ID: rescued, To: models.StatusQueued}.Apply(ctx, tx))
	}, func() {
		errs, err = models.AdvanceStages(ctx, db.DB, []models.StageMove{{Job: job, To: models.StatusParsed}})
	})
	require.NoError(t, err)
	require.ErrorIs(t, errs[0], models.ErrLeaseLost)
	require.Equal(t, models.StatusQueued, statusOf(t, db.DB, rescued).ProcessingStatus)
}

// behindLock runs first in a transaction, starts second while that
// transaction holds its row locks, commits once second waits for one of
// them, and returns when second is done.
func behindLock(t *testing.T, db *gorm.DB, first func(tx *gorm.DB), second func()) {
	t.Helper()
	lock := apptest.BeginLock(t, db)
	first(lock.Tx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		second()
	}()
	lock.WaitBlocking(t, db)
	lock.Commit(t)
	<-done
}
