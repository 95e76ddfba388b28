package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Service is the review queue: it lists the emails the guard held and
// applies a person's decision on one, with the same effects an automatic
// match has (debt update, portal sync, notification, answered flag).
type Service struct {
	store   *store.Store
	writer  debts.Writer
	log     *slog.Logger
	decided func(action string) // counts decisions (metrics); may be nil
	timeout time.Duration
}

// NewService returns the queue. writer decides the debt record a decision
// writes, as it does for the workers; decided, if not nil, is called once
// per applied decision with its action.
func NewService(st *store.Store, writer debts.Writer, log *slog.Logger, decided func(string)) *Service {
	if decided == nil {
		decided = func(string) {}
	}
	return &Service{store: st, writer: writer, log: log, decided: decided, timeout: 10 * time.Second}
}

// Filter selects open items; zero fields do not filter.
type Filter struct {
	Reason string
	From   string
	Limit  int // 1–jobs.MaxLimit, default 50
	After  *jobs.Cursor
}

// Item is one email waiting for a decision.
type Item struct {
	jobs.Summary
	Reasons           []models.ReviewReason `json:"reasons"`
	Sentence          string                `json:"sentence"`
	ProposedInquiryID *uint64               `json:"proposed_inquiry_id"`
	Amount            *float64              `json:"amount"`
	PreviousAmount    *float64              `json:"previous_amount"`
	MatchConfidence   *float64              `json:"match_confidence"`
	// WaitingSince is when the email went to review.
	WaitingSince *time.Time `json:"waiting_since"`
}

