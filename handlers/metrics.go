package handlers

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP edge's Prometheus collectors.
type Metrics struct {
	webhooks *prometheus.CounterVec
	requests *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matcher_webhooks_total",
			Help: "Zendesk webhook deliveries by outcome.",
		}, []string{"outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "matcher_http_request_duration_seconds",
			Help:    "HTTP request latency by route, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
	}
	reg.MustRegister(m.webhooks, m.requests)
	for _, o := range []string{"accepted", "duplicate", "test", "invalid_signature", "invalid_payload", "busy", "stored_failed", "unavailable"} {
		m.webhooks.WithLabelValues(o)
	}
	return m
}

func (m *Metrics) webhook(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }
