package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// insertEmail stores a minimal email in status, with lease token when not empty.
func insertEmail(t *testing.T, db *gorm.DB, status models.Status, token string) uint64 {
	t.Helper()
	var tok *string
	if token != "" {
		tok = &token
	}
	var id uint64
	require.NoError(t, db.Raw(`INSERT INTO incoming_emails
		(zendesk_ticket_id, dedup_key, from_email, received_at, processing_status, lease_token)
		VALUES ('42', ?, 'inkasso@example.de', now(), ?, ?) RETURNING id`,
		"k-"+models.NewToken(), status, tok).Scan(&id).Error)
	require.NotZero(t, id)
	return id
}

func statusOf(t *testing.T, db *gorm.DB, id uint64) models.IncomingEmail {
	t.Helper()
	var e models.IncomingEmail
	require.NoError(t, db.Take(&e, id).Error)
	return e
}

func TestChangeMovesAlongTheTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusReceived, "")

	require.NoError(t, models.Change{ID: id, To: models.StatusQueued,
		Set: map[string]any{"retry_count": 3}}.Apply(ctx, db.DB))
	e := statusOf(t, db.DB, id)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Equal(t, 3, e.RetryCount, "Set columns are written in the same UPDATE")

	// The same move again matches no row: RowsAffected is checked.
	err := models.Change{ID: id, To: models.StatusQueued, From: []models.Status{models.StatusReceived}}.Apply(ctx, db.DB)
	require.ErrorIs(t, err, models.ErrTransitionRefused)
}

func TestChangeRefusesTransitionOutsideTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusReceived, "")

	// Asked for explicitly: refused before touching the database.
	err := models.Change{ID: id, To: models.StatusCompleted, From: []models.Status{models.StatusReceived}}.Apply(ctx, db.DB)
	require.Error(t, err)
	require.ErrorContains(t, err, "not in the state machine")

	// Implied by the row's current state: the guarded UPDATE matches nothing.
	for _, to := range []models.Status{models.StatusCompleted, models.StatusParsed, models.StatusFailed, models.StatusRetrying} {
		err = models.Change{ID: id, To: to}.Apply(ctx, db.DB)
		require.ErrorIs(t, err, models.ErrTransitionRefused, "received → %s", to)
	}
	require.Equal(t, models.StatusReceived, statusOf(t, db.DB, id).ProcessingStatus)

	// Terminal rows stay put.
	done := insertEmail(t, db.DB, models.StatusCompleted, "")
	require.ErrorIs(t, models.Change{ID: done, To: models.StatusQueued}.Apply(ctx, db.DB), models.ErrTransitionRefused)
	require.Equal(t, models.StatusCompleted, statusOf(t, db.DB, done).ProcessingStatus)
}

func TestChangeMissingRow(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	err := models.Change{ID: 987654, To: models.StatusQueued}.Apply(context.Background(), db.DB)
	require.ErrorIs(t, err, models.ErrTransitionRefused)
}

func TestChangeWithLeaseToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusProcessing, "token-a")

	err := models.Change{ID: id, To: models.StatusParsed, Token: "token-b"}.Apply(ctx, db.DB)
	require.ErrorIs(t, err, models.ErrLeaseLost)
	require.Equal(t, models.StatusProcessing, statusOf(t, db.DB, id).ProcessingStatus)

	job := &models.Job{Email: models.IncomingEmail{ID: id, ProcessingStatus: models.StatusProcessing}, Token: "token-a"}
	require.NoError(t, job.Advance(ctx, db.DB, models.StatusParsed, map[string]any{"cleaned_body": "hallo"}))
	require.Equal(t, models.StatusParsed, job.Email.ProcessingStatus)
	e := statusOf(t, db.DB, id)
	require.Equal(t, models.StatusParsed, e.ProcessingStatus)
	require.Equal(t, "hallo", *e.CleanedBody)

	// A right token does not make an illegal move legal.
	err = job.Advance(ctx, db.DB, models.StatusCompleted, nil)
	require.ErrorIs(t, err, models.ErrLeaseLost)
	require.Equal(t, models.StatusParsed, job.Email.ProcessingStatus)

	// Another attempt took the lease over: the old one can write nothing.
	require.NoError(t, db.Exec("UPDATE incoming_emails SET lease_token = 'token-c' WHERE id = ?", id).Error)
	require.ErrorIs(t, job.Advance(ctx, db.DB, models.StatusExtracting, nil), models.ErrLeaseLost)
	require.Equal(t, models.StatusParsed, statusOf(t, db.DB, id).ProcessingStatus)
}

func TestChangeInsideTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusReceived, "")

	boom := errors.New("rolled back")
	err := db.Transaction(func(tx *gorm.DB) error {
		require.NoError(t, models.Change{ID: id, To: models.StatusQueued}.Apply(ctx, tx))
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, models.StatusReceived, statusOf(t, db.DB, id).ProcessingStatus)
}

func TestChangeConcurrentOnlyOneWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusQueued, "")

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = models.Change{ID: id, To: models.StatusProcessing,
				Set: map[string]any{"lease_token": models.NewToken()}}.Apply(ctx, db.DB)
		}()
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

func TestChangeEffectsHappenOnlyWithTheMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	id := insertEmail(t, db.DB, models.StatusMatching, "tok-1")
	outboxRows := func() int64 {
		var n int64
		require.NoError(t, db.Model(&models.OutboxMessage{}).Where("aggregate_id = ?", id).Count(&n).Error)
		return n
	}
	require.NoError(t, db.Exec(`INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
		VALUES (?, 1, 'w', 'tok-1', now())`, id).Error)
	attemptOpen := func() bool {
		var a models.EmailAttempt
		require.NoError(t, db.Where("lease_token = 'tok-1'").Take(&a).Error)
		return a.FinishedAt == nil
	}
	move := func(token string) error {
		return models.Change{ID: id, To: models.StatusFailed, Token: token,
			Set: map[string]any{"processing_error": "boom"},
			Effects: []models.Effect{models.OutboxRow(models.OutboxFailureAlert, id, map[string]any{"email_id": id}),
				models.AttemptFinished("tok-1", models.OutcomeFailed, nil)},
		}.Apply(ctx, db.DB)
	}

	require.ErrorIs(t, move("tok-other"), models.ErrLeaseLost)
	require.Zero(t, outboxRows(), "a refused move writes none of its effects")
	require.True(t, attemptOpen(), "nor closes the attempt")
	require.Equal(t, models.StatusMatching, statusOf(t, db.DB, id).ProcessingStatus)

	require.NoError(t, move("tok-1"))
	require.EqualValues(t, 1, outboxRows())
	require.False(t, attemptOpen())
	e := statusOf(t, db.DB, id)
	require.Equal(t, models.StatusFailed, e.ProcessingStatus)
	require.Nil(t, e.LeaseToken, "leaving the leased stages ends the lease")
}

// TestApplyAllMovesAllowedRowsAsApplyWould checks the batch form against
// Apply: the same guard, updated_at, Set columns and end of any lease; a row
// in another state is left alone.
func TestApplyAllMovesAllowedRowsAsApplyWould(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := apptest.NewDB(t)
	a, b, single := insertEmail(t, db.DB, models.StatusReceived, "stray-a"),
		insertEmail(t, db.DB, models.StatusReceived, "stray-b"), insertEmail(t, db.DB, models.StatusReceived, "stray-c")
	claimed := insertEmail(t, db.DB, models.StatusProcessing, "worker-token")
	change := models.Change{To: models.StatusQueued, From: []models.Status{models.StatusReceived},
		Set: map[string]any{"last_dispatched_at": gorm.Expr("now()"), "retry_count": 2}}

	moved, err := change.ApplyAll(ctx, db.DB, []uint64{claimed, b, a, a, 999999})
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{a, b}, moved, "a row twice or missing moves once or not at all")
	one := change
	one.ID = single
	require.NoError(t, one.Apply(ctx, db.DB))

	for _, id := range []uint64{a, b, single} {
		e := statusOf(t, db.DB, id)
		require.Equal(t, models.StatusQueued, e.ProcessingStatus)
		require.Nil(t, e.LeaseToken)
		require.Nil(t, e.LeaseUntil)
		require.NotNil(t, e.LastDispatchedAt)
		require.Equal(t, 2, e.RetryCount)
		require.True(t, e.UpdatedAt.After(e.CreatedAt))
	}
	e := statusOf(t, db.DB, claimed)
	require.Equal(t, models.StatusProcessing, e.ProcessingStatus, "a row in another state is left alone")
	require.Equal(t, "worker-token", *e.LeaseToken)
	require.Nil(t, e.LastDispatchedAt)

	_, err = models.Change{To: models.StatusCompleted, From: []models.Status{models.StatusReceived}}.ApplyAll(ctx, db.DB, []uint64{a})
	require.ErrorContains(t, err, "not in the state machine")
}
