package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// maxAttempts bounds the attempt history a detail shows (the newest ones).
const maxAttempts = 200

// Detail is everything the admin sees about one email.
type Detail struct {
	ID                    uint64        `json:"id"`
	Status                models.Status `json:"status"`
	ZendeskTicketID       string        `json:"zendesk_ticket_id"`
	FromEmail             string        `json:"from_email"`
	FromName              string        `json:"from_name"`
	Subject               string        `json:"subject"`
	ReceivedAt            time.Time     `json:"received_at"`
	StartedAt             *time.Time    `json:"started_at"`
	CompletedAt           *time.Time    `json:"completed_at"`
	ProcessedAt           *time.Time    `json:"processed_at"`
	CreatedAt             time.Time     `json:"created_at"`
	UpdatedAt             time.Time     `json:"updated_at"`
	NextAttemptAt         *time.Time    `json:"next_attempt_at"`
	LastDispatchedAt      *time.Time    `json:"last_dispatched_at"`
	LeaseOwner            *string       `json:"lease_owner"`
	LeaseUntil            *time.Time    `json:"lease_until"`
	ProcessingTimeSeconds *float64      `json:"processing_time_seconds"`
	ProcessingError       *string       `json:"processing_error"`
	RetryCount            int           `json:"retry_count"`
	RescueCount           int           `json:"rescue_count"`
	Attempt               int           `json:"attempt"`
	TokenCountBefore      *int          `json:"token_count_before"`
	TokenCountAfter       *int          `json:"token_count_after"`
	CleanedBody           *string       `json:"cleaned_body"`
	ExtractedData         models.JSON   `json:"extracted_data"`
	MatchStatus           *string       `json:"match_status"`
	MatchConfidence       *float64      `json:"match_confidence"`
	MatchedInquiryID      *uint64       `json:"matched_inquiry_id"`
	MatchDetails          models.JSON   `json:"match_details"`
	AttachmentURLs        models.JSON   `json:"attachment_urls"`
	SyncStatus            string        `json:"sync_status"`
	SyncError             *string       `json:"sync_error"`
	Attempts              []Attempt     `json:"attempts"`
	// LLMUsage sums the model usage of the attempts shown.
	LLMUsage models.LLMUsage `json:"llm_usage"`
	// Attachments are the email's email_attachments rows by position (empty
	// until the attachment stage has written them).
	Attachments []Attachment `json:"attachments"`
	// IntakeWarnings lists what tolerant decoding fixed up at intake.
	IntakeWarnings models.JSON `json:"intake_warnings"`
	// RawPayload is the raw body of a delivery intake stored failed, as
	// text (invalid UTF-8 replaced), its first MaxRawPayloadShown bytes;
	// nil for every other email. RawPayloadBytes is its whole size.
	RawPayload          *string `json:"raw_payload"`
	RawPayloadBytes     int64   `json:"raw_payload_bytes"`
	RawPayloadTruncated bool    `json:"raw_payload_truncated"`
	// Review is the guard's verdict (models.Review) for an email that went
	// to review; nil for every other email.
	Review models.JSON `json:"review"`
	// ReviewDecisions are the decisions on it (at most one).
	ReviewDecisions []ReviewDecision `json:"review_decisions"`
}

// ReviewDecision is a person's decision on a held email; who decided is
// "api" or "admin_page" (the session id stays in the table).
type ReviewDecision struct {
	Action    string    `json:"action"`
	InquiryID *uint64   `json:"inquiry_id"`
	Amount    *float64  `json:"amount"`
	Note      string    `json:"note"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
}

// MaxRawPayloadShown caps the raw payload a detail shows: enough for any
// real reply's fields, small enough for a page.
const MaxRawPayloadShown = 64 << 10

// Attempt is one worker attempt from email_attempts.
type Attempt struct {
	Attempt         int        `json:"attempt"`
	Worker          string     `json:"worker"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	DurationSeconds *float64   `json:"duration_seconds"`
	Outcome         *string    `json:"outcome"`
	Error           *string    `json:"error"`
	// Stages are the pipeline stages the attempt reached and when,
	// recorded with its end (also the quick path's, never written alone).
	Stages []models.StageMark `json:"stages"`
	// LLMUsage is the attempt's model usage (zero for the rules extractor,
	// and for an attempt still running or rescued by the reaper).
	LLMUsage models.LLMUsage `json:"llm_usage"`
}

