package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// subjectRunes is how much of a subject the list shows.
const subjectRunes = 100

// Summary is one row of the job list.
type Summary struct {
	ID              uint64        `json:"id"`
	Status          models.Status `json:"status"`
	FromEmail       string        `json:"from_email"`
	Subject         string        `json:"subject"`
	ReceivedAt      time.Time     `json:"received_at"`
	StartedAt       *time.Time    `json:"started_at"`
	CompletedAt     *time.Time    `json:"completed_at"`
	RetryCount      int           `json:"retry_count"`
	ProcessingError *string       `json:"processing_error"`
}

// Page is one page of the job list, newest first.
type Page struct {
	// Total counts every email matching the filter, across all pages.
	Total int64 `json:"total"`
	// ByStatus counts, for every state, the emails matching the filter
	// without its status condition.
	ByStatus map[models.Status]int64 `json:"by_status"`
	Jobs     []Summary               `json:"jobs"`
	// NextCursor continues the list; nil on the last page.
	NextCursor *string `json:"next_cursor"`
}

// List returns one page of emails matching f, newest received first (id
// breaks ties), with the counts, read in one snapshot.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	page := store.Page{Limit: f.Limit + 1, SubjectRunes: subjectRunes} // one more: is there a next page?
	if f.After != nil {
		page.After = &store.Position{ReceivedAt: f.After.ReceivedAt, ID: f.After.ID}
	}
	by, rows, err := s.store.ListEmails(ctx, f.emails(), page)
	if err != nil {
		return Page{}, fmt.Errorf("list jobs: %w", err)
	}
	out := Page{ByStatus: by, Total: total(by, f.Status), Jobs: make([]Summary, 0, min(len(rows), f.Limit))}
	for _, e := range rows[:min(len(rows), f.Limit)] {
		out.Jobs = append(out.Jobs, SummaryOf(e))
	}
	if len(rows) > f.Limit {
		last := out.Jobs[len(out.Jobs)-1]
		next := Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID}.Encode()
		out.NextCursor = &next
	}
	return out, nil
}

// SummaryOf is e's row in a list.
func SummaryOf(e models.IncomingEmail) Summary {
	return Summary{ID: e.ID, Status: e.ProcessingStatus, FromEmail: e.FromEmail,
		Subject: e.Subject, ReceivedAt: e.ReceivedAt, StartedAt: e.StartedAt, CompletedAt: e.CompletedAt,
		RetryCount: e.RetryCount, ProcessingError: e.ProcessingError}
}

func total(by map[models.Status]int64, status models.Status) int64 {
	if status != "" {
		return by[status]
	}
	var n int64
	for _, c := range by {
		n += c
	}
	return n
}
