package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/parser"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// worker is the twin's task handler: the service's pipeline code, with
// plain writes around it.
type worker struct {
	db        *gorm.DB
	extractor *rules.Extractor
	matcher   *matcher.Matcher
	debts     debts.Writer
	limits    review.Limits // the service's review guard (issue 16)
	store     *store.Store  // for the guard's last known amount, as the service reads it
}

// open is every state an email waits or runs in: a retry of a task whose
// handler failed finds its email still processing (no lease says whose).
const open = `('received','queued','retrying','processing')`

// process claims the email with a guarded UPDATE, runs parse, extract and
// match in memory and writes the result in one transaction of guarded
// statements. An error makes asynq retry the task.
func (w *worker) process(ctx context.Context, t *asynq.Task) error {
	id, err := strconv.ParseUint(string(t.Payload()), 10, 64)
	if err != nil {
		return fmt.Errorf("task payload: %w: %w", err, asynq.SkipRetry)
	}
	var rows []models.IncomingEmail
	err = w.db.WithContext(ctx).Raw(`UPDATE incoming_emails SET processing_status = 'processing',
  started_at = coalesce(started_at, now()), attempt = attempt + 1, updated_at = now()
WHERE id = ? AND processing_status IN `+open+` RETURNING *`, id).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("claim %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil // finished already
	}
	e := rows[0]
	r := parser.Parse(e.RawBodyHTML, e.RawBodyText)
	data, err := w.extractor.Extract(ctx, models.EmailInput{FromEmail: e.FromEmail, FromName: e.FromName,
		Subject: e.Subject, CleanedBody: r.Text})
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	set := map[string]any{"cleaned_body": r.Text, "token_count_before": r.TokensBefore,
		"token_count_after": r.TokensAfter, "extracted_data": models.MustJSON(data)}
	if !data.IsCreditorReply {
		set["processing_status"], set["match_status"], set["sync_status"] = models.StatusNotCreditorReply, models.MatchNone, models.SyncNotApplicable
		return w.finish(ctx, id, set, nil, nil)
	}
	res, err := w.matcher.Match(ctx, matcher.Input{TicketID: e.ZendeskTicketID, FromEmail: e.FromEmail,
		Data: data, ReceivedAt: e.ReceivedAt})
	if err != nil {
		return fmt.Errorf("match: %w", err)
	}
	set["processing_status"], set["matched_inquiry_id"], set["match_status"] = models.StatusCompleted, res.InquiryID, res.Status
	set["match_confidence"], set["match_details"] = max(0, min(1, res.Confidence)), models.MustJSON(res)

	// The review guard, as the service runs it: the same reasons, against
	// the inquiry's last known amount.
	in := review.Input{MatchStatus: res.Status, InquiryID: res.InquiryID, Data: data, Subject: e.Subject, Body: r.Text}
	if data.DebtAmount != nil && res.InquiryID != nil {
		if in.Previous, err = w.store.LastKnownAmount(ctx, *res.InquiryID, res.Inquiry); err != nil {
			return err
		}
	}
	if verdict := w.limits.Check(in); verdict.Held() {
		rv := verdict.Review(in)
		set["match_status"], set["sync_status"], set["review"] = models.MatchNeedsReview, models.SyncNotApplicable, models.MustJSON(rv)
		notice := models.ReviewNeededPayload{EmailID: id, TicketID: e.ZendeskTicketID, Reasons: rv.Codes(), Sentence: rv.Sentence}
		return w.finish(ctx, id, set, nil, &notice)
	}
	record, syncStatus, err := w.debts.Record(e, data, debts.Decision{Status: res.Status, InquiryID: res.InquiryID,
		Confidence: res.Confidence, Inquiry: res.Inquiry, Previous: in.Previous})
	if err != nil {
		return err
	}
	set["sync_status"] = syncStatus
	return w.finish(ctx, id, set, record, nil)
}

// finish writes the email's end and its debt record (or, for an email the
// guard held, its review_needed row) in one transaction: the status UPDATE
// guarded by the state, then the INSERTs, each made idempotent by its
// unique key.
func (w *worker) finish(ctx context.Context, id uint64, set map[string]any, record *models.DebtRecord,
	notice *models.ReviewNeededPayload) error {
	set["completed_at"], set["processed_at"], set["updated_at"] = gorm.Expr("now()"), gorm.Expr("now()"), gorm.Expr("now()")
	set["processing_error"] = nil
	return w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&models.IncomingEmail{}).Where("id = ? AND processing_status = 'processing'", id).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("complete %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if notice != nil {
			return outboxRow(tx, models.OutboxReviewNeeded, id, *notice)
		}
		if record == nil {
			return nil
		}
		up := record.Update
		up.IncomingEmailID = id
		if err := tx.Exec(`INSERT INTO debt_updates (incoming_email_id, creditor_inquiry_id, client_name,
  client_aktenzeichen, creditor_name, creditor_email, previous_amount, amount, reference_numbers, match_status,
  match_confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incoming_email_id) DO NOTHING`,
			id, up.CreditorInquiryID, up.ClientName, up.ClientAktenzeichen, up.CreditorName, up.CreditorEmail,
			up.PreviousAmount, up.Amount, up.ReferenceNumbers, up.MatchStatus, up.MatchConfidence).Error; err != nil {
			return fmt.Errorf("debt update %d: %w", id, err)
		}
		if err := outboxRow(tx, models.OutboxDebtNotification, id, record.Notification); err != nil {
			return err
		}
		if record.Sync != nil {
			var debtID uint64
			if err := tx.Raw(`SELECT id FROM debt_updates WHERE incoming_email_id = ?`, id).Scan(&debtID).Error; err != nil {
				return fmt.Errorf("debt update id %d: %w", id, err)
			}
			sync := *record.Sync
			sync.DebtUpdateID = debtID
			if err := outboxRow(tx, models.OutboxCreditorDebtUpdate, id, sync); err != nil {
				return err
			}
		}
		if record.Answered != nil {
			if err := tx.Exec(`UPDATE creditor_inquiries SET response_received = true, updated_at = now() WHERE id = ?`,
				*record.Answered).Error; err != nil {
				return fmt.Errorf("inquiry answered: %w", err)
			}
		}
		return nil
	})
}

func outboxRow(tx *gorm.DB, kind string, id uint64, payload any) error {
	err := tx.Exec(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
VALUES (?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`, kind, id, models.MustJSON(payload),
		models.OutboxKey(kind, id)).Error
	if err != nil {
		return fmt.Errorf("outbox %s %d: %w", kind, id, err)
	}
	return nil
}

// failed marks an email failed once asynq has no retry left for it.
func (w *worker) failed(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	limit, _ := asynq.GetMaxRetry(ctx)
	if retried < limit {
		return
	}
	id, perr := strconv.ParseUint(string(t.Payload()), 10, 64)
	if perr != nil {
		return
	}
	w.db.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE incoming_emails SET processing_status = 'failed',
  processing_error = ?, completed_at = now(), updated_at = now() WHERE id = ? AND processing_status IN `+open,
		models.ErrorText(err), id)
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
