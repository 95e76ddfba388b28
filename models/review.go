package models

import (
	"errors"
	"time"
)

// Review reason codes (DESIGN.md §5): why the guard sent an email to a
// person instead of applying its amount.
const (
	ReasonNoSource        = "no_source"
	ReasonAmountInvalid   = "amount_invalid"
	ReasonAmountOverMax   = "amount_over_max"
	ReasonAmountChange    = "amount_change"
	ReasonSourcesDisagree = "sources_disagree"
	ReasonMatchUncertain  = "match_uncertain"
	ReasonNoCandidate     = "no_candidate"
)

// ReviewReason is one reason with its sentence for people.
type ReviewReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Review is the guard's verdict on an email waiting for a person, stored as
// incoming_emails.review: what it found, and what applying the email would
// write.
type Review struct {
	Reasons []ReviewReason `json:"reasons"`
	// Sentence sums the reasons up for the queue and the mail.
	Sentence string `json:"sentence"`
	// ProposedInquiryID is the matcher's best candidate (nil: none).
	ProposedInquiryID *uint64 `json:"proposed_inquiry_id"`
	// Amount is the extracted amount (nil: the email states none).
	Amount *float64 `json:"amount"`
	// PreviousAmount is the proposed inquiry's last known amount (its
	// latest debt update, else the amount it asked about; nil: unknown).
	PreviousAmount *float64 `json:"previous_amount"`
}

// Codes returns the reasons' codes in order.
func (r Review) Codes() []string {
	out := make([]string, len(r.Reasons))
	for i, x := range r.Reasons {
		out[i] = x.Code
	}
	return out
}

// Review decisions stored in review_decisions.action.
const (
	ReviewApprove  = "approve"
	ReviewReassign = "reassign"
	ReviewCorrect  = "correct"
	ReviewReject   = "reject"
)

// ReviewActions lists every decision (the CHECK constraint holds the same).
var ReviewActions = []string{ReviewApprove, ReviewReassign, ReviewCorrect, ReviewReject}

// ReviewDecision is a person's final decision on a needs_review email.
type ReviewDecision struct {
	ID              uint64 `gorm:"primaryKey"`
	IncomingEmailID uint64
	Action          string
	InquiryID       *uint64
	Amount          *float64
	Note            string
	// SessionID is who decided: the admin page session id, or "api".
	SessionID string
	DecidedAt time.Time
}

// TableName pins the table name.
func (ReviewDecision) TableName() string { return "review_decisions" }

// ReviewNeededPayload is the outbox payload of a review_needed row: the mail
// staff get when an email waits for a decision (ids and reason codes only).
type ReviewNeededPayload struct {
	EmailID  uint64   `json:"email_id"`
	TicketID string   `json:"ticket_id"`
	Reasons  []string `json:"reasons"`
	Sentence string   `json:"sentence"`
}

// ErrNotAwaitingReview means a decision came for an email that is not (or
// no longer) waiting for one: it was decided already, or never held.
var ErrNotAwaitingReview = errors.New("not awaiting review")
