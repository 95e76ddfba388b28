package jobs

import (
	"encoding/json"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Attachment is one attachment of an email as the detail shows it: its
// email_attachments row without the text, and the excerpt that gave an
// amount, if one came from it.
type Attachment struct {
	Position    int     `json:"position"`
	Filename    string  `json:"filename"`
	ContentType string  `json:"content_type"`
	SizeBytes   *int64  `json:"size_bytes"`
	Status      string  `json:"status"` // read, skipped, unreadable, failed
	Reader      *string `json:"reader"` // pdf_text, office, ocr, model, text
	Pages       *int    `json:"pages"`
	Error       *string `json:"error"`
	// Excerpt is the line of the attachment's text that gave an amount
	// (extracted_data.amount_evidence), the chosen one first; nil when none
	// came from it.
	Excerpt *string `json:"excerpt"`
}

// attachmentsOf lists rows with the excerpts that extracted (the email's
// extracted_data, possibly empty) took from each.
func attachmentsOf(rows []models.EmailAttachment, extracted models.JSON) []Attachment {
	excerpts := evidenceExcerpts(extracted)
	out := make([]Attachment, 0, len(rows))
	for _, r := range rows {
		a := Attachment{Position: r.Position, Filename: r.Filename, ContentType: r.ContentType, SizeBytes: r.SizeBytes,
			Status: r.Status, Reader: r.Reader, Pages: r.Pages, Error: r.Error}
		if ex, ok := excerpts[models.AttachmentSource(r.Position)]; ok {
			a.Excerpt = &ex
		}
		out = append(out, a)
	}
	return out
}

// evidenceExcerpts maps each source of amount evidence to its excerpt:
// the chosen amount's where there is one, else the source's first.
func evidenceExcerpts(extracted models.JSON) map[string]string {
	var data models.ExtractedData
	if len(extracted) == 0 || json.Unmarshal(extracted, &data) != nil {
		return nil
	}
	out := make(map[string]string, len(data.AmountEvidence))
	for _, ev := range data.AmountEvidence {
		if _, seen := out[ev.Source]; !seen || ev.Chosen {
			out[ev.Source] = ev.Excerpt
		}
	}
	return out
}