// Queue is one page of open items, oldest first, with the counts.
type Queue struct {
	Total      int64            `json:"total"`
	ByReason   map[string]int64 `json:"by_reason"`
	Items      []Item           `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

// List returns open items matching f, oldest received first; by_reason
// counts every open item (every code present, zero or not) per reason.
func (s *Service) List(ctx context.Context, f Filter) (Queue, error) {
	if f.Reason != "" && Message(f.Reason) == "" {
		return Queue{}, &models.Error{Code: models.EINVALID, Message: "invalid parameters",
			Fields: map[string]string{"reason": "unknown reason code"}}
	}
	if f.Limit == 0 {
		f.Limit = jobs.DefaultLimit
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	sf := store.ReviewFilter{Reason: f.Reason, From: f.From, Limit: f.Limit + 1}
	if f.After != nil {
		sf.After = &store.Position{ReceivedAt: f.After.ReceivedAt, ID: f.After.ID}
	}
	total, by, rows, err := s.store.OpenReviews(ctx, sf)
	if err != nil {
		return Queue{}, fmt.Errorf("list reviews: %w", err)
	}
	q := Queue{Total: total, ByReason: map[string]int64{}, Items: make([]Item, 0, min(len(rows), f.Limit))}
	for _, code := range Codes() {
		q.ByReason[code] = by[code]
	}
	for i, e := range rows {
		if i == f.Limit {
			last := rows[i-1]
			cur := jobs.Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID}.Encode()
			q.NextCursor = &cur
			break
		}
		q.Items = append(q.Items, itemOf(e))
	}
	return q, nil
}

func itemOf(e models.IncomingEmail) Item {
	var rv models.Review
	_ = json.Unmarshal(e.Review, &rv) // written by the guard; an unreadable one shows empty
	if rv.Reasons == nil {
		rv.Reasons = []models.ReviewReason{} // held before the guard recorded its reasons
	}
	return Item{Summary: jobs.SummaryOf(e), Reasons: rv.Reasons, Sentence: rv.Sentence,
		ProposedInquiryID: rv.ProposedInquiryID, Amount: rv.Amount, PreviousAmount: rv.PreviousAmount,
		MatchConfidence: e.MatchConfidence, WaitingSince: e.CompletedAt}
}

// Request is a person's decision on a held email.
type Request struct {
	Action    string
	InquiryID *uint64  // reassign: the inquiry the reply answers
	Amount    *float64 // correct: the right amount
	Note      string   // correct: why; optional otherwise
	// DecidedBy is the admin page session id, or "api".
	DecidedBy string
}

// maxNote bounds a decision's note.
const maxNote = 2000

// Decide applies r to the held email id. EINVALID for a request that
// cannot be applied (unknown action, missing or unknown inquiry, bad
// amount), ENOTFOUND without the email, ECONFLICT when it is not awaiting
// review (decided already, or never held).
func (s *Service) Decide(ctx context.Context, id uint64, r Request) error {
	if err := validate(r); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	e, err := s.store.Email(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return models.Errorf(models.ENOTFOUND, "job %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("decide review: %w", err)
	}
	if e.MatchStatus == nil || *e.MatchStatus != models.MatchNeedsReview {
		return models.Errorf(models.ECONFLICT, "job %d is not awaiting review", id)
	}
	d, err := s.decision(ctx, e, r)
	if err != nil {
		return err
	}
	switch err := s.store.Decide(ctx, d); {
	case errors.Is(err, models.ErrNotAwaitingReview):
		return models.Errorf(models.ECONFLICT, "job %d is not awaiting review", id)
	case errors.Is(err, models.ErrNotFound):
		return models.Errorf(models.ENOTFOUND, "job %d not found", id)
	case err != nil:
		return fmt.Errorf("decide review: %w", err)
	}
	s.decided(r.Action)
	s.log.InfoContext(ctx, "review decided", "email_id", id, "action", r.Action)
	return nil
}

func validate(r Request) error {
	fields := map[string]string{}
	switch r.Action {
	case models.ReviewApprove, models.ReviewReject:
	case models.ReviewReassign:
		if r.InquiryID == nil || *r.InquiryID == 0 {
			fields["inquiry_id"] = "is required to reassign"
		}
	case models.ReviewCorrect:
		if r.Amount == nil {
			fields["amount"] = "is required to correct"
		} else if a := *r.Amount; math.IsNaN(a) || a <= 0 || a > models.MaxPlausibleAmount {
			fields["amount"] = fmt.Sprintf("must be more than 0 and at most %d", models.MaxPlausibleAmount)
		}
		if strings.TrimSpace(r.Note) == "" {
			fields["note"] = "is required to correct: say where the right amount comes from"
		}
	default:
		fields["action"] = "must be one of " + strings.Join(models.ReviewActions, ", ")
	}
	if len(r.Note) > maxNote {
		fields["note"] = fmt.Sprintf("must be at most %d bytes", maxNote)
	}
	if len(fields) > 0 {
		return &models.Error{Code: models.EINVALID, Message: "invalid review decision", Fields: fields}
	}
	return nil
}

// decision is what r writes for e: the inquiry and amount it applies and
// the debt record with its outbox rows.
func (s *Service) decision(ctx context.Context, e models.IncomingEmail, r Request) (store.Decision, error) {
	d := store.Decision{EmailID: e.ID, Action: r.Action, Note: strings.TrimSpace(r.Note), SessionID: r.DecidedBy,
		SyncStatus: models.SyncNotApplicable}
	if r.Action == models.ReviewReject {
		return d, nil
	}
	var data models.ExtractedData
	if err := json.Unmarshal(e.ExtractedData, &data); err != nil && r.Action != models.ReviewCorrect {
		return d, models.Errorf(models.ECONFLICT, "job %d has no readable extraction to apply", e.ID)
	}
	inquiryID := e.MatchedInquiryID
	if r.Action == models.ReviewReassign {
		inquiryID = r.InquiryID
	}
	if inquiryID == nil {
		return d, &models.Error{Code: models.EINVALID, Message: "invalid review decision",
			Fields: map[string]string{"inquiry_id": "no inquiry was proposed: reassign to one"}}
	}
	inq, err := s.store.Inquiry(ctx, *inquiryID)
	if errors.Is(err, models.ErrNotFound) {
		return d, &models.Error{Code: models.EINVALID, Message: "invalid review decision",
			Fields: map[string]string{"inquiry_id": "no such inquiry"}}
	}
	if err != nil {
		return d, fmt.Errorf("decide review: %w", err)
	}
	if r.Action == models.ReviewCorrect {
		data.DebtAmount = r.Amount
	}
	d.InquiryID, d.Amount = inquiryID, data.DebtAmount
	if data.DebtAmount == nil {
		d.Answered = inquiryID // approved without an amount: the inquiry is answered all the same
		return d, nil
	}
	prev, err := s.store.LastKnownAmount(ctx, *inquiryID, &inq)
	if err != nil {
		return d, fmt.Errorf("decide review: %w", err)
	}
	conf := 1.0
	rec, sync, err := s.writer.Record(e, data, debts.Decision{Status: models.MatchReviewed, InquiryID: inquiryID,
		Confidence: conf, Inquiry: &inq, Previous: prev})
	if err != nil {
		return d, fmt.Errorf("decide review: %w", err)
	}
	d.Record, d.SyncStatus = rec, sync
	return d, nil
}

// Case is one email the guard held, open or decided, with its decisions.
type Case struct {
	Item
	Open      bool
	Decisions []models.ReviewDecision
}

// Case returns the held email id with its decisions; ENOTFOUND when there
// is no such email, ECONFLICT when the guard never held it.
func (s *Service) Case(ctx context.Context, id uint64) (Case, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	e, err := s.store.Email(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return Case{}, models.Errorf(models.ENOTFOUND, "job %d not found", id)
	}
	if err != nil {
		return Case{}, fmt.Errorf("read review: %w", err)
	}
	ds, err := s.store.ReviewDecisions(ctx, id)
	if err != nil {
		return Case{}, fmt.Errorf("read review: %w", err)
	}
	open := e.MatchStatus != nil && *e.MatchStatus == models.MatchNeedsReview
	if !open && len(ds) == 0 {
		return Case{}, models.Errorf(models.ECONFLICT, "job %d was never held for review", id)
	}
	return Case{Item: itemOf(e), Open: open, Decisions: ds}, nil
}

// maxInquiries bounds the inquiries one screen reads (the proposed one and
// the matcher's top five).
const maxInquiries = 8

// Inquiries reads the inquiries ids names, for the review screen; absent
// ones are left out.
func (s *Service) Inquiries(ctx context.Context, ids []uint64) (map[uint64]models.CreditorInquiry, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	out := map[uint64]models.CreditorInquiry{}
	for _, id := range ids[:min(len(ids), maxInquiries)] {
		if _, ok := out[id]; ok {
			continue
		}
		inq, err := s.store.Inquiry(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read inquiries: %w", err)
		}
		out[id] = inq
	}
	return out, nil
}
