package workers

import (
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the background side's Prometheus collectors.
type Metrics struct {
	jobs        *prometheus.CounterVec
	jobDuration prometheus.Histogram
	queueWait   prometheus.Histogram
	retries     prometheus.Counter
	rescues     prometheus.Counter
	redispatch  prometheus.Counter
	skipped     prometheus.Counter
	stages      *prometheus.HistogramVec
	slots       atomic.Pointer[slots] // the pool's, for the held and parked gauges
}

// NewMetrics registers the worker collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matcher_jobs_total", Help: "Finished job attempts by outcome.",
		}, []string{"outcome"}),
		jobDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "matcher_job_duration_seconds", Help: "Time from claim to the attempt's end.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
		}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "matcher_queue_wait_seconds", Help: "Time from dispatch to claim.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14),
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "matcher_job_retries_total", Help: "Attempts that failed transiently and were scheduled again.",
		}),
		rescues: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "matcher_reaper_rescues_total", Help: "Expired leases the reaper took back.",
		}),
		redispatch: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "matcher_reaper_redispatched_total", Help: "Waiting emails the reaper pushed to Redis again.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "matcher_fetch_skipped_total", Help: "Fetched ids that were no longer claimable (duplicates, finished).",
		}),
	}
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "matcher_stage_duration_seconds", Help: "Pipeline stage durations.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
	}, []string{"stage"})
	held := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "matcher_jobs_held", Help: "Jobs the pool holds: fetched, running, or parked while waiting on the model.",
	}, func() float64 { h, _ := m.slotStats(); return float64(h) })
	parked := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "matcher_jobs_parked", Help: "Jobs waiting on the model without a worker slot.",
	}, func() float64 { _, p := m.slotStats(); return float64(p) })
	reg.MustRegister(held, parked, m.stages, m.jobs, m.jobDuration, m.queueWait, m.retries, m.rescues, m.redispatch, m.skipped)
	return m
}

// ObserveStage records one pipeline stage's duration.
func (m *Metrics) ObserveStage(stage string, d time.Duration) {
	m.stages.WithLabelValues(stage).Observe(d.Seconds())
}

func (m *Metrics) observeSlots(s *slots) { m.slots.Store(s) }

func (m *Metrics) slotStats() (held, parked int) {
	if s := m.slots.Load(); s != nil {
		return s.stats()
	}
	return 0, 0
}

// heapInUse reads live heap bytes without stopping the world (unlike ReadMemStats).
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
