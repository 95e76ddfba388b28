package models

import (
	"strconv"
	"time"
)

// DebtSyncPayload is the outbox payload of a creditor_debt_update row: what the
// portal's MongoDB must learn about one creditor's answer.
type DebtSyncPayload struct {
	EmailID            uint64    `json:"email_id"`
	DebtUpdateID       uint64    `json:"debt_update_id"`
	InquiryID          *uint64   `json:"inquiry_id,omitempty"`
	ClientName         string    `json:"client_name"`
	ClientAktenzeichen string    `json:"client_aktenzeichen,omitempty"`
	CreditorName       string    `json:"creditor_name"`
	CreditorEmail      string    `json:"creditor_email"`
	Amount             float64   `json:"amount"`
	ReferenceNumbers   []string  `json:"reference_numbers"`
	Summary            string    `json:"summary"`
	ResponseReceivedAt time.Time `json:"response_received_at"`
}

// DebtNotificationPayload is the outbox payload of a debt_notification row:
// the mail staff get when a creditor states an amount.
type DebtNotificationPayload struct {
	EmailID          uint64   `json:"email_id"`
	TicketID         string   `json:"ticket_id"`
	ClientName       string   `json:"client_name"`
	CreditorName     string   `json:"creditor_name"`
	OldAmount        *float64 `json:"old_amount"`
	NewAmount        float64  `json:"new_amount"`
	ReferenceNumbers []string `json:"reference_numbers"`
	Confidence       float64  `json:"confidence"`
	MatchStatus      string   `json:"match_status"`
}

// FailureAlertPayload is the outbox payload of a failure_alert row: the mail
// an admin gets once when an email fails for good.
type FailureAlertPayload struct {
	EmailID   uint64    `json:"email_id"`
	FromEmail string    `json:"from_email"`
	Subject   string    `json:"subject"`
	Error     string    `json:"error"`
	FailedAt  time.Time `json:"failed_at"`
}

// FailureAlert is the payload of e's failure_alert row: it failed for good
// with msg, now.
func FailureAlert(e IncomingEmail, msg string) FailureAlertPayload {
	return FailureAlertPayload{EmailID: e.ID, FromEmail: e.FromEmail, Subject: e.Subject, Error: msg, FailedAt: time.Now().UTC()}
}

// OutboxKey is the idempotency key of the kind's row for an email: one row
// per kind per email, whatever redeliveries or rescues happen.
func OutboxKey(kind string, emailID uint64) string {
	return kind + ":" + strconv.FormatUint(emailID, 10)
}

// BudgetAlertPayload is the outbox payload of a budget_alert row: the mail
// sent once a day when the day's model token budget (LLM_DAILY_TOKEN_BUDGET)
// is spent and model calls wait for the next day. Day is the date in
// Europe/Berlin (2006-01-02); ResetAt is its next midnight there.
type BudgetAlertPayload struct {
	Day     string    `json:"day"`
	Budget  int64     `json:"budget"`
	Spent   int64     `json:"spent"`
	SpentAt time.Time `json:"spent_at"`
	ResetAt time.Time `json:"reset_at"`
}

// BudgetAlertKey is the idempotency key of day's budget_alert row: one per day.
func BudgetAlertKey(day string) string {
	return OutboxBudgetAlert + ":" + day
}
