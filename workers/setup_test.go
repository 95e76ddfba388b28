package workers

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// bundle is what a workers test needs: its own schema, namespace and queue.
type bundle struct {
	db    *apptest.DB
	st    *store.Store
	redis *apptest.Redis
	queue *Queue
	m     *Metrics
	log   *slog.Logger
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db := apptest.NewDB(t)
	r := apptest.NewRedis(t)
	return &bundle{
		db: db, st: db.Store(t), redis: r,
		queue: NewQueue(r.Client, r.Namespace, "inst-"+apptest.RandomID()),
		m:     NewMetrics(prometheus.NewRegistry()),
		log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func (b *bundle) poolConfig() PoolConfig {
	return PoolConfig{
		Concurrency: 2, JobTimeout: 5 * time.Second, LeaseDuration: 3 * time.Second,
		ShutdownTimeout: 2 * time.Second, FetchWait: time.Second,
		Retry: background.RetryPolicy{MaxRetries: 3, MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second},
	}
}

func (b *bundle) startPool(t *testing.T, cfg PoolConfig, proc Processor) *Pool {
	t.Helper()
	p := NewPool(cfg, b.st, b.queue, proc, b.m, b.log)
	require.NoError(t, p.Start(context.Background()))
	t.Cleanup(p.Stop)
	return p
}

// insertEmail stores a waiting email and returns its id.
func (b *bundle) insertEmail(t *testing.T, status models.Status) uint64 {
	t.Helper()
	e := models.IncomingEmail{
		ZendeskTicketID: "1", DedupKey: "test:" + apptest.RandomID(), FromEmail: "a@example.com",
		ProcessingStatus: status, ReceivedAt: time.Now(), SyncStatus: models.SyncNotApplicable,
		AttachmentURLs: models.JSON("[]"),
	}
	require.NoError(t, b.db.Omit("id").Create(&e).Error)
	return e.ID
}

func (b *bundle) email(t *testing.T, id uint64) models.IncomingEmail {
	t.Helper()
	var e models.IncomingEmail
	require.NoError(t, b.db.Take(&e, id).Error)
	return e
}

func (b *bundle) waitStatus(t *testing.T, id uint64, want models.Status) models.IncomingEmail {
	t.Helper()
	var e models.IncomingEmail
	apptest.Eventually(t, 15*time.Second, func() bool {
		e = b.email(t, id)
		return e.ProcessingStatus == want
	}, "email %d to reach %s (is %s)", id, want, func() models.Status { return e.ProcessingStatus }())
	return e
}

func (b *bundle) attempts(t *testing.T, id uint64) []models.EmailAttempt {
	t.Helper()
	var a []models.EmailAttempt
	require.NoError(t, b.db.Where("incoming_email_id = ?", id).Order("id").Find(&a).Error)
	return a
}

func (b *bundle) outboxCount(t *testing.T, id uint64, kind string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, b.db.Model(&models.OutboxMessage{}).Where("aggregate_id = ? AND aggregate_type = ?", id, kind).Count(&n).Error)
	return n
}

// procFunc adapts a function to Processor.
type procFunc func(ctx context.Context, job *models.Job) (models.Status, error)

func (f procFunc) Process(ctx context.Context, job *models.Job) (models.Status, error) {
	return f(ctx, job)
}

// completer walks a job through every stage to completed, as the pipeline does.
func completer(st *store.Store, calls *atomic.Int64) procFunc {
	return func(ctx context.Context, job *models.Job) (models.Status, error) {
		if calls != nil {
			calls.Add(1)
		}
		for _, s := range []models.Status{models.StatusParsed, models.StatusExtracting, models.StatusExtracted, models.StatusMatching} {
			if err := advance(ctx, st, job, s); err != nil {
				return "", err
			}
		}
		return models.StatusCompleted, st.Finish(ctx, job,
			store.Completed(store.Match{Status: models.MatchNone}, models.SyncNotApplicable, nil))
	}
}

// advance moves job to the stage to, as the pipeline's batched moves do.
func advance(ctx context.Context, st *store.Store, job *models.Job, to models.Status) error {
	errs, err := st.AdvanceStages(ctx, []store.StageMove{{Job: job, To: to}})
	if err != nil {
		return err
	}
	return errs[0]
}

func countOutcome(t *testing.T, b *bundle, outcome string) float64 {
	t.Helper()
	return testutilCounter(b.m.jobs.WithLabelValues(outcome))
}

func itoa(id uint64) string { return strconv.FormatUint(id, 10) }

// claimOne claims one email as a worker of the pool would; nil when it is
// not claimable.
func claimOne(ctx context.Context, st *store.Store, id uint64, worker string, lease time.Duration) (*models.Job, error) {
	jobs, err := st.Claim(ctx, []uint64{id}, worker, lease)
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	return jobs[0], nil
}
