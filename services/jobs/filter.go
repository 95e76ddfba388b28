package jobs

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// List limits of the admin API.
const (
	DefaultLimit = 50
	MaxLimit     = 200
	maxFromRunes = 320
)

// Filter selects emails for the list. Zero fields do not filter.
type Filter struct {
	// Status keeps emails in this state; empty keeps all.
	Status models.Status
	// From keeps emails whose sender address contains this text (case-insensitive).
	From string
	// Since and Until bound received_at: Since inclusive, Until exclusive.
	Since, Until *time.Time
	// Limit is the page size, 1–MaxLimit; 0 means DefaultLimit.
	Limit int
	// After continues the list after this position (from a previous page's NextCursor).
	After *Cursor
}

// Validate returns EINVALID with a message per bad field.
func (f Filter) Validate() error {
	fields := map[string]string{}
	if f.Status != "" && !f.Status.Valid() {
		fields["status"] = "unknown status"
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		fields["limit"] = fmt.Sprintf("must be between 1 and %d", MaxLimit)
	}
	if f.After != nil && !f.After.storable() {
		fields["cursor"] = "is not a cursor this service issued"
	}
	rangeProblems(f.From, f.Since, f.Until, fields)
	return fieldsError(fields)
}

// storable reports whether a cursor's position can reach SQL: its checksum
// proves no origin (anyone can compute it), so a made-up id beyond bigint
// or a time beyond timestamptz must be refused here, not by PostgreSQL.
func (c Cursor) storable() bool {
	y := c.ReceivedAt.Year()
	return c.ID <= math.MaxInt64 && y >= 1 && y <= 9999
}

// rangeProblems checks the filters the list, the counts and the bulk retry
// share. Text goes into SQL as a parameter, and PostgreSQL refuses invalid
// UTF-8 and NUL in text with an error, so both are refused here first.
func rangeProblems(from string, since, until *time.Time, fields map[string]string) {
	switch {
	case !utf8.ValidString(from):
		fields["from"] = "must be valid UTF-8 text"
	case strings.IndexByte(from, 0) >= 0:
		fields["from"] = "must not contain NUL characters"
	case utf8.RuneCountInString(from) > maxFromRunes:
		fields["from"] = fmt.Sprintf("at most %d characters", maxFromRunes)
	}
	if since != nil && until != nil && !since.Before(*until) {
		fields["until"] = "must be after since"
	}
}

func fieldsError(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &models.Error{Code: models.EINVALID, Message: "invalid parameters", Fields: fields}
}

// emails is the filter the store applies.
func (f Filter) emails() store.EmailFilter {
	return store.EmailFilter{Status: f.Status, From: f.From, Since: f.Since, Until: f.Until}
}
