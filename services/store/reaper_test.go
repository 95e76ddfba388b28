package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func TestRescueExpiredQueuesAgainThenFailsACrashLoopOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	live := f.job(t, models.StatusParsed, "live")
	id := f.insert(t, models.StatusQueued, "")
	expire := func() {
		require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second' WHERE id = ?", id).Error)
	}
	for round := 1; round <= 3; round++ {
		jobs, err := f.st.Claim(f.ctx, []uint64{id}, "crashing", time.Minute)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		expire()
		queued, failed, err := f.st.RescueExpired(f.ctx, 10, 3)
		require.NoError(t, err)
		if round < 3 {
			require.Equal(t, []uint64{id}, queued)
			require.Empty(t, failed)
			require.Equal(t, models.StatusQueued, f.email(t, id).ProcessingStatus)
			continue
		}
		require.Empty(t, queued)
		require.Equal(t, []uint64{id}, failed)
	}
	e := f.email(t, id)
	require.Equal(t, models.StatusFailed, e.ProcessingStatus)
	require.Contains(t, *e.ProcessingError, "crash loop")
	require.Equal(t, 3, e.RescueCount)
	require.Nil(t, e.LeaseToken)
	for _, a := range f.attempts(t, id) {
		require.Equal(t, models.OutcomeRescued, *a.Outcome)
	}
	require.EqualValues(t, 1, f.outboxCount(t, id, models.OutboxFailureAlert))
	queued, failed, err := f.st.RescueExpired(f.ctx, 10, 3)
	require.NoError(t, err)
	require.Empty(t, append(queued, failed...))
	require.EqualValues(t, 1, f.outboxCount(t, id, models.OutboxFailureAlert))
	require.Equal(t, models.StatusParsed, f.email(t, live.Email.ID).ProcessingStatus, "a live lease is left alone")
}

func TestRedispatchMovesOnlyWaitingRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	received, queued := f.insert(t, models.StatusReceived, ""), f.insert(t, models.StatusQueued, "")
	due, early := f.insert(t, models.StatusRetrying, ""), f.insert(t, models.StatusRetrying, "")
	running := f.insert(t, models.StatusProcessing, "tok")
	require.NoError(t, f.db.Exec(`UPDATE incoming_emails SET created_at = now() - interval '1 minute',
		next_attempt_at = CASE WHEN id = ? THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END`, due).Error)

	n, err := f.st.CountClaimable(f.ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	ids, err := f.st.QueueDueRetries(f.ctx, []uint64{due, early, received, running})
	require.NoError(t, err)
	require.Equal(t, []uint64{due}, ids, "only retrying rows that are due")
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET processing_status = 'retrying' WHERE id = ?", due).Error)
	ids, err = f.st.QueueOverdueRetries(f.ctx, time.Second, 10)
	require.NoError(t, err)
	require.Equal(t, []uint64{due}, ids)

	ids, err = f.st.RequeueUndispatched(f.ctx, time.Second, 10)
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{received, queued}, ids)
	for _, id := range []uint64{received, queued, due} {
		e := f.email(t, id)
		require.Equal(t, models.StatusQueued, e.ProcessingStatus)
		require.NotNil(t, e.LastDispatchedAt)
	}
	ids, err = f.st.RequeueUndispatched(f.ctx, time.Second, 10)
	require.NoError(t, err)
	require.Empty(t, ids, "a fresh dispatch is left alone")
	require.Equal(t, models.StatusProcessing, f.email(t, running).ProcessingStatus)
}

// TestRedispatchStaysInTheMachine: a re-dispatch moves every waiting state
// to queued, which the table allows for all but queued itself (a queued row
// is only re-stamped).
func TestRedispatchStaysInTheMachine(t *testing.T) {
	t.Parallel()
	for _, s := range models.Waiting() {
		require.True(t, s == models.StatusQueued || models.CanTransition(s, models.StatusQueued), s)
	}
}
