package models

import (
	"cmp"
	"time"
)

// Match outcomes stored in incoming_emails.match_status.
const (
	MatchAuto        = "auto_matched"
	MatchNeedsReview = "needs_review"
	MatchNone        = "no_match"
	// MatchReviewed is a needs_review email a person decided
	// (review_decisions holds the decision).
	MatchReviewed = "reviewed"
)

// Sync outcomes stored in incoming_emails.sync_status.
const (
	SyncPending       = "pending"
	SyncSynced        = "synced"
	SyncFailed        = "failed"
	SyncNotApplicable = "not_applicable"
)

// IncomingEmail is one creditor reply posted by the Zendesk webhook.
type IncomingEmail struct {
	ID               uint64 `gorm:"primaryKey"`
	ZendeskTicketID  string
	ZendeskWebhookID *string
	DedupKey         string
	FromEmail        string
	FromName         string
	Subject          string
	RawBodyHTML      string
	RawBodyText      string
	CleanedBody      *string
	TokenCountBefore *int
	TokenCountAfter  *int
	ExtractedData    JSON
	ProcessingStatus Status
	ProcessingError  *string
	MatchedInquiryID *uint64
	MatchStatus      *string
	MatchConfidence  *float64
	MatchDetails     JSON
	ReceivedAt       time.Time
	StartedAt        *time.Time
	CompletedAt      *time.Time
	ProcessedAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	RetryCount       int
	RescueCount      int
	Attempt          int
	AttachmentURLs   JSON `gorm:"column:attachment_urls"`
	SyncStatus       string
	SyncError        *string
	LeaseToken       *string
	LeaseUntil       *time.Time
	LeaseOwner       *string
	NextAttemptAt    *time.Time
	LastDispatchedAt *time.Time
	// RawPayload is the raw body of a signed delivery intake could not use
	// (stored failed), so a retry can decode it again; nil otherwise.
	RawPayload []byte
	// IntakeWarnings lists what tolerant decoding fixed up (a JSON array of
	// strings). Left nil on create, the column's default '[]' applies.
	IntakeWarnings JSON `gorm:"default:'[]'"`
	// Review is the guard's verdict on an email that went to review
	// (models.Review as JSON); nil for every other email.
	Review JSON
}

// TableName pins the table name other systems read.
func (IncomingEmail) TableName() string { return "incoming_emails" }

