package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestChangeMovesAlongTheTable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusReceived, "")

	require.NoError(t, f.st.Apply(f.ctx, store.Change{To: models.StatusQueued,
		Set: []store.Assign{{Column: "retry_count", Value: 3}}}, id))
	e := f.email(t, id)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Equal(t, 3, e.RetryCount, "Set columns are written in the same UPDATE")

	// The same move again matches no row: RowsAffected is checked.
	err := f.st.Apply(f.ctx, store.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived}}, id)
	require.ErrorIs(t, err, models.ErrTransitionRefused)
}

func TestChangeRefusesTransitionOutsideTable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusReceived, "")

	// Asked for explicitly: refused before touching the database.
	err := f.st.Apply(f.ctx, store.Change{To: models.StatusCompleted, From: []models.Status{models.StatusReceived}}, id)
	require.ErrorContains(t, err, "not in the state machine")

	// Implied by the row's current state: the guarded UPDATE matches nothing.
	for _, to := range []models.Status{models.StatusCompleted, models.StatusParsed, models.StatusExtracting, models.StatusRetrying} {
		err = f.st.Apply(f.ctx, store.Change{To: to}, id)
		require.ErrorIs(t, err, models.ErrTransitionRefused, "received → %s", to)
	}
	require.Equal(t, models.StatusReceived, f.email(t, id).ProcessingStatus)

	// Terminal rows stay put.
	done := f.insert(t, models.StatusCompleted, "")
	require.ErrorIs(t, f.st.Apply(f.ctx, store.Change{To: models.StatusQueued}, done), models.ErrTransitionRefused)
	require.Equal(t, models.StatusCompleted, f.email(t, done).ProcessingStatus)

	// Nor does a row that is not there.
	require.ErrorIs(t, f.st.Apply(f.ctx, store.Change{To: models.StatusQueued}, 987654), models.ErrTransitionRefused)
}

func TestChangeWithLeaseToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusProcessing, "token-a")

	err := f.st.Apply(f.ctx, store.Change{To: models.StatusParsed, Token: "token-b"}, id)
	require.ErrorIs(t, err, models.ErrLeaseLost)
	require.Equal(t, models.StatusProcessing, f.email(t, id).ProcessingStatus)

	require.NoError(t, f.st.Apply(f.ctx, store.Change{To: models.StatusParsed, Token: "token-a",
		Set: []store.Assign{{Column: "cleaned_body", Value: "hallo"}}}, id))
	e := f.email(t, id)
	require.Equal(t, models.StatusParsed, e.ProcessingStatus)
	require.Equal(t, "hallo", *e.CleanedBody)
	require.Equal(t, "token-a", *e.LeaseToken, "a leased stage keeps the lease")

	// A right token does not make an illegal move legal.
	err = f.st.Apply(f.ctx, store.Change{To: models.StatusCompleted, Token: "token-a"}, id)
	require.ErrorIs(t, err, models.ErrLeaseLost)

	// Another attempt took the lease over: the old one can write nothing.
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_token = 'token-c' WHERE id = ?", id).Error)
	require.ErrorIs(t, f.st.Apply(f.ctx, store.Change{To: models.StatusExtracting, Token: "token-a"}, id), models.ErrLeaseLost)
	require.Equal(t, models.StatusParsed, f.email(t, id).ProcessingStatus)
}

func TestChangeInsideTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusReceived, "")

	boom := errors.New("rolled back")
	err := f.st.InTx(f.ctx, false, func(tx *store.Store, _ *gorm.DB) error {
		require.NoError(t, tx.Apply(f.ctx, store.Change{To: models.StatusQueued}, id))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, models.StatusReceived, f.email(t, id).ProcessingStatus)
}

func TestChangeConcurrentOnlyOneWins(t *testing.T) {
	t.Parallel()
	f := setup(t)
	id := f.insert(t, models.StatusQueued, "")

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = f.st.Apply(f.ctx, store.Change{To: models.StatusProcessing,
				Set: []store.Assign{{Column: "lease_token", Value: models.NewToken()}}}, id)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, models.ErrTransitionRefused)
	}
	require.Equal(t, 1, won)
}

// TestApplyAllMovesAllowedRowsAsApplyWould checks the batch form against
// Apply: the same guard, updated_at, Set columns and end of any lease; a row
// in another state is left alone.
func TestApplyAllMovesAllowedRowsAsApplyWould(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, b, single := f.insert(t, models.StatusReceived, "stray-a"),
		f.insert(t, models.StatusReceived, "stray-b"), f.insert(t, models.StatusReceived, "stray-c")
	claimed := f.insert(t, models.StatusProcessing, "worker-token")
	change := store.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: []store.Assign{{Column: "last_dispatched_at", Value: gorm.Expr("now()")}, {Column: "retry_count", Value: 2}}}

	moved, err := f.st.ApplyAll(f.ctx, change, []uint64{claimed, b, a, a, 999999})
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{a, b}, moved, "a row twice or missing moves once or not at all")
	require.NoError(t, f.st.Apply(f.ctx, change, single))

	for _, id := range []uint64{a, b, single} {
		e := f.email(t, id)
		require.Equal(t, models.StatusQueued, e.ProcessingStatus)
		require.Nil(t, e.LeaseToken)
		require.Nil(t, e.LeaseUntil)
		require.NotNil(t, e.LastDispatchedAt)
		require.Equal(t, 2, e.RetryCount)
		require.True(t, e.UpdatedAt.After(e.CreatedAt))
	}
	e := f.email(t, claimed)
	require.Equal(t, models.StatusProcessing, e.ProcessingStatus, "a row in another state is left alone")
	require.Equal(t, "worker-token", *e.LeaseToken)
	require.Nil(t, e.LastDispatchedAt)

	_, err = f.st.ApplyAll(f.ctx, store.Change{To: models.StatusCompleted, From: []models.Status{models.StatusReceived}}, []uint64{a})
	require.ErrorContains(t, err, "not in the state machine")
}
