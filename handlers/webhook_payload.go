package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
)

// webhookPayload is the Zendesk trigger's JSON body; unknown fields are ignored.
type webhookPayload struct {
	TicketID    json.RawMessage     `json:"ticket_id"`
	FromEmail   *string             `json:"from_email"`
	FromName    *string             `json:"from_name"`
	Subject     *string             `json:"subject"`
	BodyHTML    *string             `json:"body_html"`
	BodyText    *string             `json:"body_text"`
	ReceivedAt  *string             `json:"received_at"`
	WebhookID   json.RawMessage     `json:"webhook_id"`
	Attachments []attachmentPayload `json:"attachments"`
}

type attachmentPayload struct {
	URL         string `json:"url"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Field limits: generous for real mail, small enough to keep rows sane.
const (
	maxShortField   = 500
	maxSubject      = 2000
	maxAttachments  = 100
	maxFutureSkew   = 24 * time.Hour
	maxIDFieldRunes = 200
)

// receivedAtLayouts are the date formats creditors' mail systems and Zendesk send.
var receivedAtLayouts = []string{
	time.RFC3339Nano, time.RFC3339, time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822,
	"2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "02.01.2006 15:04:05", "02.01.2006 15:04",
}

// decodeWebhook turns a raw body into a validated intake email, or an EINVALID
// error with a message per field. invocationID is the optional Zendesk header.
func decodeWebhook(body []byte, invocationID string, now time.Time) (intake.Email, error) {
	var p webhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return intake.Email{}, &models.Error{Code: models.EINVALID, Message: "body must be a JSON object: " + jsonProblem(err)}
	}
	fields := map[string]string{}
	e := intake.Email{
		TicketID: idField(p.TicketID, "ticket_id", true, fields),
		FromName: textField(p.FromName, "from_name", maxShortField, fields),
		Subject:  textField(p.Subject, "subject", maxSubject, fields),
		BodyHTML: textField(p.BodyHTML, "body_html", -1, fields),
		BodyText: textField(p.BodyText, "body_text", -1, fields),
	}
	e.WebhookID = idField(p.WebhookID, "webhook_id", false, fields)
	e.FromEmail = emailField(p.FromEmail, fields)
	e.ReceivedAt = receivedAt(p.ReceivedAt, now, fields)
	e.Attachments = attachments(p.Attachments, fields)
	if strings.TrimSpace(e.BodyHTML) == "" && strings.TrimSpace(e.BodyText) == "" && len(e.Attachments) == 0 {
		fields["body_text"] = "body_html or body_text (or an attachment) is required"
	}
	if len(fields) > 0 {
		return intake.Email{}, &models.Error{Code: models.EINVALID, Message: "invalid payload", Fields: fields}
	}
	e.DedupKey = dedupKey(e, invocationID, p.ReceivedAt)
	return e, nil
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

func textField(v *string, name string, limit int, fields map[string]string) string {
	if v == nil {
		return ""
	}
	s := strings.TrimSpace(clean(*v))
	if limit > 0 && utf8.RuneCountInString(s) > limit {
		fields[name] = fmt.Sprintf("at most %d characters", limit)
	}
	return s
}

// idField accepts a string or a whole number, as Zendesk sends either.
func idField(raw json.RawMessage, name string, required bool, fields map[string]string) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			fields[name] = "required"
		}
		return ""
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			fields[name] = "must be a string or a number"
			return ""
		}
		s = strings.TrimSpace(clean(s))
	} else {
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			fields[name] = "must be a string or a positive whole number"
			return ""
		}
		s = strconv.FormatUint(n, 10)
	}
	switch {
	case s == "" && required:
		fields[name] = "required"
	case utf8.RuneCountInString(s) > maxIDFieldRunes:
		fields[name] = fmt.Sprintf("at most %d characters", maxIDFieldRunes)
	}
	return s
}

func emailField(v *string, fields map[string]string) string {
	if v == nil || strings.TrimSpace(*v) == "" {
		fields["from_email"] = "required"
		return ""
	}
	s := strings.TrimSpace(clean(*v))
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 320 {
		fields["from_email"] = "must be a valid e-mail address"
		return ""
	}
	return strings.ToLower(addr.Address)
}

func receivedAt(v *string, now time.Time, fields map[string]string) time.Time {
	if v == nil || strings.TrimSpace(*v) == "" {
		return now
	}
	s := strings.TrimSpace(*v)
	for _, layout := range receivedAtLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return checkReceivedAt(t, now, fields)
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return checkReceivedAt(t, now, fields)
	}
	fields["received_at"] = "must be an RFC 3339 or e-mail date"
	return now
}

func checkReceivedAt(t, now time.Time, fields map[string]string) time.Time {
	if t.After(now.Add(maxFutureSkew)) || t.Year() < 2000 {
		fields["received_at"] = "is not a plausible date"
	}
	return t.UTC()
}

func attachments(in []attachmentPayload, fields map[string]string) []models.Attachment {
	if len(in) > maxAttachments {
		fields["attachments"] = fmt.Sprintf("at most %d attachments", maxAttachments)
		return nil
	}
	out := make([]models.Attachment, 0, len(in))
	for i, a := range in {
		u, err := url.Parse(strings.TrimSpace(a.URL))
		if err != nil || u.Scheme != "https" || u.Host == "" || len(a.URL) > 2000 {
			fields[fmt.Sprintf("attachments[%d].url", i)] = "must be an https URL"
			continue
		}
		if a.Size < 0 {
			fields[fmt.Sprintf("attachments[%d].size", i)] = "must not be negative"
			continue
		}
		out = append(out, models.Attachment{
			URL: u.String(), Filename: truncate(clean(a.Filename), maxShortField),
			ContentType: truncate(clean(a.ContentType), maxShortField), Size: a.Size,
		})
	}
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// dedupKey identifies a delivery: Zendesk's webhook id, else the invocation
// id Zendesk repeats on its own retries, else a hash of the content.
func dedupKey(e intake.Email, invocationID string, receivedAt *string) string {
	if e.WebhookID != "" {
		return "webhook:" + e.WebhookID
	}
	if inv := strings.TrimSpace(clean(invocationID)); inv != "" && len(inv) <= maxIDFieldRunes {
		return "invocation:" + inv
	}
	given := ""
	if receivedAt != nil {
		given = e.ReceivedAt.Format(time.RFC3339Nano)
	}
	h := sha256.New()
	for _, s := range []string{e.TicketID, e.FromEmail, e.Subject, e.BodyHTML, e.BodyText, given} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "content:" + hex.EncodeToString(h.Sum(nil))
}
