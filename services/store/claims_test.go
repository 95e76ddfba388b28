package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestOneClaimStatementTakesEachEmailOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, c := f.insert(t, models.StatusQueued, ""), f.insert(t, models.StatusReceived, "")
	done := f.insert(t, models.StatusCompleted, "")
	jobs, err := f.st.Claim(f.ctx, []uint64{a, c, a, done, 999999}, "worker-a", time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 2, "a second copy of an id gets nothing, nor a finished or missing email")
	byID := map[uint64]*models.Job{}
	for _, j := range jobs {
		byID[j.Email.ID] = j
	}
	require.NotEqual(t, byID[a].Token, byID[c].Token, "each claim has its own lease")
	for _, id := range []uint64{a, c} {
		job := byID[id]
		require.Equal(t, "worker-a", job.Worker)
		require.Equal(t, 1, job.Attempt)
		require.Equal(t, models.StatusProcessing, job.Email.ProcessingStatus)
		e := f.email(t, id)
		require.Equal(t, models.StatusProcessing, e.ProcessingStatus)
		require.Equal(t, job.Token, *e.LeaseToken)
		require.Equal(t, "worker-a", *e.LeaseOwner)
		require.WithinDuration(t, time.Now().Add(time.Minute), *e.LeaseUntil, 30*time.Second)
		at := f.attempts(t, id)
		require.Len(t, at, 1)
		require.Equal(t, job.Token, at[0].LeaseToken)
	}
	again, err := f.st.Claim(f.ctx, []uint64{a}, "worker-b", time.Minute)
	require.NoError(t, err)
	require.Empty(t, again, "a claimed email is not claimable")
}

// TestRenewalSparesAttemptThatFinishedItself proves the lease renewal does
// not call an attempt lost because its own final write committed before the
// worker read the answer: only a rescue, or another attempt's lease, is.
func TestRenewalSparesAttemptThatFinishedItself(t *testing.T) {
	t.Parallel()
	f := setup(t)
	claimed := func() *models.Job {
		jobs, err := f.st.Claim(f.ctx, []uint64{f.insert(t, models.StatusQueued, "")}, "w1", time.Minute)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		return jobs[0]
	}
	running, finished, rescued, taken := claimed(), claimed(), claimed(), claimed()
	// committed; its worker has not returned yet
	require.NoError(t, f.st.Finish(f.ctx, finished, store.Failed("x", models.FailureAlert(finished.Email, "x"))))
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second' WHERE id = ?",
		rescued.Email.ID).Error)
	queued, _, err := f.st.RescueExpired(f.ctx, 10, 3)
	require.NoError(t, err)
	require.Equal(t, []uint64{rescued.Email.ID}, queued)
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_token = 'someone-else' WHERE id = ?",
		taken.Email.ID).Error)

	lost, err := f.st.RenewLeases(f.ctx, []string{running.Token, finished.Token, rescued.Token, taken.Token}, time.Minute)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{rescued.Token, taken.Token}, lost)
	e := f.email(t, running.Email.ID)
	require.WithinDuration(t, time.Now().Add(time.Minute), *e.LeaseUntil, 30*time.Second)
}
