package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Depther reports the Redis queue's sizes; workers.Queue implements it.
type Depther interface {
	Depths(ctx context.Context) (ready, delayed, processing int64, err error)
}

// Collector is a Prometheus collector that reads the pipeline's state on
// each scrape: a few grouped queries on PostgreSQL and the Redis queue
// depths, bounded by a short timeout. A failed source is reported through
// matcher_stats_up and its gauges are left out of that scrape.
type Collector struct {
	db      *gorm.DB
	depths  Depther
	log     *slog.Logger
	timeout time.Duration

	emails     *prometheus.Desc
	queue      *prometheus.Desc
	oldest     *prometheus.Desc
	backlog    *prometheus.Desc
	outboxFail *prometheus.Desc
	up         *prometheus.Desc
}

var outboxTypes = []string{models.OutboxCreditorDebtUpdate, models.OutboxFailureAlert, models.OutboxDebtNotification}

// NewCollector returns the pipeline collector; depths may be nil (no queue
// gauges). Register it with prometheus.Registerer.MustRegister.
func NewCollector(db *gorm.DB, depths Depther, log *slog.Logger) *Collector {
	return &Collector{
		db: db, depths: depths, log: log, timeout: 3 * time.Second,
		emails: prometheus.NewDesc("matcher_emails",
			"Incoming emails by processing status.", []string{"status"}, nil),
		queue: prometheus.NewDesc("matcher_queue_depth",
			"Email ids in the Redis queue: ready, delayed (retries not yet due) and processing (fetched, not acknowledged).",
			[]string{"queue"}, nil),
		oldest: prometheus.NewDesc("matcher_oldest_queued_email_age_seconds",
			"Age of the oldest received or queued email (0 when none waits).", nil, nil),
		backlog: prometheus.NewDesc("matcher_outbox_backlog_messages",
			"Outbox messages not yet processed, by aggregate type.", []string{"aggregate_type"}, nil),
		outboxFail: prometheus.NewDesc("matcher_outbox_failed_messages",
			"Outbox messages given up on (outcome failed), by aggregate type.", []string{"aggregate_type"}, nil),
		up: prometheus.NewDesc("matcher_stats_up",
			"Whether the last scrape could read a source of these gauges (1) or not (0).", []string{"source"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.emails, c.queue, c.oldest, c.backlog, c.outboxFail, c.up} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.collectPostgres(ctx, ch)
	if c.depths != nil {
		c.collectQueue(ctx, ch)
	}
}

func (c *Collector) collectPostgres(ctx context.Context, ch chan<- prometheus.Metric) {
	by, oldest, outbox, err := c.readPostgres(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "metrics: read postgres", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, "postgres")
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, "postgres")
	for _, st := range models.AllStatuses {
		ch <- prometheus.MustNewConstMetric(c.emails, prometheus.GaugeValue, float64(by[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest)
	for _, t := range outboxTypes {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(outbox[t].backlog), t)
		ch <- prometheus.MustNewConstMetric(c.outboxFail, prometheus.GaugeValue, float64(outbox[t].failed), t)
	}
}

type outboxCounts struct{ backlog, failed int64 }

// readPostgres reads the gauges in two grouped queries: emails by status
// (with each group's oldest received_at, which the (processing_status,
// received_at) index answers) and outbox rows by kind.
func (c *Collector) readPostgres(ctx context.Context) (map[models.Status]int64, float64, map[string]outboxCounts, error) {
	db := c.db.WithContext(ctx)
	var rows []struct {
		ProcessingStatus models.Status
		N                int64
		Age              float64
	}
	if err := db.Raw(`SELECT processing_status, count(*) AS n,
		COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float8 AS age
		FROM incoming_emails GROUP BY processing_status`).Scan(&rows).Error; err != nil {
		return nil, 0, nil, fmt.Errorf("count emails: %w", err)
	}
	by := make(map[models.Status]int64, len(rows))
	var oldest float64
	for _, r := range rows {
		by[r.ProcessingStatus] = r.N
		if r.ProcessingStatus == models.StatusReceived || r.ProcessingStatus == models.StatusQueued {
			oldest = max(oldest, r.Age)
		}
	}
	var ob []struct {
		AggregateType string
		Backlog       int64
		Failed        int64
	}
	if err := db.Raw(`SELECT aggregate_type,
		count(*) FILTER (WHERE processed_at IS NULL) AS backlog,
		count(*) FILTER (WHERE outcome = 'failed') AS failed
		FROM outbox_messages GROUP BY aggregate_type`).Scan(&ob).Error; err != nil {
		return nil, 0, nil, fmt.Errorf("count outbox: %w", err)
	}
	outbox := make(map[string]outboxCounts, len(ob))
	for _, r := range ob {
		outbox[r.AggregateType] = outboxCounts{backlog: r.Backlog, failed: r.Failed}
	}
	return by, oldest, outbox, nil
}

func (c *Collector) collectQueue(ctx context.Context, ch chan<- prometheus.Metric) {
	ready, delayed, processing, err := c.depths.Depths(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "metrics: read queue depths", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, "redis")
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, "redis")
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(ready), "ready")
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(delayed), "delayed")
	ch <- prometheus.MustNewConstMetric(c.queue, prometheus.GaugeValue, float64(processing), "processing")
}
