package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// manualRetry moves a failed email back to queued with a fresh retry budget
// and no schedule. A failed email holds no lease (every move out of a leased
// stage ends it). The attempt counter and the email_attempts history stay,
// so the next attempt is numbered after them.
var manualRetry = change{To: models.StatusQueued, From: []models.Status{models.StatusFailed}, Set: []assign{
	{"retry_count", 0}, {"rescue_count", 0}, {"processing_error", nil}, {"next_attempt_at", nil},
	{"completed_at", nil}, {"last_dispatched_at", now},
}}

// RetryFailed moves the failed email id back to queued. Of concurrent
// retries of one email exactly one succeeds; the others, and a retry of an
// email in another state or of none, get models.ErrTransitionRefused
// (EmailStatus tells which).
func (s *Store) RetryFailed(ctx context.Context, id uint64) error {
	return manualRetry.apply(ctx, s.db, id)
}

// EmailStatus returns the state of the email id; models.ErrNotFound when it
// does not exist.
func (s *Store) EmailStatus(ctx context.Context, id uint64) (models.Status, error) {
	var status []models.Status
	err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Where("id = ?", id).Pluck("processing_status", &status).Error
	if err != nil {
		return "", fmt.Errorf("read email status: %w", err)
	}
	if len(status) == 0 {
		return "", models.ErrNotFound
	}
	return status[0], nil
}

// CountEmails counts the emails matching f.
func (s *Store) CountEmails(ctx context.Context, f EmailFilter) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Scopes(matching(f)).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count emails: %w", err)
	}
	return n, nil
}

// EmailIDs returns the ids of up to limit emails matching f, in id order.
func (s *Store) EmailIDs(ctx context.Context, f EmailFilter, limit int) ([]uint64, error) {
	ids := []uint64{}
	err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Scopes(matching(f)).Order("id").Limit(limit).
		Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list email ids: %w", err)
	}
	return ids, nil
}

// RetryFailedBatch moves up to n failed emails within f's sender and time
// range back to queued, as RetryFailed does, in id order and in one
// statement, and returns their ids. Rows another retry holds are skipped,
// not waited for. Emails with a raw payload are left alone: their fields
// come from decoding it again (RetryDecoded).
func (s *Store) RetryFailedBatch(ctx context.Context, f EmailFilter, n int) ([]uint64, error) {
	if f.Status != "" && f.Status != models.StatusFailed {
		return nil, errors.New("only failed emails can be retried")
	}
	plain := false
	f.Status, f.RawPayload = models.StatusFailed, &plain
	pick := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Scopes(matching(f)).Select("id").Order("id").Limit(n).
		Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	return manualRetry.applyPicked(ctx, s.db, pick)
}

// applyPicked makes the change to the emails pick selects (a query of ids)
// that are in an allowed state, in one statement, and returns their ids.
// The state is checked again in the UPDATE. ANY(ARRAY(…)) makes the pick
// an init plan that runs once: as a plain "id IN (…)" semi-join PostgreSQL
// may rescan it, and a rescanned LIMIT … SKIP LOCKED picks further rows,
// overshooting the batch.
func (c change) applyPicked(ctx context.Context, db *gorm.DB, pick *gorm.DB) ([]uint64, error) {
	if c.Token != "" {
		return nil, fmt.Errorf("applyPicked moves emails without a lease token")
	}
	from, err := c.states()
	if err != nil {
		return nil, err
	}
	var moved []uint64
	err = db.WithContext(ctx).Raw("? WHERE processing_status = ANY(?) AND id = ANY(ARRAY(?)) RETURNING id",
		c.update(), from, pick).Find(&moved).Error
	if err != nil {
		return nil, fmt.Errorf("move emails to %s: %w", c.To, err)
	}
	return moved, nil
}

// StoredDelivery returns what a retry of the email id needs to decide how
// to retry it: its state, when it was stored (created_at) and its raw
// payload (nil unless intake stored the delivery failed). models.ErrNotFound
// when it does not exist.
func (s *Store) StoredDelivery(ctx context.Context, id uint64) (models.IncomingEmail, error) {
	var rows []models.IncomingEmail
	err := s.db.WithContext(ctx).Model(&models.IncomingEmail{}).Select("id", "processing_status", "created_at", "raw_payload").
		Where("id = ?", id).Find(&rows).Error
	if err != nil {
		return models.IncomingEmail{}, fmt.Errorf("read stored delivery: %w", err)
	}
	if len(rows) == 0 {
		return models.IncomingEmail{}, models.ErrNotFound
	}
	return rows[0], nil
}

// RetryDecoded moves the failed email id back to queued as RetryFailed
// does, with the fields of e, its stored delivery decoded again: ticket,
// sender, subject, bodies, received_at, attachments and warnings. What
// earlier attempts derived from the old fields (the cleaned body, its token
// counts, the extraction) is cleared, since the content may differ now; such
// retries are rare, so computing it again costs little. The dedup key and
// webhook id stay: they name the delivery as it arrived. Of concurrent
// retries exactly one succeeds; the others get models.ErrTransitionRefused.
func (s *Store) RetryDecoded(ctx context.Context, id uint64, e models.IncomingEmail) error {
	c := manualRetry
	c.Set = append(slices.Clone(manualRetry.Set),
		assign{"zendesk_ticket_id", e.ZendeskTicketID}, assign{"from_email", e.FromEmail},
		assign{"from_name", e.FromName}, assign{"subject", e.Subject},
		assign{"raw_body_html", e.RawBodyHTML}, assign{"raw_body_text", e.RawBodyText},
		assign{"received_at", e.ReceivedAt}, assign{"attachment_urls", e.AttachmentURLs},
		assign{"intake_warnings", warnings(&e)},
		assign{"cleaned_body", nil}, assign{"token_count_before", nil}, assign{"token_count_after", nil},
		assign{"extracted_data", nil})
	return c.apply(ctx, s.db, id)
}
