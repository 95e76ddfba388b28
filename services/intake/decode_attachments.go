package intake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// attachments reads the attachment list: each an object with url or
// content_url (content_url is the file when both are present: Zendesk's
// url is then the attachment's API record), filename or file_name,
// content_type, and size as a number or a string. A list that is not one,
// or an attachment without a usable https URL, is a problem (the file may
// hold the figure, so it is not dropped quietly); a name, type or size
// that cannot be used is ignored with a warning.
func (d *payloadDecoder) attachments(raw json.RawMessage) []models.Attachment {
	if absent(raw) {
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		d.problem("attachments", "must be a list of objects")
		return nil
	}
	if len(list) > MaxAttachments {
		d.problem("attachments", fmt.Sprintf("at most %d attachments", MaxAttachments))
		return nil
	}
	out := make([]models.Attachment, 0, len(list))
	for i, item := range list {
		if a, ok := d.attachment(item, fmt.Sprintf("attachments[%d]", i)); ok {
			out = append(out, a)
		}
	}
	return out
}

func (d *payloadDecoder) attachment(raw json.RawMessage, name string) (models.Attachment, bool) {
	var f map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &f) != nil {
		d.problem(name, "must be an object")
		return models.Attachment{}, false
	}
	urlField := "url"
	if !absent(f["content_url"]) {
		urlField = "content_url"
	}
	u, ok := d.str(f[urlField], name+"."+urlField)
	if !ok && d.problems[name+"."+urlField] != "" {
		return models.Attachment{}, false
	}
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || parsed.Scheme != "https" || parsed.Host == "" || len(u) > maxURLBytes {
		d.problem(name+"."+urlField, "must be an https URL")
		return models.Attachment{}, false
	}
	nameField := "filename"
	if absent(f["filename"]) {
		nameField = "file_name"
	}
	return models.Attachment{
		URL:         parsed.String(),
		Filename:    d.label(f[nameField], name+"."+nameField),
		ContentType: d.label(f["content_type"], name+".content_type"),
		Size:        d.size(f["size"], name+".size"),
	}, true
}

// label is an optional short text: cut to MaxShortField runes, and ignored
// when it is not a string; either noted.
func (d *payloadDecoder) label(raw json.RawMessage, name string) string {
	if absent(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		d.warn("%s not a string (ignored)", name)
		return ""
	}
	s = strings.TrimSpace(clean(s))
	if utf8.RuneCountInString(s) > MaxShortField {
		d.warn("%s longer than %d characters (cut)", name, MaxShortField)
		s = string([]rune(s)[:MaxShortField])
	}
	return s
}

// size is a byte count given as a number or a string of digits; anything
// else is ignored, noted.
func (d *payloadDecoder) size(raw json.RawMessage, name string) int64 {
	raw = bytes.TrimSpace(raw)
	if absent(raw) {
		return 0
	}
	text := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &text) != nil {
			text = ""
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil || n < 0 {
		d.warn("%s unusable (ignored)", name)
		return 0
	}
	return n
}
