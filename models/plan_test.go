package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// TestBatchMovesNeverScanTheTable: the async pool plans each statement once
// per connection, often while incoming_emails is still nearly empty, and
// keeps that plan while the table grows. A plan that reads the whole table
// (a hash join over a sequential scan of the update's target) would then
// read every email ever stored for each batch. The batched moves must reach
// their rows by key even when first planned on a one-row table.
func TestBatchMovesNeverScanTheTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	async := db.AsyncPool(t, 1)
	received := insertEmail(t, db.DB, models.StatusReceived, "")
	running := insertEmail(t, db.DB, models.StatusProcessing, "t1")

	require.NoError(t, async.Transaction(func(tx *gorm.DB) error {
		moved, err := models.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived}}.
			ApplyAll(ctx, tx, []uint64{received})
		require.NoError(t, err)
		require.Equal(t, []uint64{received}, moved)
		job := &models.Job{Email: models.IncomingEmail{ID: running, ProcessingStatus: models.StatusProcessing}, Token: "t1"}
		errs, err := models.AdvanceStages(ctx, tx, []models.StageMove{{Job: job, To: models.StatusParsed}})
		require.NoError(t, err)
		require.NoError(t, errs[0])

		require.Zero(t, apptest.SeqScans(t, tx, "incoming_emails"), "a batched move read incoming_emails sequentially")
		return nil
	}))
}
