package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// EmailFilter selects emails for the admin's list, counts and bulk retry.
// Zero fields do not filter.
type EmailFilter struct {
	Status models.Status
	// From keeps emails whose sender address contains this text,
	// case-insensitively and literally (no LIKE wildcards).
	From string
	// Since and Until bound received_at: Since inclusive, Until exclusive.
	Since, Until *time.Time
	// RawPayload, when set, keeps only the emails that have (true) or lack
	// (false) a raw payload: the deliveries intake stored failed. The bulk
	// retry decodes those again one by one.
	RawPayload *bool
}

// Position is a place in the newest-first list: received_at, then id.
type Position struct {
	ReceivedAt time.Time
	ID         uint64
}

// Page asks for one page of the list.
type Page struct {
	// After continues strictly after this position (keyset paging: rows
	// that arrive meanwhile neither repeat nor shift the rest).
	After *Position
	Limit int
	// SubjectRunes cuts each subject to this many runes; 0 keeps it whole.
	SubjectRunes int
}

// ListEmails returns, in one read-only snapshot, the count per state of the
// emails matching f without its Status condition (every state present,
// zero or not), and one page of those matching f, newest received first (id
// breaking ties). The rows carry the list's columns only: id, state,
// sender, subject, the times, retry count and error.
func (s *Store) ListEmails(ctx context.Context, f EmailFilter, p Page) (map[models.Status]int64, []models.IncomingEmail, error) {
	var (
		by   map[models.Status]int64
		rows []models.IncomingEmail
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if by, err = countByStatus(tx, f); err != nil {
			return err
		}
		rows, err = listPage(tx, f, p)
		return err
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("list emails: %w", err)
	}
	return by, rows, nil
}

// countByStatus runs the one grouped count behind the list's totals.
func countByStatus(tx *gorm.DB, f EmailFilter) (map[models.Status]int64, error) {
	var rows []struct {
		ProcessingStatus models.Status
		N                int64
	}
	err := tx.Model(&models.IncomingEmail{}).Scopes(inRange(f)).
		Select("processing_status, count(*) AS n").Group("processing_status").Find(&rows).Error
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

func listPage(tx *gorm.DB, f EmailFilter, p Page) ([]models.IncomingEmail, error) {
	q := tx.Model(&models.IncomingEmail{}).Scopes(matching(f))
	if p.After != nil {
		q = q.Where("(received_at, id) < (?, ?)", p.After.ReceivedAt, p.After.ID)
	}
	subject := "subject"
	if p.SubjectRunes > 0 {
		subject = fmt.Sprintf("left(subject, %d) AS subject", p.SubjectRunes)
	}
	rows := make([]models.IncomingEmail, 0, p.Limit)
	err := q.Select("id, processing_status, from_email, " + subject + ", received_at, started_at, completed_at, " +
		"retry_count, processing_error").Order("received_at DESC, id DESC").Limit(p.Limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list page: %w", err)
	}
	return rows, nil
}

// matching applies all of f.
func matching(f EmailFilter) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		q = inRange(f)(q)
		if f.Status != "" {
			q = q.Where("processing_status = ?", f.Status)
		}
		switch {
		case f.RawPayload == nil:
		case *f.RawPayload:
			q = q.Where("raw_payload IS NOT NULL")
		default:
			q = q.Where("raw_payload IS NULL")
		}
		return q
	}
}

// inRange applies f's sender and time conditions.
func inRange(f EmailFilter) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if from := strings.TrimSpace(f.From); from != "" {
			q = q.Where(`from_email ILIKE ? ESCAPE '\'`, "%"+escapeLike(from)+"%")
		}
		if f.Since != nil {
			q = q.Where("received_at >= ?", f.Since.UTC())
		}
		if f.Until != nil {
			q = q.Where("received_at < ?", f.Until.UTC())
		}
		return q
	}
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Email returns one email without its raw bodies and raw payload (see
// RawPayloadHead); models.ErrNotFound when it does not exist.
func (s *Store) Email(ctx context.Context, id uint64) (models.IncomingEmail, error) {
	var e models.IncomingEmail
	err := s.db.WithContext(ctx).Omit("raw_body_html", "raw_body_text", "raw_payload").Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.IncomingEmail{}, models.ErrNotFound
	}
	if err != nil {
		return models.IncomingEmail{}, fmt.Errorf("get email: %w", err)
	}
	return e, nil
}

// Attempts returns the newest limit attempts at the email id, oldest first.
func (s *Store) Attempts(ctx context.Context, id uint64, limit int) ([]models.EmailAttempt, error) {
	var rows []models.EmailAttempt
	err := s.db.WithContext(ctx).Where("incoming_email_id = ?", id).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("get attempts: %w", err)
	}
	slices.Reverse(rows)
	return rows, nil
}

// RawPayloadHead returns the first max bytes of the email id's raw payload
// and its whole size, read in PostgreSQL so a payload of megabytes is not
// fetched to be shown in part; nil and 0 when it has none, also when the
// email does not exist.
func (s *Store) RawPayloadHead(ctx context.Context, id uint64, max int) (head []byte, size int64, err error) {
	var rows []struct {
		Head []byte
		Size int64
	}
	err = s.db.WithContext(ctx).Raw(`SELECT substring(raw_payload FROM 1 FOR ?) AS head, octet_length(raw_payload) AS size
FROM incoming_emails WHERE id = ? AND raw_payload IS NOT NULL`, max, id).Find(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("read raw payload: %w", err)
	}
	if len(rows) == 0 {
		return nil, 0, nil
	}
	return rows[0].Head, rows[0].Size, nil
}
