package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// TestBatchMovesReadOnlyTheirRows: the async pool plans each statement once
// per connection, often while incoming_emails is still nearly empty, and
// keeps that plan while the table grows. A plan that reads the whole table
// (a hash join over a sequential scan of the update's target, or a full
// index scan) would then read every email ever stored for each batch. The
// batched moves, first run on a nearly empty table, must read only their
// own rows once the table holds a history.
func TestBatchMovesReadOnlyTheirRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	async := db.AsyncPool(t, 1) // one session: the second round runs the first round's plans
	round := func() int64 {
		received := insertEmail(t, db.DB, models.StatusReceived, "")
		token := models.NewToken()
		running := insertEmail(t, db.DB, models.StatusProcessing, token)
		var read int64
		require.NoError(t, async.Transaction(func(tx *gorm.DB) error {
			moved, err := models.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived}}.
				ApplyAll(ctx, tx, []uint64{received})
			require.NoError(t, err)
			require.Equal(t, []uint64{received}, moved)
			job := &models.Job{Email: models.IncomingEmail{ID: running, ProcessingStatus: models.StatusProcessing}, Token: token}
			errs, err := models.AdvanceStages(ctx, tx, []models.StageMove{{Job: job, To: models.StatusParsed}})
			require.NoError(t, err)
			require.NoError(t, errs[0])
			read = apptest.RowsRead(t, tx, "incoming_emails")
			return nil
		}))
		return read
	}
	round()
	apptest.FillEmails(t, db.DB, 2000)
	require.Less(t, round(), int64(20), "a batched move read more of incoming_emails than its own rows")
}
