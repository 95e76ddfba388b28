package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// reconcileLockKey serialises reconciliation runs of all processes on one
// schema.
const reconcileLockKey = "hashtext(current_schema() || ':creditor-matcher-reconcile')"

// ErrBusy means another process holds the lock asked for.
var ErrBusy = errors.New("held by another process")

// WithReconcileLock runs fn while this process holds the reconciliation
// lock (a session advisory lock on one pooled connection), or returns
// ErrBusy at once when another holds it. The lock is released even when
// ctx ends: the pooled session would keep it.
func (s *Store) WithReconcileLock(ctx context.Context, fn func() error) error {
	return s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		var locked bool
		if err := conn.Raw("SELECT pg_try_advisory_lock(" + reconcileLockKey + ")").Row().Scan(&locked); err != nil {
			return fmt.Errorf("take reconcile lock: %w", err)
		}
		if !locked {
			return ErrBusy
		}
		defer conn.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_advisory_unlock(" + reconcileLockKey + ")")
		return fn()
	})
}

// ReconciledWithin reports whether a reconciliation run started within d.
func (s *Store) ReconciledWithin(ctx context.Context, d time.Duration) (bool, error) {
	var recent bool
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM sync_drift_reports
		WHERE started_at > now() - make_interval(secs => ?))`, d.Seconds()).Row().Scan(&recent)
	if err != nil {
		return false, fmt.Errorf("read last reconciliation: %w", err)
	}
	return recent, nil
}

// DeliveredSyncs returns up to limit portal syncs delivered since since,
// with ids above afterID, in id order: one page of what the reconciler
// compares with the portal.
func (s *Store) DeliveredSyncs(ctx context.Context, since time.Time, afterID uint64, limit int) ([]models.OutboxMessage, error) {
	var page []models.OutboxMessage
	err := s.db.WithContext(ctx).
		Where("aggregate_type = ? AND outcome = ? AND processed_at >= ? AND id > ?",
			models.OutboxCreditorDebtUpdate, models.DeliveryDelivered, since, afterID).
		Order("id").Limit(limit).Find(&page).Error
	if err != nil {
		return nil, fmt.Errorf("read synced debt updates: %w", err)
	}
	return page, nil
}

// SaveDriftReport stores a reconciliation run's report and sets its ID.
func (s *Store) SaveDriftReport(ctx context.Context, rep *models.SyncDriftReport) error {
	if err := s.db.WithContext(ctx).Omit("id").Create(rep).Error; err != nil {
		return fmt.Errorf("save drift report: %w", err)
	}
	return nil
}
