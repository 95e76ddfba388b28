// Package debts decides what the amount a creditor reply produced records:
// one debt_updates row per email and the outbox rows for its effects, which
// the store writes in the statement that marks the email completed.
package debts

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Decision is what the matcher concluded, as the writer needs it.
type Decision struct {
	Status     string // models.MatchAuto, MatchNeedsReview, MatchNone
	InquiryID  *uint64
	Confidence float64
	// Inquiry is the matched inquiry as the matcher read it (names, case
	// number, the amount it asked about); required with InquiryID.
	Inquiry *models.CreditorInquiry
	// Previous is the inquiry's last known amount (store.LastKnownAmount);
	// nil falls back to the amount the inquiry asked about.
	Previous *float64
}

// Writer decides the debt update and its outbox rows for the statement that
// completes the email (store.Completed); it runs no statement itself.
type Writer struct {
	// SyncEnabled says a portal sink is configured: auto-matched updates then
	// start with sync_status pending rather than not_applicable.
	SyncEnabled bool
}

// Record returns what the email's amount writes, if it states one (nil
// otherwise), and the email's sync_status: pending only for an auto-matched
// amount with a portal to sync to. The writes happen in the statement that
// completes the email or not at all; the unique keys (incoming_email_id,
// idempotency_key) keep one row per email even so.
func (w Writer) Record(e models.IncomingEmail, data models.ExtractedData, d Decision) (*models.DebtRecord, string, error) {
	if data.DebtAmount == nil {
		return nil, models.SyncNotApplicable, nil
	}
	if err := validate(*data.DebtAmount, d); err != nil {
		return nil, "", models.Permanent(fmt.Errorf("debt update for email %d: %w", e.ID, err))
	}
	var inq models.CreditorInquiry
	if d.Inquiry != nil {
		inq = *d.Inquiry
	}
	refs := nonNil(data.ReferenceNumbers)
	up := models.DebtUpdate{
		IncomingEmailID: e.ID, CreditorInquiryID: d.InquiryID,
		ClientName: first(inq.ClientName, data.ClientName), ClientAktenzeichen: aktenzeichen(inq, data),
		CreditorName: first(inq.CreditorName, data.CreditorName), CreditorEmail: e.FromEmail,
		PreviousAmount: previous(d, inq), Amount: *data.DebtAmount,
		ReferenceNumbers: models.MustJSON(refs),
		MatchStatus:      d.Status, MatchConfidence: d.Confidence,
	}
	rec := &models.DebtRecord{Update: up, Notification: models.DebtNotificationPayload{
		EmailID: e.ID, TicketID: e.ZendeskTicketID, ClientName: up.ClientName, CreditorName: up.CreditorName,
		OldAmount: up.PreviousAmount, NewAmount: up.Amount, ReferenceNumbers: refs,
		Confidence: d.Confidence, MatchStatus: d.Status,
	}}
	if d.Status != models.MatchAuto && d.Status != models.MatchReviewed {
		return rec, models.SyncNotApplicable, nil // needs_review waits for a person
	}
	// The sync payload's DebtUpdateID is known only once the row is
	// inserted: the store fills it in within the same statement.
	rec.Answered = d.InquiryID
	rec.Sync = &models.DebtSyncPayload{
		EmailID: e.ID, InquiryID: d.InquiryID, ClientName: up.ClientName,
		ClientAktenzeichen: deref(up.ClientAktenzeichen), CreditorName: up.CreditorName, CreditorEmail: e.FromEmail,
		Amount: up.Amount, ReferenceNumbers: refs, Summary: data.Summary,
		ResponseReceivedAt: e.ReceivedAt.UTC().Truncate(time.Millisecond),
	}
	if !w.SyncEnabled {
		return rec, models.SyncNotApplicable, nil // the relay marks the sync row skipped
	}
	return rec, models.SyncPending, nil
}

// validate refuses what the extractors and the matcher never produce, so a
// bug there fails the email with a clear error instead of a constraint
// violation retried until exhausted (or a nil dereference).
func validate(amount float64, d Decision) error {
	if math.IsNaN(amount) || amount <= 0 || amount > models.MaxPlausibleAmount {
		return errors.New("implausible amount")
	}
	if (d.Status == models.MatchAuto || d.Status == models.MatchReviewed) && d.InquiryID == nil {
		return errors.New("applied amount without inquiry")
	}
	if d.InquiryID != nil && (d.Inquiry == nil || d.Inquiry.ID != *d.InquiryID) {
		return errors.New("decision names an inquiry it does not carry")
	}
	return nil
}

func previous(d Decision, inq models.CreditorInquiry) *float64 {
	if d.Previous != nil {
		return d.Previous
	}
	return inq.DebtAmount
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
