package workers

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

func (b *bundle) reaper(maxRescues int) *Reaper {
	return NewReaper(ReaperConfig{Interval: time.Hour, MaxRescues: maxRescues, Grace: time.Second}, b.st, b.queue, b.m, b.log)
}

func (b *bundle) ready(t *testing.T) []string {
	t.Helper()
	ids, err := b.redis.Client.LRange(context.Background(), b.queue.Keys().Ready(), 0, -1).Result()
	require.NoError(t, err)
	return ids
}

func TestReaperRescuesExpiredLeases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.insertEmail(t, models.StatusQueued)
	job, err := claimOne(ctx, b.st, id, "dead-worker", time.Minute)
	require.NoError(t, err)
	require.NoError(t, advance(ctx, b.st, job, models.StatusParsed))

	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.Equal(t, models.StatusParsed, b.email(t, id).ProcessingStatus, "a live lease is left alone")

	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second'").Error)
	require.NoError(t, b.reaper(3).runOnce(ctx))
	e := b.email(t, id)
	require.Equal(t, models.StatusQueued, e.ProcessingStatus)
	require.Equal(t, 1, e.RescueCount)
	require.Equal(t, 0, e.RetryCount, "rescues are counted apart from retries")
	require.Nil(t, e.LeaseToken)
	require.Equal(t, []string{itoa(id)}, b.ready(t))
}

func TestReaperFailsCrashLoopingEmailOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	id := b.insertEmail(t, models.StatusQueued)
	for i := 0; i < 3; i++ {
		_, err := claimOne(ctx, b.st, id, "crashing-worker", time.Minute)
		require.NoError(t, err)
		require.NoError(t, b.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second'").Error)
		require.NoError(t, b.reaper(3).runOnce(ctx))
	}
	e := b.email(t, id)
	require.Equal(t, models.StatusFailed, e.ProcessingStatus)
	require.Contains(t, *e.ProcessingError, "crash loop")
	require.Equal(t, 3, e.RescueCount)
	require.EqualValues(t, 1, b.outboxCount(t, id, models.OutboxFailureAlert))
	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.EqualValues(t, 1, b.outboxCount(t, id, models.OutboxFailureAlert))
}

func TestReaperRedispatchesWhatRedisLost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	received := b.insertEmail(t, models.StatusReceived) // the webhook's push failed
	queued := b.insertEmail(t, models.StatusQueued)     // pushed, then Redis lost it
	retrying := b.insertEmail(t, models.StatusRetrying) // its delayed entry is gone
	require.NoError(t, b.db.Exec(`UPDATE incoming_emails SET created_at = now() - interval '1 minute',
		last_dispatched_at = CASE WHEN id = ? THEN now() - interval '1 minute' END,
		next_attempt_at = CASE WHEN id = ? THEN now() - interval '1 minute' END`, queued, retrying).Error)

	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.ElementsMatch(t, []string{itoa(received), itoa(queued), itoa(retrying)}, b.ready(t))
	for _, id := range []uint64{received, queued, retrying} {
		require.Equal(t, models.StatusQueued, b.email(t, id).ProcessingStatus)
	}
	// The next sweep finds them in Redis and does not push copies.
	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET last_dispatched_at = now() - interval '1 minute'").Error)
	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.Len(t, b.ready(t), 3)
}

func TestReaperLeavesFreshDispatchesAlone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.insertEmail(t, models.StatusReceived) // a webhook in flight: created just now
	require.NoError(t, b.reaper(3).runOnce(context.Background()))
	require.Empty(t, b.ready(t))
}

func TestReaperRequeuesDeadInstances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	dead := NewQueue(b.redis.Client, b.redis.Namespace, "dead")
	alive := NewQueue(b.redis.Client, b.redis.Namespace, "alive")
	require.NoError(t, dead.Beat(ctx, time.Minute))
	require.NoError(t, alive.Beat(ctx, time.Minute))
	require.NoError(t, b.queue.Push(ctx, 7, 8, 9))
	for _, q := range []*Queue{dead, dead, alive} {
		_, err := q.Fetch(ctx, time.Second)
		require.NoError(t, err)
	}
	require.NoError(t, b.redis.Client.Del(ctx, b.queue.Keys().Heartbeat("dead")).Err()) // its TTL ran out
	require.NoError(t, b.reaper(3).runOnce(ctx))
	require.ElementsMatch(t, []string{"7", "8"}, b.ready(t))
	n, err := b.redis.Client.LLen(ctx, b.queue.Keys().Processing("alive")).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "a live instance keeps its list")
	members, err := b.redis.Client.SMembers(ctx, b.queue.Keys().Instances()).Result()
	require.NoError(t, err)
	require.NotContains(t, members, "dead")
}

func TestConcurrentReapersPushEachRowOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := 0; i < 200; i++ {
		b.insertEmail(t, models.StatusReceived)
	}
	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET created_at = now() - interval '1 minute'").Error)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, b.reaper(3).runOnce(context.Background()))
		}()
	}
	wg.Wait()
	got := b.ready(t)
	require.Len(t, got, 200)
	seen := map[string]bool{}
	for _, id := range got {
		require.False(t, seen[id], "id %s pushed twice", id)
		seen[id] = true
	}
}

// TestEmailsSurviveRedisFlushAndRestart empties a private Redis (FLUSHDB,
// then a restart without persistence) while emails wait, and checks every
// email still completes once.
func TestEmailsSurviveRedisFlushAndRestart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	url, _, restart := apptest.StartRedisServer(t)
	ctx := context.Background()
	rdb, err := OpenRedis(ctx, RedisConfig{URL: url, PoolSize: 10, DialTimeout: time.Second, SocketTimeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	b.queue = NewQueue(rdb, "flush", "inst")

	const n = 40
	var ids []uint64
	for i := 0; i < n; i++ {
		ids = append(ids, b.insertEmail(t, models.StatusQueued))
	}
	require.NoError(t, b.queue.Push(ctx, ids...))
	require.NoError(t, rdb.FlushDB(ctx).Err())
	require.NoError(t, b.db.Exec("UPDATE incoming_emails SET last_dispatched_at = now() - interval '1 minute'").Error)

	reaper := NewReaper(ReaperConfig{Interval: 200 * time.Millisecond, MaxRescues: 3, Grace: 100 * time.Millisecond}, b.st, b.queue, b.m, b.log)
	require.NoError(t, reaper.Start(ctx))
	t.Cleanup(reaper.Stop)
	var calls = make(chan uint64, 4*n)
	done := completer(b.st, nil)
	b.startPool(t, b.poolConfig(), procFunc(func(ctx context.Context, job *models.Job) (models.Status, error) {
		calls <- job.Email.ID
		return done(ctx, job)
	}))
	// Half way, Redis restarts empty.
	apptest.Eventually(t, 20*time.Second, func() bool { return len(calls) >= n/2 }, "half processed")
	restart()
	for _, id := range ids {
		b.waitStatus(t, id, models.StatusCompleted)
	}
	require.Len(t, calls, n, "each email processed exactly once")
}
