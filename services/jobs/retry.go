package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// retryBatch is how many rows one bulk UPDATE moves.
const retryBatch = 500

// MaxBulkIDs caps the ids a bulk retry returns; the counts stay exact.
const MaxBulkIDs = 1000

// Retry moves one failed email back to queued with a fresh retry budget
// (store.RetryFailed) and dispatches it. Of concurrent retries of the same
// email exactly one succeeds: the guarded UPDATE matches the row only while
// it is still failed. ENOTFOUND when the email is absent, ECONFLICT when it
// is not failed.
func (s *Service) Retry(ctx context.Context, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err := s.store.RetryFailed(ctx, id)
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
	status, err := s.store.EmailStatus(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return models.Errorf(models.ENOTFOUND, "job %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("retry job: %w", err)
	}
	return models.Errorf(models.ECONFLICT, "job %d is %s; only failed jobs can be retried", id, status)
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
// of retryBatch rows per UPDATE (store.RetryFailedBatch); rows another retry holds are skipped, not
// waited for. Each batch commits and is dispatched on its own.
func (s *Service) RetryBulk(ctx context.Context, b BulkRetry) (BulkResult, error) {
	if err := b.Validate(); err != nil {
		return BulkResult{}, err
	}
	res := BulkResult{DryRun: b.DryRun, IDs: []uint64{}}
	f := store.EmailFilter{Status: models.StatusFailed, From: b.From, Since: b.Since, Until: b.Until}
	var err error
	if res.Matched, err = s.store.CountEmails(ctx, f); err != nil {
		return BulkResult{}, fmt.Errorf("bulk retry count: %w", err)
	}
	target := res.Matched
	if b.Limit > 0 && int64(b.Limit) < target {
		target = int64(b.Limit)
	}
	if b.DryRun {
		if res.IDs, err = s.store.EmailIDs(ctx, f, int(min(target, MaxBulkIDs))); err != nil {
			return BulkResult{}, fmt.Errorf("bulk retry dry run: %w", err)
		}
		res.IDsTruncated = int64(len(res.IDs)) < target
		return res, nil
	}
	for res.Retried < target {
		n := int(min(retryBatch, target-res.Retried))
		ids, err := s.retryBatch(ctx, f, n)
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

// retryBatch retries up to n of the failed emails f selects, each batch
// under its own query timeout.
func (s *Service) retryBatch(ctx context.Context, f store.EmailFilter, n int) ([]uint64, error) {
	qctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	ids, err := s.store.RetryFailedBatch(qctx, f, n)
	if err != nil {
		return nil, fmt.Errorf("bulk retry batch: %w", err)
	}
	return ids, nil
}
