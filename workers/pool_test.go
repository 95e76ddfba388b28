package workers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit/groupcommittest"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func TestPoolCompletesJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []uint64
	for i := 0; i < 5; i++ {
		ids = append(ids, b.insertEmail(t, models.StatusQueued))
	}
	require.NoError(t, b.queue.Push(context.Background(), ids...))
	b.startPool(t, b.poolConfig(), completer(b.st, nil))
	for _, id := range ids {
		e := b.waitStatus(t, id, models.StatusCompleted)
		require.Nil(t, e.LeaseToken)
		a := b.attempts(t, id)
		require.Len(t, a, 1)
		apptest.Eventually(t, 5*time.Second, func() bool {
			return len(b.attempts(t, id)) == 1 && b.attempts(t, id)[0].Outcome != nil
		}, "attempt outcome recorded")
		require.Equal(t, models.OutcomeCompleted, *b.attempts(t, id)[0].Outcome)
	}
	apptest.Eventually(t, 5*time.Second, func() bool {
		n, _ := b.redis.Client.LLen(context.Background(), b.queue.Keys().Processing(b.queue.Instance())).Result()
		return n == 0
	}, "processing list acknowledged")
}

func TestPoolRetriesTransientErrorWithBackoff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	var calls atomic.Int64
	done := completer(b.st, nil)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		if calls.Add(1) == 1 {
			return "", models.Transient(errors.New("llm rate limited"), 0)
		}
		return done(ctx, job)
	})
	sched := NewScheduler(b.st, b.queue, 20*time.Millisecond, b.log)
	require.NoError(t, sched.Start(context.Background()))
	t.Cleanup(sched.Stop)
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, b.poolConfig(), proc)

	e := b.waitStatus(t, id, models.StatusCompleted)
	require.Equal(t, 1, e.RetryCount)
	a := b.attempts(t, id)
	require.Len(t, a, 2)
	require.Equal(t, models.OutcomeRetry, *a[0].Outcome)
	require.Contains(t, *a[0].Error, "rate limited")
	// JOB_MIN_BACKOFF 200ms with ±50% jitter: the retry waited at least 100ms.
	require.GreaterOrEqual(t, a[1].StartedAt.Sub(*a[0].FinishedAt), 100*time.Millisecond)
	require.EqualValues(t, 0, b.outboxCount(t, id, models.OutboxFailureAlert))
}

func TestPoolFailsPermanentErrorAtOnceAndAlertsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	var calls atomic.Int64
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		calls.Add(1)
		return "", models.Permanent(errors.New("anthropic 401: invalid api key"))
	})
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, b.poolConfig(), proc)
	e := b.waitStatus(t, id, models.StatusFailed)
	require.Equal(t, int64(1), calls.Load())
	require.Equal(t, 0, e.RetryCount)
	require.Contains(t, *e.ProcessingError, "401")
	require.NotNil(t, e.CompletedAt)
	require.EqualValues(t, 1, b.outboxCount(t, id, models.OutboxFailureAlert))
}

func TestPoolFailsWhenRetriesAreExhausted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	var calls atomic.Int64
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		calls.Add(1)
		return "", models.Transient(errors.New("upstream 503"), 0)
	})
	cfg := b.poolConfig()
	cfg.Retry = background.RetryPolicy{MaxRetries: 2, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	sched := NewScheduler(b.st, b.queue, 10*time.Millisecond, b.log)
	require.NoError(t, sched.Start(context.Background()))
	t.Cleanup(sched.Stop)
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, cfg, proc)
	e := b.waitStatus(t, id, models.StatusFailed)
	require.Equal(t, int64(3), calls.Load())
	require.Equal(t, 2, e.RetryCount)
	require.Contains(t, *e.ProcessingError, "retries exhausted")
	require.EqualValues(t, 1, b.outboxCount(t, id, models.OutboxFailureAlert))
	require.Len(t, b.attempts(t, id), 3)
}

func TestPoolHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		return "", models.Transient(errors.New("429"), time.Hour)
	})
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, b.poolConfig(), proc)
	e := b.waitStatus(t, id, models.StatusRetrying)
	require.WithinDuration(t, time.Now().Add(time.Hour), *e.NextAttemptAt, time.Minute)
	// The delayed entry is scheduled just after the retrying state commits.
	var score float64
	apptest.Eventually(t, 5*time.Second, func() bool {
		var err error
		score, err = b.redis.Client.ZScore(context.Background(), b.queue.Keys().Delayed(), itoa(id)).Result()
		return err == nil
	}, "retry scheduled in the delayed set")
	require.Greater(t, score, float64(time.Now().Add(50*time.Minute).UnixMilli()))
	require.Nil(t, e.LeaseToken, "leaving a leased stage ends the lease")
}

func TestSameIDPushedManyTimesIsProcessedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	ids := make([]uint64, 50)
	for i := range ids {
		ids[i] = id
	}
	require.NoError(t, b.queue.Push(context.Background(), ids...))
	var calls atomic.Int64
	cfg := b.poolConfig()
	cfg.Concurrency = 8
	b.startPool(t, cfg, completer(b.st, &calls))
	b.waitStatus(t, id, models.StatusCompleted)
	apptest.Eventually(t, 10*time.Second, func() bool {
		n, _ := b.redis.Client.LLen(context.Background(), b.queue.Keys().Ready()).Result()
		return n == 0
	}, "all copies fetched")
	require.Equal(t, int64(1), calls.Load())
	require.Len(t, b.attempts(t, id), 1)
}

func TestLostLeaseCannotCommit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.insertEmail(t, models.StatusQueued)
	old, err := claimOne(ctx, b.st, id, "worker-a", time.Second)
	require.NoError(t, err)
	require.NotNil(t, old)
	require.NoError(t, advance(ctx, b.st, old, models.StatusParsed))

	// The lease expires; the reaper takes the email back and another worker claims it.
	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second' WHERE id = ?", id).Error)
	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.Equal(t, models.StatusQueued, b.email(t, id).ProcessingStatus)
	fresh, err := claimOne(ctx, b.st, id, "worker-b", time.Minute)
	require.NoError(t, err)
	require.NotNil(t, fresh)

	// Whatever the old attempt tries now is refused, and changes nothing.
	require.ErrorIs(t, advance(ctx, b.st, old, models.StatusExtracting), models.ErrLeaseLost)
	require.ErrorIs(t, b.st.Finish(ctx, old, store.Failed("late", models.FailureAlert(old.Email, "late"))), models.ErrLeaseLost)
	e := b.email(t, id)
	require.Equal(t, models.StatusProcessing, e.ProcessingStatus)
	require.Equal(t, fresh.Token, *e.LeaseToken)
	require.Equal(t, 1, e.RescueCount)
	a := b.attempts(t, id)
	require.Len(t, a, 2)
	require.Equal(t, models.OutcomeRescued, *a[0].Outcome)
}

func TestPoolCancelsAttemptWhoseLeaseWasTaken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	started := make(chan string, 1)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		started <- job.Token
		<-ctx.Done() // stalls until the heartbeat notices the lease is gone
		return "", ctx.Err()
	})
	cfg := b.poolConfig()
	cfg.LeaseDuration = 300 * time.Millisecond
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, cfg, proc)
	<-started
	// Another attempt takes over the email (as after a rescue and a new claim).
	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET lease_token = 'someone-else' WHERE id = ?", id).Error)
	apptest.Eventually(t, 10*time.Second, func() bool {
		a := b.attempts(t, id)
		return len(a) == 1 && countOutcome(t, b, "lease_lost") == 1
	}, "attempt cancelled as lease lost")
	require.Equal(t, models.StatusProcessing, b.email(t, id).ProcessingStatus)
	require.Equal(t, "someone-else", *b.email(t, id).LeaseToken)
}

func TestPanicFailsOnlyThatAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad, good := b.insertEmail(t, models.StatusQueued), b.insertEmail(t, models.StatusQueued)
	done := completer(b.st, nil)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		if job.Email.ID == bad {
			panic("boom")
		}
		return done(ctx, job)
	})
	cfg := b.poolConfig()
	cfg.Concurrency = 1
	require.NoError(t, b.queue.Push(context.Background(), bad, good))
	b.startPool(t, cfg, proc)
	b.waitStatus(t, good, models.StatusCompleted)
	e := b.waitStatus(t, bad, models.StatusRetrying)
	require.Contains(t, *e.ProcessingError, "panic")
}

func TestStopRequeuesInterruptedJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	started := make(chan struct{})
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	})
	cfg := b.poolConfig()
	cfg.ShutdownTimeout = 100 * time.Millisecond
	require.NoError(t, b.queue.Push(context.Background(), id))
	p := b.startPool(t, cfg, proc)
	<-started
	p.Stop()
	e := b.email(t, id)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Nil(t, e.LeaseToken)
	a := b.attempts(t, id)
	require.Len(t, a, 1)
	require.Equal(t, models.OutcomeInterrupted, *a[0].Outcome)
	require.Contains(t, b.ready(t), itoa(id))
	p.Stop() // safe twice
}

func TestClassify(t *testing.T) {
	t.Parallel()
	perm, _ := classify(models.Permanent(errors.New("x")))
	require.True(t, perm)
	perm, ra := classify(models.Transient(errors.New("x"), time.Second))
	require.False(t, perm)
	require.Equal(t, time.Second, ra)
	perm, _ = classify(context.DeadlineExceeded)
	require.False(t, perm)
	perm, _ = classify(errors.New("unknown"))
	require.False(t, perm)
}

// TestHeartbeatKeepsLongJobLeased runs a job for several lease durations
// beside a busy reaper: the heartbeat's renewals keep the lease alive, so
// the reaper never rescues the email and it runs once.
func TestHeartbeatKeepsLongJobLeased(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.insertEmail(t, models.StatusQueued)
	var calls atomic.Int64
	done := completer(b.st, nil)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		calls.Add(1)
		select {
		case <-time.After(2 * time.Second): // over three lease durations
		case <-ctx.Done():
			return "", ctx.Err()
		}
		return done(ctx, job)
	})
	reaper := NewReaper(ReaperConfig{Interval: 50 * time.Millisecond, MaxRescues: 3, Grace: time.Second},
		b.st, b.queue, b.m, b.log)
	require.NoError(t, reaper.Start(context.Background()))
	t.Cleanup(reaper.Stop)
	cfg := b.poolConfig()
	cfg.LeaseDuration = 600 * time.Millisecond // renewed every 200ms
	require.NoError(t, b.queue.Push(context.Background(), id))
	b.startPool(t, cfg, proc)

	var e models.IncomingEmail
	apptest.Eventually(t, 15*time.Second, func() bool {
		e = b.email(t, id)
		return e.ProcessingStatus.Terminal()
	}, "email terminal")
	require.Equal(t, models.StatusCompleted, e.ProcessingStatus)
	require.Zero(t, e.RescueCount, "a renewed lease is not rescued")
	require.Equal(t, int64(1), calls.Load())
	require.Len(t, b.attempts(t, id), 1)
}

// TestStopHandsBackClaimsThatCommitDuringShutdown: claims still being
// written when shutdown cancels the jobs must not leave their emails leased
// to workers that are gone, waiting for the leases to expire. Both claims
// go in one batch, so one worker waits for a write another one makes.
func TestStopHandsBackClaimsThatCommitDuringShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ids := []uint64{b.insertEmail(t, models.StatusQueued), b.insertEmail(t, models.StatusQueued)}
	// An open transaction holds the rows: the claim statement waits for it.
	lock := apptest.BeginLock(t, b.db.DB)
	require.NoError(t, lock.Tx.Exec("SELECT 1 FROM incoming_emails WHERE id IN ? FOR UPDATE", ids).Error)
	proc := procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	cfg := b.poolConfig()
	cfg.Concurrency = 2
	cfg.ShutdownTimeout = 100 * time.Millisecond
	p := NewPool(cfg, b.st, b.queue, proc, b.m, b.log)
	claims := groupcommittest.New(p.writeClaims, claimOptions(cfg))
	p.claims = claims
	require.NoError(t, p.Start(context.Background()))
	t.Cleanup(p.Stop)
	release := claims.Hold()
	require.NoError(t, b.queue.Push(ctx, ids...))
	apptest.Eventually(t, 10*time.Second, func() bool { return claims.Queued() == 2 }, "both claims queued")
	release()
	lock.WaitBlocking(t, b.db.DB) // the claim statement

	stopped := make(chan struct{})
	go func() { p.Stop(); close(stopped) }()
	time.Sleep(3 * cfg.ShutdownTimeout) // the jobs are cancelled meanwhile
	lock.Commit(t)
	<-stopped
	apptest.Eventually(t, 10*time.Second, claims.Idle, "claims written")

	for _, id := range ids {
		e := b.email(t, id)
		require.Equal(t, models.StatusQueued, e.ProcessingStatus, "email %d: the claim is handed back, not left to expire", id)
		require.Nil(t, e.LeaseToken)
	}
}