// Get returns one email with its newest attempts; ENOTFOUND when absent.
func (s *Service) Get(ctx context.Context, id uint64) (Detail, error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	e, err := s.store.Email(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return Detail{}, models.Errorf(models.ENOTFOUND, "job %d not found", id)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("get job: %w", err)
	}
	rows, err := s.store.Attempts(ctx, id, maxAttempts)
	if err != nil {
		return Detail{}, fmt.Errorf("get job: %w", err)
	}
	files, err := s.store.AttachmentsWithoutText(ctx, id)
	if err != nil {
		return Detail{}, fmt.Errorf("get job: %w", err)
	}
	head, size, err := s.store.RawPayloadHead(ctx, id, MaxRawPayloadShown)
	if err != nil {
		return Detail{}, fmt.Errorf("get job: %w", err)
	}
	decided, err := s.store.ReviewDecisions(ctx, id)
	if err != nil {
		return Detail{}, fmt.Errorf("get job: %w", err)
	}
	d := detailOf(e)
	d.ReviewDecisions = make([]ReviewDecision, 0, len(decided))
	for _, x := range decided {
		by := "admin_page"
		if x.SessionID == "api" {
			by = "api"
		}
		d.ReviewDecisions = append(d.ReviewDecisions, ReviewDecision{Action: x.Action, InquiryID: x.InquiryID, Amount: x.Amount,
			Note: x.Note, DecidedBy: by, DecidedAt: x.DecidedAt})
	}
	d.Attachments = attachmentsOf(files, e.ExtractedData)
	if head != nil {
		text := payloadText(head, size > int64(len(head)))
		d.RawPayload, d.RawPayloadBytes, d.RawPayloadTruncated = &text, size, size > int64(len(head))
	}
	d.Attempts = make([]Attempt, 0, len(rows))
	for _, a := range rows {
		d.Attempts = append(d.Attempts, Attempt{
			Attempt: a.Attempt, Worker: a.Worker, StartedAt: a.StartedAt, FinishedAt: a.FinishedAt,
			DurationSeconds: seconds(&a.StartedAt, a.FinishedAt), Outcome: a.Outcome, Error: a.Error,
			Stages:   stagesOf(a.Stages),
			LLMUsage: a.LLMUsage(),
		})
		d.LLMUsage.Add(a.LLMUsage())
	}
	return d, nil
}

func detailOf(e models.IncomingEmail) Detail {
	return Detail{
		ID: e.ID, Status: e.ProcessingStatus, ZendeskTicketID: e.ZendeskTicketID,
		FromEmail: e.FromEmail, FromName: e.FromName, Subject: e.Subject,
		ReceivedAt: e.ReceivedAt, StartedAt: e.StartedAt, CompletedAt: e.CompletedAt,
		ProcessedAt: e.ProcessedAt, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
		NextAttemptAt: e.NextAttemptAt, LastDispatchedAt: e.LastDispatchedAt,
		LeaseOwner: e.LeaseOwner, LeaseUntil: e.LeaseUntil,
		ProcessingTimeSeconds: seconds(e.StartedAt, e.CompletedAt),
		ProcessingError:       e.ProcessingError, RetryCount: e.RetryCount, RescueCount: e.RescueCount,
		Attempt: e.Attempt, TokenCountBefore: e.TokenCountBefore, TokenCountAfter: e.TokenCountAfter,
		CleanedBody: e.CleanedBody, ExtractedData: e.ExtractedData,
		MatchStatus: e.MatchStatus, MatchConfidence: e.MatchConfidence, MatchedInquiryID: e.MatchedInquiryID,
		MatchDetails: e.MatchDetails, AttachmentURLs: e.AttachmentURLs,
		SyncStatus: e.SyncStatus, SyncError: e.SyncError, IntakeWarnings: e.IntakeWarnings, Review: e.Review,
	}
}

// payloadText shows raw bytes as text: a rune the cap cut in two is
// dropped, and bytes that are not UTF-8 become U+FFFD.
func payloadText(b []byte, cut bool) string {
	if cut {
		i := len(b) - 1
		for i > 0 && i > len(b)-utf8.UTFMax && !utf8.RuneStart(b[i]) {
			i--
		}
		if i >= 0 && !utf8.FullRune(b[i:]) {
			b = b[:i]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// seconds is end-start, or nil while either is unknown.
func seconds(start, end *time.Time) *float64 {
	if start == nil || end == nil {
		return nil
	}
	d := end.Sub(*start).Seconds()
	return &d
}

// stagesOf decodes an attempt's recorded stages; none when it recorded
// none (or, never expected, something unreadable).
func stagesOf(raw models.JSON) []models.StageMark {
	out := []models.StageMark{}
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		return []models.StageMark{}
	}
	return out
}
