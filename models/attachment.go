package models

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Statuses of email_attachments.status.
const (
	// AttachmentRead: the file was downloaded and read; its text is stored.
	AttachmentRead = "read"
	// AttachmentSkipped: the file was not downloaded on purpose (no Zendesk
	// credentials); the reason is in error.
	AttachmentSkipped = "skipped"
	// AttachmentUnreadable: the file itself cannot be read (encrypted,
	// corrupt, over a cap, an archive, too slow on every try); the reason
	// is in error. Trying again would fail the same way.
	AttachmentUnreadable = "unreadable"
	// AttachmentFailed: the download or the read failed in a way a later
	// attempt may not (a timeout, a 5xx, a refused host the operator may
	// still allow); it is tried again on the email's next attempt.
	AttachmentFailed = "failed"
)

// EmailAttachment is one attachment of an email as the attachment stage
// left it: one row per position of the email's attachment list. File
// bytes are never kept; a row whose status is Settled is never downloaded
// again.
type EmailAttachment struct {
	ID              uint64 `gorm:"primaryKey"`
	IncomingEmailID uint64
	Position        int // index in the email's attachment list
	Filename        string
	// ContentType is the type Zendesk declared, else the one the download
	// was served with, else the type sniffed from a file that was read.
	ContentType string
	SizeBytes   *int64
	SHA256      *string `gorm:"column:sha256"`
	Status      string
	Reader      *string // how it was read: pdf_text, office, ocr, model, text
	Pages       *int
	Text        *string // capped at ATTACHMENT_TEXT_MAX_CHARS
	Truncated   bool    // Text was cut at the cap
	Error       *string // why it is skipped, unreadable or failed
	Attempts    int     // downloads or reads tried
	Timeouts    int     // tries that ran out of ATTACHMENT_TIMEOUT
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName pins the table name.
func (EmailAttachment) TableName() string { return "email_attachments" }

// SettledAttachment returns the final statuses of an attachment: read,
// skipped or unreadable files are never downloaded again; failed ones are
// on the email's next attempt.
func SettledAttachment() []string {
	return []string{AttachmentRead, AttachmentSkipped, AttachmentUnreadable}
}

// Settled reports whether the row's status is final (SettledAttachment).
func (a EmailAttachment) Settled() bool { return slices.Contains(SettledAttachment(), a.Status) }

// Attachments decodes the email's attachment list (attachment_urls), in
// the order Zendesk sent it: an attachment's position is its index here.
func (e IncomingEmail) Attachments() ([]Attachment, error) {
	if len(e.AttachmentURLs) == 0 {
		return nil, nil
	}
	var list []Attachment
	if err := json.Unmarshal(e.AttachmentURLs, &list); err != nil {
		return nil, fmt.Errorf("attachment_urls of email %d: %w", e.ID, err)
	}
	return list, nil
}
