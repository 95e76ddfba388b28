package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// retryBatch is how many rows one bulk UPDATE moves.
const retryBatch = 500

// MaxBulkIDs caps the ids a bulk retry returns; the counts stay exact.
const MaxBulkIDs = 1000

// retrySet is what a manual retry writes besides the status: a fresh retry
// budget and no schedule. A failed email holds no lease (every move out of a
// leased stage ends it, see models.Change). The attempt counter and the
// email_attempts history stay, so the next attempt is numbered after them.
func retrySet() map[string]any {
	return map[string]any{
		"retry_count":        0,
		"rescue_count":       0,
		"processing_error":   nil,
		"next_attempt_at":    nil,
		"completed_at":       nil,
		"last_dispatched_at": gorm.Expr("now()"),
	}
}

// Retry moves one failed email back to queued and dispatches it. Of
// concurrent retries of the same email exactly one succeeds: the guarded
// UPDATE matches the row only while it is still failed. ENOTFOUND when the
// email is absent, ECONFLICT when it is not failed.
func (s *Service) Retry(ctx context.Context, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err := models.Change{
		ID: id, To: models.StatusQueued, From: []models.Status{models.StatusFailed}, Set: retrySet(),
	}.Apply(ctx, s.db)
	if errors.Is(err, models.ErrTransitionRefused) {
		return s.refusal(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("retry job: %w", err)
	}
	s.log.InfoContext(ctx, "job retried", "email_id", id)
	s.push(context.WithoutCancel(ctx), []uint64{id})
	return nil
}

// refusal explains why a guarded retry matched no row.
func (s *Service) refusal(ctx context.Context, id uint64) error {
	var status []models.Status
	err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Where("id = ?", id).
		Pluck("processing_status", &status).Error
	if err != nil {
		return fmt.Errorf("retry job: %w", err)
	}
	if len(status) == 0 {
		return models.Errorf(models.ENOTFOUND, "job %d not found", id)
	}
	return models.Errorf(models.ECONFLICT, "job %d is %s; only failed jobs can be retried", id, status[0])
}

// BulkRetry selects failed emails to retry at once, e.g. after an outage.
type BulkRetry struct {
	// Status must be failed: the only retryable state.
	Status models.Status
	From   string
	Since  *time.Time
	Until  *time.Time
	// DryRun counts and lists what would be retried, changing nothing.
	DryRun bool
	// Limit caps how many are retried; 0 means all that match.
	Limit int
}

// BulkResult reports a bulk retry.
type BulkResult struct {
	DryRun  bool  `json:"dry_run"`
	Matched int64 `json:"matched"`
	Retried int64 `json:"retried"`
	// IDs are the retried (or, in a dry run, the retryable) ids, at most MaxBulkIDs.
	IDs          []uint64 `json:"ids"`
	IDsTruncated bool     `json:"ids_truncated"`
}

// maxBulkLimit bounds an explicit limit to something sane.
const maxBulkLimit = 1_000_000

// Validate returns EINVALID with a message per bad field.
func (b BulkRetry) Validate() error {
	fields := map[string]string{}
	switch {
	case b.Status == "":
		fields["status"] = "required (only failed jobs can be retried)"
	case b.Status != models.StatusFailed:
		fields["status"] = "only failed jobs can be retried"
	}
	if b.Limit < 0 || b.Limit > maxBulkLimit {
		fields["limit"] = fmt.Sprintf("must be between 1 and %d", maxBulkLimit)
	}
	rangeProblems(b.From, b.Since, b.Until, fields)
	return fieldsError(fields)
}

// RetryBulk re-queues the failed emails matching b, in id order, in batches
// of retryBatch rows per UPDATE; rows another retry holds are skipped, not
// waited for. Each batch commits and is dispatched on its own.
func (s *Service) RetryBulk(ctx context.Context, b BulkRetry) (BulkResult, error) {
	if err := b.Validate(); err != nil {
		return BulkResult{}, err
	}
	res := BulkResult{DryRun: b.DryRun, IDs: []uint64{}}
	failed := func() *gorm.DB {
		return s.db.WithContext(ctx).Model(&models.IncomingEmail{}).
			Scopes(scopeRange(b.From, b.Since, b.Until)).Where("processing_status = ?", models.StatusFailed)
	}
	if err := failed().Count(&res.Matched).Error; err != nil {
		return BulkResult{}, fmt.Errorf("bulk retry count: %w", err)
	}
	target := res.Matched
	if b.Limit > 0 && int64(b.Limit) < target {
		target = int64(b.Limit)
	}
	if b.DryRun {
		err := failed().Order("id").Limit(int(min(target, MaxBulkIDs))).Pluck("id", &res.IDs).Error
		if err != nil {
			return BulkResult{}, fmt.Errorf("bulk retry dry run: %w", err)
		}
		res.IDsTruncated = int64(len(res.IDs)) < target
		return res, nil
	}
	for res.Retried < target {
		n := int(min(retryBatch, target-res.Retried))
		ids, err := s.retryBatch(ctx, failed().Select("id").Order("id").Limit(n).
			Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}))
		if err != nil {
			return res, err
		}
		res.Retried += int64(len(ids))
		if room := MaxBulkIDs - len(res.IDs); room > 0 {
			res.IDs = append(res.IDs, ids[:min(room, len(ids))]...)
		}
		s.push(context.WithoutCancel(ctx), ids)
		if len(ids) < n {
			break
		}
	}
	res.IDsTruncated = int64(len(res.IDs)) < res.Retried
	s.log.InfoContext(ctx, "bulk retry", "matched", res.Matched, "retried", res.Retried)
	return res, nil
}

// retryBatch moves the rows the locked subquery picks from failed to queued
// and returns their ids. The status is checked again in the outer UPDATE.
// ANY(ARRAY(…)) makes the pick an init plan that runs once: as a plain
// "id IN (…)" semi-join PostgreSQL may rescan it, and a rescanned
// LIMIT … SKIP LOCKED picks further rows, overshooting the batch size.
func (s *Service) retryBatch(ctx context.Context, pick *gorm.DB) ([]uint64, error) {
	set := retrySet()
	set["processing_status"] = models.StatusQueued
	set["updated_at"] = gorm.Expr("now()")
	var rows []models.IncomingEmail
	qctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err := s.db.WithContext(qctx).Model(&rows).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
		Where("processing_status = ? AND id = ANY(ARRAY(?))", models.StatusFailed, pick).Updates(set).Error
	if err != nil {
		return nil, fmt.Errorf("bulk retry batch: %w", err)
	}
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}
