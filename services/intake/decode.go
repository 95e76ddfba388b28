package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Field limits: generous for real mail, small enough to keep rows sane. A
// field beyond its limit is a problem, not cut: the delivery is stored
// failed with its raw body.
const (
	// MaxShortField bounds from_name (and cuts attachment names and types).
	MaxShortField = 500
	// MaxSubject bounds the subject, in characters.
	MaxSubject = 2000
	// MaxAttachments bounds the attachment list.
	MaxAttachments  = 100
	maxIDFieldRunes = 200
	maxAddressBytes = 320
	maxURLBytes     = 2000
)

// Decode turns the raw body of a verified delivery into an Email. Only a
// body that is not a JSON object is an error (EINVALID, the webhook's 400).
// Zendesk never retries a 400, so a signed object is never refused for its
// fields: what is missing or unusable goes to Email.Problems (with the raw
// body in RawPayload, so a later version can decode it again), and what
// tolerant decoding fixed up goes to Email.Warnings (DESIGN.md §5). A field
// with a problem is left empty. Unknown fields are ignored.
//
// receipt is when the delivery arrived: a received_at that is missing or
// unusable becomes it, and it judges what is plausible. A retry decoding a
// stored payload passes the email's created_at, so it decodes as intake did.
func Decode(raw []byte, receipt time.Time) (Email, error) {
	var fields map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &fields) != nil {
		return Email{}, &models.Error{Code: models.EINVALID, Message: "body must be a JSON object"}
	}
	d := &payloadDecoder{problems: map[string]string{}}
	e := Email{
		TicketID: d.id(fields["ticket_id"], "ticket_id", true),
		FromName: d.text(fields["from_name"], "from_name", MaxShortField),
		Subject:  d.text(fields["subject"], "subject", MaxSubject),
		BodyHTML: d.text(fields["body_html"], "body_html", -1),
		BodyText: d.text(fields["body_text"], "body_text", -1),
	}
	var nameInAddress string
	e.FromEmail, nameInAddress = d.fromEmail(fields["from_email"])
	if e.FromName == "" && d.problems["from_name"] == "" {
		e.FromName = nameInAddress
	}
	e.ReceivedAt = d.receivedAt(fields["received_at"], receipt.UTC())
	if e.WebhookID = d.id(fields["webhook_id"], "webhook_id", false); d.problems["webhook_id"] != "" {
		// Optional and only a key: ignored, the body's digest deduplicates.
		delete(d.problems, "webhook_id")
		d.warn("webhook_id unusable (ignored; deduplicated by the body's digest)")
	}
	e.Attachments = d.attachments(fields["attachments"])
	if strings.TrimSpace(e.BodyHTML) == "" && strings.TrimSpace(e.BodyText) == "" && len(e.Attachments) == 0 {
		d.problem("body_text", "body_html or body_text (or an attachment) is required")
	}
	e.DedupKey = dedupKey(e.WebhookID, raw)
	e.Warnings = d.warnings
	if len(d.problems) > 0 {
		e.Problems, e.RawPayload = d.problems, raw
	}
	return e, nil
}

// Unusable describes an email's problems for processing_error and the
// failure alert: each field with what is wrong with it, in field order.
// Field names and messages are the decoder's own, never payload text.
func (e Email) Unusable() string {
	parts := make([]string, 0, len(e.Problems))
	for _, f := range slices.Sorted(maps.Keys(e.Problems)) {
		parts = append(parts, f+": "+e.Problems[f])
	}
	return "unusable delivery: " + strings.Join(parts, "; ")
}

// dedupKey identifies a delivery: Zendesk's webhook id when the body has
// one, else the SHA-256 of the raw body, which a Zendesk retry resends
// unchanged. The invocation id header is not signed, so it is no key.
func dedupKey(webhookID string, body []byte) string {
	if webhookID != "" {
		return "webhook:" + webhookID
	}
	sum := sha256.Sum256(body)
	return "body:" + hex.EncodeToString(sum[:])
}

// payloadDecoder collects, field by field, what is wrong and what was fixed.
type payloadDecoder struct {
	problems map[string]string
	warnings []string
}

func (d *payloadDecoder) problem(field, msg string) {
	if _, ok := d.problems[field]; !ok {
		d.problems[field] = msg
	}
}

func (d *payloadDecoder) warn(format string, args ...any) {
	d.warnings = append(d.warnings, fmt.Sprintf(format, args...))
}

// absent reports whether a field is missing or null.
func absent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// str decodes a JSON string, made storable; a field of another type is a
// problem named name. ok is false when the field is absent or not a string.
func (d *payloadDecoder) str(raw json.RawMessage, name string) (s string, ok bool) {
	if absent(raw) {
		return "", false
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		d.problem(name, "must be a string")
		return "", false
	}
	// encoding/json already replaced invalid UTF-8 with U+FFFD: the raw
	// field tells.
	cleaned := clean(s)
	if cleaned != s || !utf8.Valid(raw) {
		d.warn("%s contained NUL characters or invalid UTF-8 (removed)", name)
	}
	return cleaned, true
}

// clean makes text storable in PostgreSQL: valid UTF-8, no NUL bytes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// text decodes a trimmed string of at most limit runes (-1: no limit).
func (d *payloadDecoder) text(raw json.RawMessage, name string, limit int) string {
	s, _ := d.str(raw, name)
	s = strings.TrimSpace(s)
	if limit > 0 && utf8.RuneCountInString(s) > limit {
		d.problem(name, fmt.Sprintf("at most %d characters", limit))
		return ""
	}
	return s
}

// id accepts a string or a whole number, as Zendesk sends either.
func (d *payloadDecoder) id(raw json.RawMessage, name string, required bool) string {
	raw = bytes.TrimSpace(raw)
	var s string
	switch {
	case absent(raw):
	case raw[0] == '"':
		s, _ = d.str(raw, name)
		s = strings.TrimSpace(s)
	case isWholeNumber(raw):
		s = string(raw)
	default:
		d.problem(name, "must be a string or a positive whole number")
		return ""
	}
	switch {
	case s == "" && required:
		d.problem(name, "required")
	case utf8.RuneCountInString(s) > maxIDFieldRunes:
		d.problem(name, fmt.Sprintf("at most %d characters", maxIDFieldRunes))
		return ""
	}
	return s
}

// isWholeNumber reports whether a JSON number is written as plain digits.
func isWholeNumber(raw []byte) bool {
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(raw) > 0
}

// fromEmail takes the address from "address" or "Name <address>"; name is
// the display name when one was given.
func (d *payloadDecoder) fromEmail(raw json.RawMessage) (addr, name string) {
	s, _ := d.str(raw, "from_email")
	if s = strings.TrimSpace(s); s == "" {
		d.problem("from_email", "required")
		return "", ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || len(a.Address) > maxAddressBytes {
		d.problem("from_email", "must be a valid e-mail address")
		return "", ""
	}
	if a.Address != s {
		d.warn("from_email given as Name <address>")
	}
	return strings.ToLower(a.Address), strings.TrimSpace(clean(a.Name))
}
