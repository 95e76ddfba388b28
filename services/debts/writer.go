// Package debts records the amount a creditor reply produced: one
// debt_updates row per email and the outbox rows for its effects, written in
// the transaction that marks the email completed.
package debts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Decision is what the matcher concluded, as the writer needs it.
type Decision struct {
	Status     string // models.MatchAuto, MatchNeedsReview, MatchNone
	InquiryID  *uint64
	Confidence float64
}

// Writer writes debt updates and their outbox rows.
type Writer struct {
	// SyncEnabled says a portal sink is configured: auto-matched updates then
	// start with sync_status pending rather than not_applicable.
	SyncEnabled bool
}

// SyncStatus is the sync_status the email gets when Write records data
// under d: pending only for an auto-matched amount with a portal to sync to.
func (w Writer) SyncStatus(data models.ExtractedData, d Decision) string {
	if data.DebtAmount != nil && d.Status == models.MatchAuto && w.SyncEnabled {
		return models.SyncPending
	}
	return models.SyncNotApplicable
}

// Write records the email's amount, if any, inside tx and returns the
// email's sync_status. The unique keys (incoming_email_id, idempotency_key)
// make a second call for the same email add nothing.
func (w Writer) Write(ctx context.Context, tx *gorm.DB, e models.IncomingEmail, data models.ExtractedData, d Decision) (string, error) {
	if data.DebtAmount == nil {
		return models.SyncNotApplicable, nil
	}
	if err := validate(*data.DebtAmount, d); err != nil {
		return "", models.Permanent(fmt.Errorf("debt update for email %d: %w", e.ID, err))
	}
	var inq models.CreditorInquiry
	if d.InquiryID != nil {
		if err := tx.WithContext(ctx).Take(&inq, *d.InquiryID).Error; err != nil {
			return "", fmt.Errorf("load inquiry: %w", err)
		}
	}
	refs := nonNil(data.ReferenceNumbers)
	up := models.DebtUpdate{
		IncomingEmailID: e.ID, CreditorInquiryID: d.InquiryID,
		ClientName: first(inq.ClientName, data.ClientName), ClientAktenzeichen: aktenzeichen(inq, data),
		CreditorName: first(inq.CreditorName, data.CreditorName), CreditorEmail: e.FromEmail,
		PreviousAmount: inq.DebtAmount, Amount: *data.DebtAmount,
		ReferenceNumbers: models.MustJSON(refs),
		MatchStatus:      d.Status, MatchConfidence: d.Confidence,
	}
	if err := insertOnce(ctx, tx, &up); err != nil {
		return "", err
	}
	if _, err := models.EnqueueOutbox(ctx, tx, models.OutboxDebtNotification, e.ID, models.DebtNotificationPayload{
		EmailID: e.ID, TicketID: e.ZendeskTicketID, ClientName: up.ClientName, CreditorName: up.CreditorName,
		OldAmount: up.PreviousAmount, NewAmount: up.Amount, ReferenceNumbers: refs,
		Confidence: d.Confidence, MatchStatus: d.Status,
	}); err != nil {
		return "", err
	}
	if d.Status != models.MatchAuto {
		return models.SyncNotApplicable, nil // needs_review waits for a person
	}
	if err := markAnswered(ctx, tx, *d.InquiryID); err != nil {
		return "", err
	}
	if _, err := models.EnqueueOutbox(ctx, tx, models.OutboxCreditorDebtUpdate, e.ID, models.DebtSyncPayload{
		EmailID: e.ID, DebtUpdateID: up.ID, InquiryID: d.InquiryID, ClientName: up.ClientName,
		ClientAktenzeichen: deref(up.ClientAktenzeichen), CreditorName: up.CreditorName, CreditorEmail: e.FromEmail,
		Amount: up.Amount, ReferenceNumbers: refs, Summary: data.Summary,
		ResponseReceivedAt: e.ReceivedAt.UTC().Truncate(time.Millisecond),
	}); err != nil {
		return "", err
	}
	return w.SyncStatus(data, d), nil
}

// insertOnce inserts up unless the email already has a debt update, and
// leaves the stored row in up either way (its id goes into the sync payload).
func insertOnce(ctx context.Context, tx *gorm.DB, up *models.DebtUpdate) error {
	res := tx.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "incoming_email_id"}}, DoNothing: true}).
		Omit("id", "created_at").Create(up)
	if res.Error != nil {
		return fmt.Errorf("insert debt update: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		if err := tx.WithContext(ctx).Where("incoming_email_id = ?", up.IncomingEmailID).Take(up).Error; err != nil {
			return fmt.Errorf("load debt update: %w", err)
		}
	}
	return nil
}

// validate refuses what the extractors and the matcher never produce, so a
// bug there fails the email with a clear error instead of a constraint
// violation retried until exhausted (or a nil dereference).
func validate(amount float64, d Decision) error {
	if math.IsNaN(amount) || amount <= 0 || amount > models.MaxPlausibleAmount {
		return errors.New("implausible amount")
	}
	if d.Status == models.MatchAuto && d.InquiryID == nil {
		return errors.New("auto match without inquiry")
	}
	return nil
}

func markAnswered(ctx context.Context, tx *gorm.DB, inquiryID uint64) error {
	err := tx.WithContext(ctx).Model(&models.CreditorInquiry{}).Where("id = ?", inquiryID).
		Updates(map[string]any{"response_received": true, "updated_at": gorm.Expr("now()")}).Error
	if err != nil {
		return fmt.Errorf("mark inquiry answered: %w", err)
	}
	return nil
}

func aktenzeichen(inq models.CreditorInquiry, data models.ExtractedData) *string {
	if inq.ClientAktenzeichen != nil && *inq.ClientAktenzeichen != "" {
		return inq.ClientAktenzeichen
	}
	if data.ClientAktenzeichen != "" {
		return &data.ClientAktenzeichen
	}
	return nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
