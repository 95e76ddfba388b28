package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func (f fixture) outboxRow(t *testing.T, id uint64) models.OutboxMessage {
	t.Helper()
	var row models.OutboxMessage
	require.NoError(t, f.db.Take(&row, id).Error)
	return row
}

// TestReleaseOutboxLeavesANewerClaim: a relay hands back the rows it did not
// get to, uncounting their attempt, but only while they still hold its own
// reservation; a row another relay claimed since is left with that claim,
// or a third relay would claim it and send it a second time.
func TestReleaseOutboxLeavesANewerClaim(t *testing.T) {
	t.Parallel()
	f := setup(t)
	added, err := f.st.EnqueueOutbox(f.ctx, models.OutboxDebtNotification, 7, map[string]any{"email_id": 7})
	require.NoError(t, err)
	require.True(t, added)
	added, err = f.st.EnqueueOutbox(f.ctx, models.OutboxDebtNotification, 7, map[string]any{"email_id": 7})
	require.NoError(t, err)
	require.False(t, added, "one row per kind per email")
	claim := func() []models.OutboxMessage {
		rows, err := f.st.ClaimOutbox(f.ctx, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		return rows
	}
	stale := claim()
	again, err := f.st.ClaimOutbox(f.ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, again, "a reserved row is not due")
	require.NoError(t, f.db.Exec("UPDATE outbox_messages SET locked_until = now() - interval '1 second'").Error)
	fresh := claim()
	id := fresh[0].ID

	require.NoError(t, f.st.ReleaseOutbox(f.ctx, stale))
	row := f.outboxRow(t, id)
	require.NotNil(t, row.LockedUntil, "the newer claim holds")
	require.True(t, fresh[0].LockedUntil.Equal(*row.LockedUntil))
	require.Equal(t, 2, row.Attempts)

	require.NoError(t, f.st.ReleaseOutbox(f.ctx, fresh))
	row = f.outboxRow(t, id)
	require.Nil(t, row.LockedUntil, "released")
	require.Equal(t, 1, row.Attempts, "the released claim's attempt is not counted")
	require.Nil(t, row.ProcessedAt)
}

func TestMarkOutboxSetsTheSyncStatusOfOpenRowsOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusCompleted, "")
	_, err := f.st.EnqueueOutbox(f.ctx, models.OutboxCreditorDebtUpdate, id, map[string]any{"email_id": id})
	require.NoError(t, err)
	rows, err := f.st.ClaimOutbox(f.ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	msg := rows[0]

	boom := "portal down"
	require.NoError(t, f.st.RetryOutbox(f.ctx, msg, time.Now().Add(time.Hour), &boom))
	row := f.outboxRow(t, msg.ID)
	require.Nil(t, row.ProcessedAt)
	require.Nil(t, row.LockedUntil)
	require.Equal(t, boom, *f.email(t, id).SyncError)

	require.NoError(t, f.st.MarkOutbox(f.ctx, msg, models.DeliveryDelivered, nil))
	require.Equal(t, models.DeliveryDelivered, *f.outboxRow(t, msg.ID).Outcome)
	e := f.email(t, id)
	require.Equal(t, models.SyncSynced, e.SyncStatus)
	require.Nil(t, e.SyncError)

	// A stale relay's late verdict changes neither the row nor the email.
	require.NoError(t, f.st.MarkOutbox(f.ctx, msg, models.DeliveryFailed, &boom))
	require.NoError(t, f.st.SkipOutbox(f.ctx, []models.OutboxMessage{msg}))
	require.Equal(t, models.DeliveryDelivered, *f.outboxRow(t, msg.ID).Outcome)
	require.Equal(t, models.SyncSynced, f.email(t, id).SyncStatus)
	require.Error(t, f.st.MarkOutbox(f.ctx, msg, models.DeliverySkipped, nil), "skipped rows go through SkipOutbox")
}