// Attachment is the metadata Zendesk sends for a file; the file itself stays in Zendesk.
type Attachment struct {
	URL         string `json:"url"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// EmailAttempt records one worker attempt at an email.
type EmailAttempt struct {
	ID              uint64 `gorm:"primaryKey"`
	IncomingEmailID uint64
	Attempt         int
	Worker          string
	LeaseToken      string
	StartedAt       time.Time
	FinishedAt      *time.Time
	Outcome         *string
	Error           *string
	// Stages are the stages the attempt reached ([]StageMark), written
	// with its end; NULL for attempts that ended without one (rescued).
	Stages JSON
	// The attempt's model usage (models.LLMUsage), written when it finishes.
	LLMInputTokens      int64 `gorm:"column:llm_input_tokens"`
	LLMOutputTokens     int64 `gorm:"column:llm_output_tokens"`
	LLMCacheWriteTokens int64 `gorm:"column:llm_cache_write_tokens"`
	LLMCacheReadTokens  int64 `gorm:"column:llm_cache_read_tokens"`
	LLMCalls            int   `gorm:"column:llm_calls"`
	LLMRateLimited      int   `gorm:"column:llm_rate_limited"`
}

// TableName pins the table name.
func (EmailAttempt) TableName() string { return "email_attempts" }

// LLMUsage is the attempt's model usage.
func (a EmailAttempt) LLMUsage() LLMUsage {
	return LLMUsage{
		InputTokens: a.LLMInputTokens, OutputTokens: a.LLMOutputTokens,
		CacheWriteTokens: a.LLMCacheWriteTokens, CacheReadTokens: a.LLMCacheReadTokens,
		Calls: a.LLMCalls, RateLimited: a.LLMRateLimited,
	}
}

// Attempt outcomes stored in email_attempts.outcome.
const (
	OutcomeCompleted        = "completed"
	OutcomeNotCreditorReply = "not_creditor_reply"
	OutcomeRetry            = "retry"
	OutcomeFailed           = "failed"
	OutcomeRescued          = "rescued"
	OutcomeInterrupted      = "interrupted"
	OutcomeRateLimited      = "rate_limited" // waited on the model past its deadline; not a failed attempt
)

// CreditorInquiry is an inquiry the firm sent a creditor; written by the portal.
type CreditorInquiry struct {
	ID                        uint64 `gorm:"primaryKey"`
	ClientName                string
	ClientAktenzeichen        *string
	CreditorName              string
	CreditorEmail             *string
	DebtAmount                *float64
	ReferenceNumber           *string
	ZendeskTicketID           *string
	ZendeskSideConversationID *string
	EmailSubject              *string
	EmailBody                 *string
	Status                    *string
	ResponseReceived          bool
	SentAt                    *time.Time
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
}

// TableName pins the table name the portal writes.
func (CreditorInquiry) TableName() string { return "creditor_inquiries" }

// CompareInquiryRecency orders inquiries as the matcher reads its
// candidates, most recent first: sent_at descending with undated ones last,
// then id descending.
func CompareInquiryRecency(a, b *CreditorInquiry) int {
	switch {
	case a.SentAt == nil && b.SentAt == nil:
	case a.SentAt == nil:
		return 1
	case b.SentAt == nil:
		return -1
	default:
		if c := b.SentAt.Compare(*a.SentAt); c != 0 {
			return c
		}
	}
	return cmp.Compare(b.ID, a.ID)
}

// DebtUpdate is the amount one email produced; at most one per email.
type DebtUpdate struct {
	ID                 uint64 `gorm:"primaryKey"`
	IncomingEmailID    uint64
	CreditorInquiryID  *uint64
	ClientName         string
	ClientAktenzeichen *string
	CreditorName       string
	CreditorEmail      string
	PreviousAmount     *float64
	Amount             float64
	ReferenceNumbers   JSON
	MatchStatus        string
	MatchConfidence    float64
	CreatedAt          time.Time
}

// TableName pins the table name.
func (DebtUpdate) TableName() string { return "debt_updates" }

// Outbox kinds stored in outbox_messages.aggregate_type.
const (
	OutboxCreditorDebtUpdate = "creditor_debt_update"
	OutboxFailureAlert       = "failure_alert"
	OutboxDebtNotification   = "debt_notification"
	// OutboxReviewNeeded tells staff an email waits in the review queue.
	OutboxReviewNeeded = "review_needed"
	// OutboxBudgetAlert tells an admin the day's model token budget is spent;
	// one row per day (its idempotency key names the day).
	OutboxBudgetAlert = "budget_alert"
)

// OutboxKinds lists every outbox kind (the CHECK constraint on
// outbox_messages.aggregate_type holds the same list).
var OutboxKinds = []string{
	OutboxCreditorDebtUpdate, OutboxFailureAlert, OutboxDebtNotification, OutboxReviewNeeded, OutboxBudgetAlert,
}

// Delivery outcomes stored in outbox_messages.outcome once a row is
// processed.
const (
	DeliveryDelivered = "delivered"
	DeliverySkipped   = "skipped"
	DeliveryFailed    = "failed"
)

// OutboxMessage is one side effect to deliver after a commit.
type OutboxMessage struct {
	ID             uint64 `gorm:"primaryKey"`
	AggregateType  string
	AggregateID    uint64
	Payload        JSON
	IdempotencyKey string
	Attempts       int
	LastError      *string
	NextAttemptAt  time.Time
	ProcessedAt    *time.Time
	Outcome        *string
	LockedUntil    *time.Time
	CreatedAt      time.Time
}

// TableName pins the table name.
func (OutboxMessage) TableName() string { return "outbox_messages" }

// SyncDriftReport is one run of the portal reconciliation: counts, and the
// drifted email ids by kind in Details (never names or amounts).
type SyncDriftReport struct {
	ID         uint64 `gorm:"primaryKey"`
	StartedAt  time.Time
	FinishedAt time.Time
	Checked    int
	InSync     int
	Drifted    int
	Resent     int
	Errors     int
	Details    JSON
}

// TableName pins the table name.
func (SyncDriftReport) TableName() string { return "sync_drift_reports" }
