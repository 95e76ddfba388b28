package outbox

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// RelayConfig tunes the relay.
type RelayConfig struct {
	Interval    time.Duration // how often due rows are looked for
	MaxAttempts int           // a row fails for good after this many transient errors
	Batch       int
	LockFor     time.Duration // how long a claimed row is reserved for its delivery
	MinBackoff  time.Duration
	MaxBackoff  time.Duration
}

// Relay claims due outbox rows, hands each to the sink for its kind, and
// records the outcome. Rows are claimed with FOR UPDATE SKIP LOCKED and
// reserved with locked_until, so several relays never deliver the same row
// at once; a relay that dies after sending but before marking leaves the row
// to be sent again when its reservation ends, which the sinks tolerate
// (MongoDB writes are idempotent, mails carry a stable Message-ID).
type Relay struct {
	cfg     RelayConfig
	store   *store.Store
	sinks   map[string]Sink
	log     *slog.Logger
	results *prometheus.CounterVec
	*background.Loop
}

// NewRelay returns a relay delivering each kind through sinks[kind]; a kind
// without a sink is marked skipped.
func NewRelay(cfg RelayConfig, st *store.Store, sinks map[string]Sink, reg prometheus.Registerer, log *slog.Logger) *Relay {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10 // zero would fail every row at its first transient error
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.LockFor == 0 {
		cfg.LockFor = 2 * time.Minute
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Minute
	}
	r := &Relay{cfg: cfg, store: st, sinks: sinks, log: log,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matcher_outbox_deliveries_total",
			Help: "Outbox delivery attempts by kind and result (delivered, skipped, retry, failed).",
		}, []string{"kind", "result"})}
	reg.MustRegister(r.results)
	r.Loop = background.NewLoop("outbox relay", cfg.Interval, r.drain, log)
	return r
}

// drain delivers due rows batch by batch until a batch comes back short.
func (r *Relay) drain(ctx context.Context) error {
	for {
		n, err := r.runOnce(ctx)
		if err != nil || n < r.cfg.Batch {
			return err
		}
	}
}

// runOnce claims one batch of due rows and delivers them; it returns how many it claimed.
func (r *Relay) runOnce(ctx context.Context) (int, error) {
	// Taken before the claim: the reservation runs from the database's now(),
	// which is later on synchronised clocks.
	claimed := time.Now()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rows, err := r.store.ClaimOutbox(qctx, r.cfg.Batch, r.cfg.LockFor)
	cancel()
	if err != nil {
		return 0, err
	}
	var skipped, undelivered []models.OutboxMessage
	for i, msg := range rows {
		// A delivery may take LockFor/2: one started later could outlast the
		// reservation, and another relay would claim and send the row too.
		if ctx.Err() != nil || time.Since(claimed) > r.cfg.LockFor/2 {
			undelivered = rows[i:]
			break
		}
		if !r.deliver(ctx, msg) {
			skipped = append(skipped, msg)
		}
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.store.SkipOutbox(mctx, skipped); err != nil {
		r.log.Error("outbox mark failed; rows will be looked at again", "count", len(skipped), "error", err)
	}
	if err := r.store.ReleaseOutbox(mctx, undelivered); err != nil {
		r.log.Error("outbox release failed; rows wait for their reservation to end", "count", len(undelivered), "error", err)
	}
	return len(rows), ctx.Err()
}

// deliver hands msg to its sink and marks the outcome; it returns false,
// without marking, when no sink is configured for the kind, so the batch's
// skipped rows are marked together: nothing happened that a crash could repeat.
func (r *Relay) deliver(ctx context.Context, msg models.OutboxMessage) bool {
	err := ErrSkipped
	if sink, ok := r.sinks[msg.AggregateType]; ok && sink != nil {
		dctx, cancel := context.WithTimeout(ctx, r.cfg.LockFor/2)
		err = sink.Deliver(dctx, msg)
		cancel()
	}
	result := r.outcome(msg, err)
	r.results.WithLabelValues(msg.AggregateType, result).Inc()
	if result == models.DeliverySkipped {
		return false
	}
	if err != nil {
		r.log.Warn("outbox delivery failed", "outbox_id", msg.ID, "kind", msg.AggregateType,
			"email_id", msg.AggregateID, "attempt", msg.Attempts, "result", result, "error", err)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if merr := r.mark(mctx, msg, result, err); merr != nil {
		r.log.Error("outbox mark failed; row will be delivered again", "outbox_id", msg.ID, "error", merr)
	}
	return true
}

// resultRetry is the delivery result of a row that is tried again later;
// the others are the outcomes the row keeps (models.Delivery*).
const resultRetry = "retry"

// outcome classifies a delivery: delivered, skipped, retry or failed.
func (r *Relay) outcome(msg models.OutboxMessage, err error) string {
	var perm *models.PermanentError
	switch {
	case err == nil:
		return models.DeliveryDelivered
	case errors.Is(err, ErrSkipped):
		return models.DeliverySkipped
	case errors.As(err, &perm), msg.Attempts >= r.cfg.MaxAttempts:
		return models.DeliveryFailed
	}
	return resultRetry
}

// mark records the result (delivered, retry or failed; skipped rows go
// through store.SkipOutbox) on the row and, for portal syncs, on the
// email's sync_status.
func (r *Relay) mark(ctx context.Context, msg models.OutboxMessage, result string, cause error) error {
	var errText *string
	if cause != nil {
		s := models.ErrorText(cause)
		errText = &s
	}
	if result != resultRetry {
		return r.store.MarkOutbox(ctx, msg, result, errText)
	}
	var after time.Duration // a server's Retry-After, when it sent one
	var te *models.TransientError
	if errors.As(cause, &te) {
		after = te.RetryAfter
	}
	delay := background.RetryPolicy{MinBackoff: r.cfg.MinBackoff, MaxBackoff: r.cfg.MaxBackoff}.Delay(msg.Attempts, after)
	return r.store.RetryOutbox(ctx, msg, time.Now().Add(delay), errText)
}
