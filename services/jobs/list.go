package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
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
	var page Page
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if page.ByStatus, err = countByStatus(tx, f); err != nil {
			return err
		}
		page.Total = total(page.ByStatus, f.Status)
		page.Jobs, page.NextCursor, err = listPage(tx, f)
		return err
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Page{}, fmt.Errorf("list jobs: %w", err)
	}
	return page, nil
}

// countByStatus runs the one grouped count behind total and by_status.
func countByStatus(tx *gorm.DB, f Filter) (map[models.Status]int64, error) {
	var rows []struct {
		ProcessingStatus models.Status
		N                int64
	}
	err := tx.Model(&models.IncomingEmail{}).Scopes(scopeRange(f.From, f.Since, f.Until)).
		Select("processing_status, count(*) AS n").Group("processing_status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count by status: %w", err)
	}
	by := make(map[models.Status]int64, len(models.AllStatuses))
	for _, st := range models.AllStatuses {
		by[st] = 0
	}
	for _, r := range rows {
		by[r.ProcessingStatus] = r.N
	}
	return by, nil
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

func listPage(tx *gorm.DB, f Filter) ([]Summary, *string, error) {
	q := tx.Model(&models.IncomingEmail{}).Scopes(scopeRange(f.From, f.Since, f.Until))
	if f.Status != "" {
		q = q.Where("processing_status = ?", f.Status)
	}
	if f.After != nil {
		q = q.Where("(received_at, id) < (?, ?)", f.After.ReceivedAt, f.After.ID)
	}
	jobs := make([]Summary, 0, f.Limit+1)
	err := q.Select("id, processing_status AS status, from_email, left(subject, ?) AS subject, "+
		"received_at, started_at, completed_at, retry_count, processing_error", subjectRunes).
		Order("received_at DESC, id DESC").Limit(f.Limit + 1).Scan(&jobs).Error
	if err != nil {
		return nil, nil, fmt.Errorf("list page: %w", err)
	}
	if len(jobs) <= f.Limit {
		return jobs, nil, nil
	}
	jobs = jobs[:f.Limit]
	last := jobs[len(jobs)-1]
	next := Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID}.Encode()
	return jobs, &next, nil
}
