package review

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Collector reports the queue's gauges on each scrape: open items and the
// age of the oldest.
type Collector struct {
	store  *store.Store
	log    *slog.Logger
	open   *prometheus.Desc
	oldest *prometheus.Desc
}

// NewCollector returns the review queue's collector.
func NewCollector(st *store.Store, log *slog.Logger) *Collector {
	return &Collector{store: st, log: log,
		open: prometheus.NewDesc("matcher_reviews_open", "Emails waiting for a review decision.", nil, nil),
		oldest: prometheus.NewDesc("matcher_review_oldest_age_seconds",
			"How long the longest-waiting review item has waited (0 when none).", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open; ch <- c.oldest }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	st, err := c.store.ReadReviewStats(ctx)
	if err != nil {
		c.log.Warn("review stats unavailable", "error", err)
		return
	}
	age := 0.0
	if st.OldestSince != nil {
		age = max(0, time.Since(*st.OldestSince).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
