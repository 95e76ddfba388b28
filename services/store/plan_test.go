package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// TestBatchedStatementsReadOnlyTheirRows: the async pool plans each
// statement once per connection, often while incoming_emails is still
// nearly empty, and keeps that plan while the table grows. A plan that reads
// the whole table (a hash join over a sequential scan of the update's
// target, or a full index scan) would then read every email ever stored for
// each batch. The batched statements of the async pool — intake's queued
// mark, the stage moves, the claim and the lease renewal — first run on a
// nearly empty table, must read only their own rows once the table holds a
// history.
func TestBatchedStatementsReadOnlyTheirRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	st := store.New(f.db.DB, f.db.AsyncPool(t, 1)) // one session: the second round runs the first round's plans
	round := func() int64 {
		received, queued := f.insert(t, models.StatusReceived, ""), f.insert(t, models.StatusQueued, "")
		running := f.job(t, models.StatusProcessing, models.NewToken())
		var read int64
		require.NoError(t, st.InTx(f.ctx, true, func(tx *store.Store, db *gorm.DB) error {
			moved, err := tx.MarkQueued(f.ctx, []uint64{received})
			require.NoError(t, err)
			require.Equal(t, []uint64{received}, moved)
			errs, err := tx.AdvanceStages(f.ctx, []store.StageMove{{Job: running, To: models.StatusParsed}})
			require.NoError(t, err)
			require.NoError(t, errs[0])
			jobs, err := tx.Claim(f.ctx, []uint64{queued}, "worker-a", time.Minute)
			require.NoError(t, err)
			require.Len(t, jobs, 1)
			lost, err := tx.RenewLeases(f.ctx, []string{jobs[0].Token, running.Token}, time.Minute)
			require.NoError(t, err)
			require.Empty(t, lost)
			read = apptest.RowsRead(t, db, "incoming_emails")
			return nil
		}))
		return read
	}
	round()
	apptest.FillEmails(t, f.db.DB, 2000)
	require.Less(t, round(), int64(30), "a batched statement read more of incoming_emails than its own rows")
}
