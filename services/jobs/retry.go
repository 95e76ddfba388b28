package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// retryBatch is how many rows one bulk UPDATE moves.
const retryBatch = 500

// MaxBulkIDs caps the ids a bulk retry returns; the counts stay exact.
const MaxBulkIDs = 1000

// Retry moves one failed email back to queued with a fresh retry budget
// and dispatches it. Of concurrent retries of the same email exactly one
// succeeds: the guarded UPDATE matches the row only while it is still
// failed. ENOTFOUND when the email is absent, ECONFLICT when it is not
// failed, or when it is a delivery intake stored failed (it has a raw
// payload) that the current decoder still cannot use: then the error names
// the fields and nothing changes.
func (s *Service) Retry(ctx context.Context, id uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	problems, err := s.retryOne(ctx, id, false)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &models.Error{Code: models.ECONFLICT, Fields: problems,
			Message: fmt.Sprintf("job %d: its stored delivery still cannot be used; nothing was changed", id)}
	}
	s.log.InfoContext(ctx, "job retried", "email_id", id)
	s.push(context.WithoutCancel(ctx), []uint64{id})
	return nil
}

// retryOne makes one email's guarded move: a plain one (store.RetryFailed),
// or, for a delivery intake stored failed, one with the fields of its raw
// payload decoded again by the current decoder (store.RetryDecoded), so a
// version that can use it processes it. problems names the fields when
// that payload is still unusable; then nothing changed. dryRun only checks.
func (s *Service) retryOne(ctx context.Context, id uint64, dryRun bool) (problems map[string]string, err error) {
	stored, err := s.store.StoredDelivery(ctx, id)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, models.Errorf(models.ENOTFOUND, "job %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("retry job: %w", err)
	case stored.ProcessingStatus != models.StatusFailed:
		return nil, notFailed(id, stored.ProcessingStatus)
	case stored.RawPayload == nil:
		if !dryRun {
			err = s.store.RetryFailed(ctx, id)
		}
	default:
		e := redecode(stored)
		if len(e.Problems) > 0 || dryRun {
			return e.Problems, nil
		}
		err = s.store.RetryDecoded(ctx, id, e.Row())
	}
	if errors.Is(err, models.ErrTransitionRefused) {
		return nil, s.refusal(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("retry job: %w", err)
	}
	return nil, nil
}

// redecode decodes a stored delivery again as it arrived: its receipt is
// the row's created_at.
func redecode(stored models.IncomingEmail) intake.Email {
	e, err := intake.Decode(stored.RawPayload, stored.CreatedAt)
	if err != nil { // stored as an object, so only a stricter decoder gets here
		e.Problems = map[string]string{"body": "must be a JSON object"}
	}
	return e
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
	return notFailed(id, status)
}

func notFailed(id uint64, status models.Status) error {
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
	// Undecodable counts the deliveries intake stored failed whose raw
	// payload the current decoder still cannot use: they stay failed.
	Undecodable int64 `json:"undecodable"`
	// UndecodableIDs are their ids, at most MaxBulkIDs.
	UndecodableIDs []uint64 `json:"undecodable_ids"`
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

// RetryBulk re-queues the failed emails matching b. The deliveries intake
// stored failed come first, one by one, each decoded again (retryOne); then
// the rest in id order, in batches of retryBatch rows per UPDATE
// (store.RetryFailedBatch), where rows another retry holds are skipped, not
// waited for. Each batch commits and is dispatched on its own. A dry run
// decodes too, so its ids are those a retry would queue.
func (s *Service) RetryBulk(ctx context.Context, b BulkRetry) (BulkResult, error) {
	if err := b.Validate(); err != nil {
		return BulkResult{}, err
	}
	res := BulkResult{DryRun: b.DryRun, IDs: []uint64{}, UndecodableIDs: []uint64{}}
	f := store.EmailFilter{Status: models.StatusFailed, From: b.From, Since: b.Since, Until: b.Until}
	var err error
	if res.Matched, err = s.store.CountEmails(ctx, f); err != nil {
		return BulkResult{}, fmt.Errorf("bulk retry count: %w", err)
	}
	target := res.Matched
	if b.Limit > 0 && int64(b.Limit) < target {
		target = int64(b.Limit)
	}
	done, err := s.retryStored(ctx, f, target, &res)
	if err != nil {
		return res, err
	}
	plain := false
	f.RawPayload = &plain
	if b.DryRun {
		return res, s.listPlain(ctx, f, done, target, &res)
	}
	for done < target {
		n := int(min(retryBatch, target-done))
		ids, err := s.retryBatch(ctx, f, n)
		if err != nil {
			return res, err
		}
		done += int64(len(ids))
		res.Retried = done
		appendCapped(&res.IDs, ids...)
		s.push(context.WithoutCancel(ctx), ids)
		if len(ids) < n {
			break
		}
	}
	res.IDsTruncated = int64(len(res.IDs)) < res.Retried
	s.log.InfoContext(ctx, "bulk retry", "matched", res.Matched, "retried", res.Retried, "undecodable", res.Undecodable)
	return res, nil
}

// retryStored retries (in a dry run: checks) the failed deliveries with a
// raw payload that f selects, until target are retried, and returns how
// many were (or would be). Those still unusable are counted in res.
func (s *Service) retryStored(ctx context.Context, f store.EmailFilter, target int64, res *BulkResult) (int64, error) {
	withPayload := true
	f.RawPayload = &withPayload
	ids, err := s.store.EmailIDs(ctx, f, maxBulkLimit)
	if err != nil {
		return 0, fmt.Errorf("bulk retry stored deliveries: %w", err)
	}
	var done int64
	var retried []uint64
	for _, id := range ids {
		if done >= target {
			break
		}
		qctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
		problems, err := s.retryOne(qctx, id, res.DryRun)
		cancel()
		switch code := models.ErrorCode(err); {
		case err == nil && len(problems) > 0:
			res.Undecodable++
			appendCapped(&res.UndecodableIDs, id)
		case err == nil:
			done++
			appendCapped(&res.IDs, id)
			retried = append(retried, id)
		case code == models.ECONFLICT || code == models.ENOTFOUND:
			// Another retry moved it meanwhile.
		default:
			return done, err
		}
	}
	if !res.DryRun {
		res.Retried = done
		s.push(context.WithoutCancel(ctx), retried)
	}
	return done, nil
}

// listPlain completes a dry run in which done stored deliveries would be
// retried: its ids get the failed emails without a raw payload that f
// selects, up to target in all, and it says whether the list is cut.
func (s *Service) listPlain(ctx context.Context, f store.EmailFilter, done, target int64, res *BulkResult) error {
	count, err := s.store.CountEmails(ctx, f)
	if err != nil {
		return fmt.Errorf("bulk retry dry run: %w", err)
	}
	n := min(target-done, count)
	would := done + n
	if room := min(n, int64(MaxBulkIDs-len(res.IDs))); room > 0 {
		ids, err := s.store.EmailIDs(ctx, f, int(room))
		if err != nil {
			return fmt.Errorf("bulk retry dry run: %w", err)
		}
		res.IDs = append(res.IDs, ids...)
	}
	res.IDsTruncated = int64(len(res.IDs)) < would
	return nil
}

// appendCapped appends ids to *list while it holds fewer than MaxBulkIDs.
func appendCapped(list *[]uint64, ids ...uint64) {
	if room := MaxBulkIDs - len(*list); room > 0 {
		*list = append(*list, ids[:min(room, len(ids))]...)
	}
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
