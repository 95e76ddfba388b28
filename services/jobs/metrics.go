package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
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
	store   *store.Store
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

var outboxTypes = []string{models.OutboxCreditorDebtUpdate, models.OutboxFailureAlert, models.OutboxDebtNotification,
	models.OutboxReviewNeeded}

// NewCollector returns the pipeline collector; depths may be nil (no queue
// gauges). Register it with prometheus.Registerer.MustRegister.
func NewCollector(st *store.Store, depths Depther, log *slog.Logger) *Collector {
	return &Collector{
		store: st, depths: depths, log: log, timeout: 3 * time.Second,
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
	emails, err := c.store.ReadEmailStats(ctx)
	var outbox map[string]store.OutboxCounts
	if err == nil {
		outbox, err = c.store.ReadOutboxStats(ctx)
	}
	if err != nil {
		c.log.WarnContext(ctx, "metrics: read postgres", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, "postgres")
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, "postgres")
	for _, st := range models.AllStatuses {
		ch <- prometheus.MustNewConstMetric(c.emails, prometheus.GaugeValue, float64(emails.ByStatus[st]), string(st))
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, emails.OldestWaitingSeconds)
	for _, t := range outboxTypes {
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(outbox[t].Backlog), t)
		ch <- prometheus.MustNewConstMetric(c.outboxFail, prometheus.GaugeValue, float64(outbox[t].Failed), t)
	}
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
