package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

var _ jobs.Depther = (*workers.Queue)(nil)

// gauge returns the value of the series name{label=value}, failing when absent.
func gauge(t *testing.T, fams []*dto.MetricFamily, name, label, value string) float64 {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" {
				return m.GetGauge().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("series %s{%s=%q} not found", name, label, value)
	return 0
}

func TestCollector(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	rdb := apptest.NewRedis(t)
	ctx := context.Background()
	q := workers.NewQueue(rdb.Client, rdb.Namespace, "test-instance")
	require.NoError(t, q.Push(ctx, 1, 2, 3))
	require.NoError(t, q.Schedule(ctx, 4, time.Now().Add(time.Hour)))

	insertEmail(t, db, models.StatusFailed, time.Now())
	insertEmail(t, db, models.StatusFailed, time.Now())
	insertEmail(t, db, models.StatusQueued, time.Now().Add(-90*time.Second))
	insertEmail(t, db, models.StatusCompleted, time.Now().Add(-time.Hour))
	for i, o := range []struct {
		kind    string
		done    bool
		outcome *string
	}{
		{models.OutboxCreditorDebtUpdate, false, nil},
		{models.OutboxCreditorDebtUpdate, false, nil},
		{models.OutboxFailureAlert, true, ptr("failed")},
		{models.OutboxDebtNotification, true, ptr("delivered")},
		{models.OutboxReviewNeeded, false, nil},
	} {
		m := models.OutboxMessage{AggregateType: o.kind, AggregateID: uint64(i + 1), Payload: models.JSON(`{}`),
			IdempotencyKey: apptest.RandomID(), NextAttemptAt: time.Now(), Outcome: o.outcome}
		if o.done {
			now := time.Now()
			m.ProcessedAt = &now
		}
		require.NoError(t, db.Create(&m).Error)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(jobs.NewCollector(db.Store(t), q, slog.New(slog.NewTextHandler(io.Discard, nil))))
	fams, err := reg.Gather()
	require.NoError(t, err)

	require.Equal(t, 2.0, gauge(t, fams, "matcher_emails", "status", "failed"))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_emails", "status", "queued"))
	require.Equal(t, 0.0, gauge(t, fams, "matcher_emails", "status", "retrying"))
	require.InDelta(t, 90, gauge(t, fams, "matcher_oldest_queued_email_age_seconds", "", ""), 30)
	require.Equal(t, 3.0, gauge(t, fams, "matcher_queue_depth", "queue", "ready"))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_queue_depth", "queue", "delayed"))
	require.Equal(t, 0.0, gauge(t, fams, "matcher_queue_depth", "queue", "processing"))
	require.Equal(t, 2.0, gauge(t, fams, "matcher_outbox_backlog_messages", "aggregate_type", models.OutboxCreditorDebtUpdate))
	require.Equal(t, 0.0, gauge(t, fams, "matcher_outbox_backlog_messages", "aggregate_type", models.OutboxFailureAlert))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_outbox_backlog_messages", "aggregate_type", models.OutboxReviewNeeded))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_outbox_failed_messages", "aggregate_type", models.OutboxFailureAlert))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_stats_up", "source", "postgres"))
	require.Equal(t, 1.0, gauge(t, fams, "matcher_stats_up", "source", "redis"))
}

func TestCollectorDatabaseDown(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	closed := apptest.ClosedDB(t)
	reg.MustRegister(jobs.NewCollector(store.New(closed, closed), nil, slog.New(slog.NewTextHandler(io.Discard, nil))))
	fams, err := reg.Gather()
	require.NoError(t, err, "a failed source must not fail the scrape")
	require.Equal(t, 0.0, gauge(t, fams, "matcher_stats_up", "source", "postgres"))
}

func ptr[T any](v T) *T { return &v }
