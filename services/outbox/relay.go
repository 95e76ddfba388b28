package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
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
	db      *gorm.DB
	sinks   map[string]Sink
	log     *slog.Logger
	results *prometheus.CounterVec
	*background.Loop
}

// NewRelay returns a relay delivering each kind through sinks[kind]; a kind
// without a sink is marked skipped.
func NewRelay(cfg RelayConfig, db *gorm.DB, sinks map[string]Sink, reg prometheus.Registerer, log *slog.Logger) *Relay {
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
	r := &Relay{cfg: cfg, db: db, sinks: sinks, log: log,
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

const claimOutboxSQL = `
UPDATE outbox_messages SET locked_until = now() + make_interval(secs => @lock), attempts = attempts + 1
WHERE id IN (
  SELECT id FROM outbox_messages
  WHERE processed_at IS NULL AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
  ORDER BY next_attempt_at LIMIT @batch FOR UPDATE SKIP LOCKED)
RETURNING *`

// runOnce claims one batch of due rows and delivers them; it returns how many it claimed.
func (r *Relay) runOnce(ctx context.Context) (int, error) {
	// Taken before the claim: the reservation runs from the database's now(),
	// which is later on synchronised clocks.
	claimed := time.Now()
	var rows []models.OutboxMessage
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := r.db.WithContext(qctx).Raw(claimOutboxSQL, map[string]any{
		"lock": r.cfg.LockFor.Seconds(), "batch": r.cfg.Batch,
	}).Scan(&rows).Error
	cancel()
	if err != nil {
		return 0, fmt.Errorf("claim outbox rows: %w", err)
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
	if err := r.markSkipped(mctx, skipped); err != nil {
		r.log.Error("outbox mark failed; rows will be looked at again", "count", len(skipped), "error", err)
	}
	if err := r.release(mctx, undelivered); err != nil {
		r.log.Error("outbox release failed; rows wait for their reservation to end", "count", len(undelivered), "error", err)
	}
	return len(rows), ctx.Err()
}

// release hands back claimed rows the relay did not get to, uncounting the
// claim's attempt, so any relay may claim them at once. The claim gave all
// its rows one locked_until (now() is the statement's); a row holding
// another was claimed again meanwhile and is left alone.
func (r *Relay) release(ctx context.Context, rows []models.OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	return r.db.WithContext(ctx).Exec(`UPDATE outbox_messages SET locked_until = NULL, attempts = attempts - 1
WHERE id IN ? AND processed_at IS NULL AND locked_until = ?`, outboxIDs(rows), rows[0].LockedUntil).Error
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
	if result == "skipped" {
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

// markSkipped records rows no sink took and, for portal syncs, their emails'
// sync status, in one statement; an email is touched only if its row was
// still open, so a stale relay cannot undo another's delivery.
func (r *Relay) markSkipped(ctx context.Context, rows []models.OutboxMessage) error {
	if len(rows) == 0 {
		return nil
	}
	return r.db.WithContext(ctx).Exec(`WITH skipped AS (
  UPDATE outbox_messages SET processed_at = now(), outcome = 'skipped', locked_until = NULL, last_error = NULL
  WHERE id IN ? AND processed_at IS NULL
  RETURNING aggregate_type, aggregate_id)
UPDATE incoming_emails SET sync_status = 'not_applicable', sync_error = NULL, updated_at = now()
WHERE id IN (SELECT aggregate_id FROM skipped WHERE aggregate_type = ?)`, outboxIDs(rows), models.OutboxCreditorDebtUpdate).Error
}

func outboxIDs(rows []models.OutboxMessage) []uint64 {
	ids := make([]uint64, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
	}
	return ids
}

// outcome classifies a delivery: delivered, skipped, retry or failed.
func (r *Relay) outcome(msg models.OutboxMessage, err error) string {
	var perm *models.PermanentError
	switch {
	case err == nil:
		return "delivered"
	case errors.Is(err, ErrSkipped):
		return "skipped"
	case errors.As(err, &perm), msg.Attempts >= r.cfg.MaxAttempts:
		return "failed"
	}
	return "retry"
}

// mark records the result (delivered, retry or failed; skipped rows go
// through markSkipped) on the row and, for portal syncs, on the email's
// sync_status — in one transaction.
func (r *Relay) mark(ctx context.Context, msg models.OutboxMessage, result string, cause error) error {
	var errText *string
	if cause != nil {
		s := models.ErrorText(cause)
		errText = &s
	}
	set := map[string]any{"locked_until": nil, "last_error": errText}
	if result == "retry" {
		var after time.Duration // a server's Retry-After, when it sent one
		var te *models.TransientError
		if errors.As(cause, &te) {
			after = te.RetryAfter
		}
		set["next_attempt_at"] = time.Now().Add(background.RetryPolicy{MinBackoff: r.cfg.MinBackoff, MaxBackoff: r.cfg.MaxBackoff}.Delay(msg.Attempts, after))
	} else {
		set["processed_at"] = gorm.Expr("now()")
		set["outcome"] = result
	}
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.OutboxMessage{}).Where("id = ? AND processed_at IS NULL", msg.ID).Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 || msg.AggregateType != models.OutboxCreditorDebtUpdate {
			return nil
		}
		sync := map[string]string{"delivered": models.SyncSynced, "failed": models.SyncFailed}[result]
		email := map[string]any{"sync_error": errText, "updated_at": gorm.Expr("now()")}
		if sync != "" {
			email["sync_status"] = sync
		}
		return tx.Model(&models.IncomingEmail{}).Where("id = ?", msg.AggregateID).Updates(email).Error
	})
}
