package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// AwaitingReview ends a reply the guard held for a person: completed with
// match status needs_review, the guard's verdict in incoming_emails.review,
// no debt update and no portal sync, and a review_needed outbox row that
// tells staff. Durable.
func AwaitingReview(m Match, rv models.Review, notice models.ReviewNeededPayload) Final {
	m.Status = models.MatchNeedsReview
	f := Completed(m, models.SyncNotApplicable, nil)
	f.set = append(f.set, assign{"review", models.MustJSON(rv)})
	f.notice = &notice
	return f
}

// LastKnownAmount is the inquiry's last known amount: its latest
// debt_updates amount, else the amount it asked about; nil when neither.
// seen is the inquiry as the caller already read it (the matcher's
// candidate, the review's inquiry), or nil: while it was never answered it
// can have no debt update (every debt_updates row sets response_received in
// the same statement), so its own amount is the answer without a read.
func (s *Store) LastKnownAmount(ctx context.Context, inquiryID uint64, seen *models.CreditorInquiry) (*float64, error) {
	if seen != nil && seen.ID == inquiryID && !seen.ResponseReceived {
		return seen.DebtAmount, nil
	}
	var v sql.NullFloat64
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(
  (SELECT amount FROM debt_updates WHERE creditor_inquiry_id = ? ORDER BY created_at DESC, id DESC LIMIT 1),
  (SELECT debt_amount FROM creditor_inquiries WHERE id = ?))::float8`, inquiryID, inquiryID).Row().Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("last known amount: %w", err)
	}
	if !v.Valid {
		return nil, nil
	}
	return &v.Float64, nil
}

// Inquiry reads one inquiry; models.ErrNotFound when absent.
func (s *Store) Inquiry(ctx context.Context, id uint64) (models.CreditorInquiry, error) {
	var inq models.CreditorInquiry
	err := s.db.WithContext(ctx).Take(&inq, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return inq, models.ErrNotFound
	}
	if err != nil {
		return inq, fmt.Errorf("read inquiry: %w", err)
	}
	return inq, nil
}

// Decision is a person's decision on a held email and what it writes.
type Decision struct {
	EmailID   uint64
	Action    string  // models.ReviewApprove …
	InquiryID *uint64 // the inquiry it applies to; nil keeps the proposed one (reject)
	Amount    *float64
	Note      string
	SessionID string
	// Record is the debt update with its outbox rows (notification, portal
	// sync) and the answered flag; nil when nothing is applied.
	Record *models.DebtRecord
	// Answered marks an inquiry answered when Record is nil (an approval
	// of a reply without an amount).
	Answered   *uint64
	SyncStatus string
}

// Decide applies d in one statement: the email's move from needs_review to
// reviewed, the review_decisions row, and d's debt update, outbox rows and
// answered flag — all of it once, or none. A second decision on the same
// email (even one racing this one) finds it reviewed and gets
// models.ErrNotAwaitingReview; models.ErrNotFound when there is no such
// email.
func (s *Store) Decide(ctx context.Context, d Decision) error {
	q := gorm.Expr(`UPDATE incoming_emails SET match_status = ?, matched_inquiry_id = COALESCE(?, matched_inquiry_id),
  sync_status = ?, updated_at = now()
WHERE id = ? AND match_status = ? AND processing_status = ?`,
		models.MatchReviewed, d.InquiryID, d.SyncStatus, d.EmailID, models.MatchNeedsReview, models.StatusCompleted)
	effects := recordEffects(d.EmailID, d.Record)
	if d.Record == nil && d.Answered != nil {
		effects = append(effects, inquiryAnswered(*d.Answered))
	}
	effects = append(effects, effect{expr: gorm.Expr(`INSERT INTO review_decisions
  (incoming_email_id, action, inquiry_id, amount, note, session_id)
SELECT id, ?, ?, ?, ?, ? FROM moved`, d.Action, d.InquiryID, d.Amount, d.Note, d.SessionID)})
	stmt := withEffects(q, effects)
	var n int64
	if err := s.db.WithContext(ctx).Raw(stmt.SQL, stmt.Vars...).Row().Scan(&n); err != nil {
		return fmt.Errorf("decide review of email %d: %w", d.EmailID, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.EmailStatus(ctx, d.EmailID); err != nil {
		return err
	}
	return models.ErrNotAwaitingReview
}

// ReviewDecisions returns the decisions on an email (at most one).
func (s *Store) ReviewDecisions(ctx context.Context, emailID uint64) ([]models.ReviewDecision, error) {
	var out []models.ReviewDecision
	err := s.db.WithContext(ctx).Where("incoming_email_id = ?", emailID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read review decisions: %w", err)
	}
	return out, nil
}

// ReviewFilter selects open reviews; zero fields do not filter.
type ReviewFilter struct {
	Reason string // a reason code
	From   string // sender address contains, literally
	// After continues strictly after this position (oldest first).
	After *Position
	Limit int
}

// OpenReviews returns, in one read-only snapshot, how many emails wait
// for a decision (all, and per reason code, ignoring f.Reason) and one page
// of them matching f, oldest received first.
func (s *Store) OpenReviews(ctx context.Context, f ReviewFilter) (total int64, byReason map[string]int64, rows []models.IncomingEmail, err error) {
	byReason = map[string]int64{}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		open := func() *gorm.DB {
			q := tx.Model(&models.IncomingEmail{}).Where("match_status = ?", models.MatchNeedsReview)
			if f.From != "" {
				q = q.Where("strpos(lower(from_email), lower(?)) > 0", f.From)
			}
			return q
		}
		if err := open().Count(&total).Error; err != nil {
			return fmt.Errorf("count: %w", err)
		}
		var counts []struct {
			Code string
			N    int64
		}
		err := open().Select("r->>'code' AS code, count(*) AS n").
			Joins("CROSS JOIN LATERAL jsonb_array_elements(COALESCE(review->'reasons', '[]'::jsonb)) r").
			Group("r->>'code'").Find(&counts).Error
		if err != nil {
			return fmt.Errorf("count by reason: %w", err)
		}
		for _, c := range counts {
			byReason[c.Code] = c.N
		}
		q := open()
		if f.Reason != "" {
			q = q.Where("review->'reasons' @> ?::jsonb", models.MustJSON([]map[string]string{{"code": f.Reason}}))
		}
		if f.After != nil {
			q = q.Where("(received_at, id) > (?, ?)", f.After.ReceivedAt, f.After.ID)
		}
		return q.Select("id, processing_status, from_email, left(subject, 200) AS subject, received_at, completed_at, " +
			"matched_inquiry_id, match_confidence, review").Order("received_at, id").Limit(f.Limit).Find(&rows).Error
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return 0, nil, nil, fmt.Errorf("open reviews: %w", err)
	}
	return total, byReason, rows, nil
}

// ReviewStats are the queue's gauges.
type ReviewStats struct {
	Open int64
	// OldestSince is when the longest-waiting open item went to review
	// (nil: none open).
	OldestSince *time.Time
}

// ReadReviewStats counts the open reviews and finds the oldest.
func (s *Store) ReadReviewStats(ctx context.Context) (ReviewStats, error) {
	var st ReviewStats
	var oldest sql.NullTime
	err := s.db.WithContext(ctx).Raw(`SELECT count(*), min(completed_at) FROM incoming_emails WHERE match_status = ?`,
		models.MatchNeedsReview).Row().Scan(&st.Open, &oldest)
	if err != nil {
		return st, fmt.Errorf("review stats: %w", err)
	}
	if oldest.Valid {
		st.OldestSince = &oldest.Time
	}
	return st, nil
}
