package models

import "strconv"

// ExtractedData is what an extractor reads from a cleaned email and its
// attachments; stored as incoming_emails.extracted_data with exactly these
// fields.
type ExtractedData struct {
	IsCreditorReply    bool     `json:"is_creditor_reply"`
	ClientName         string   `json:"client_name"`
	CreditorName       string   `json:"creditor_name"`
	DebtAmount         *float64 `json:"debt_amount"`
	ReferenceNumbers   []string `json:"reference_numbers"`
	ClientAktenzeichen string   `json:"client_aktenzeichen"`
	Confidence         float64  `json:"confidence"`
	Summary            string   `json:"summary"`
	Extractor          string   `json:"extractor"`
	// Sources says where each filled field was read, keyed by its JSON name
	// (FieldDebtAmount …): SourceBody, SourceSubject, SourceSender or
	// AttachmentSource(position). For reference_numbers it is where the
	// first of them was read.
	Sources map[string]string `json:"sources,omitempty"`
	// AmountEvidence are the candidate amounts the decision weighed, one per
	// source that gave one (at most a handful); the one taken is Chosen.
	AmountEvidence []AmountEvidence `json:"amount_evidence,omitempty"`
	// SourcesDisagree is true when two labelled totals read from different
	// sources (the body and an attachment, or two attachments) differ by
	// more than a cent. DebtAmount is then still the preferred one (an
	// attachment's labelled total), but the email must go to review.
	SourcesDisagree bool `json:"sources_disagree,omitempty"`
}

// AmountEvidence is one candidate amount and the line that gave it, so staff
// can see where a figure came from and both sides of a disagreement.
type AmountEvidence struct {
	Source   string  `json:"source"`             // as in ExtractedData.Sources
	Filename string  `json:"filename,omitempty"` // the attachment's name
	Amount   float64 `json:"amount"`
	// Label is the word that made the amount a total or claim as written
	// ("Gesamtforderung", "Saldo", "insgesamt"); empty when unlabelled (a
	// bare amount or a sum of items).
	Label   string `json:"label,omitempty"`
	Excerpt string `json:"excerpt"` // the line that gave the amount, at most ~200 runes
	Chosen  bool   `json:"chosen,omitempty"`
}

// Keys of ExtractedData.Sources: the JSON names of the fields.
const (
	FieldDebtAmount         = "debt_amount"
	FieldClientName         = "client_name"
	FieldCreditorName       = "creditor_name"
	FieldClientAktenzeichen = "client_aktenzeichen"
	FieldReferenceNumbers   = "reference_numbers"
)

// Values of ExtractedData.Sources and AmountEvidence.Source besides
// AttachmentSource.
const (
	SourceBody    = "body"
	SourceSubject = "subject"
	// SourceSender is the sender's display name or mail domain, the last
	// resort for the creditor's name.
	SourceSender = "sender"
)

// AttachmentSource names the attachment at position (its index in the
// email's attachment list) as a source: "attachment:<position>".
func AttachmentSource(position int) string {
	return "attachment:" + strconv.Itoa(position)
}

// Extractor names stored in ExtractedData.Extractor.
const (
	ExtractorClaude = "claude"
	ExtractorRules  = "rules"
)

// MaxPlausibleAmount bounds a believable debt in EUR; anything larger is an
// extraction error, not a figure to write into the client's file.
const MaxPlausibleAmount = 10_000_000

// EmailInput is what the pipeline hands an extractor: the cleaned body plus
// the envelope fields that help tell a creditor reply from an auto-reply,
// and the text read from the email's attachments.
type EmailInput struct {
	FromEmail   string
	FromName    string
	Subject     string
	CleanedBody string
	// Headers holds mail headers Zendesk forwarded, if any (e.g. Auto-Submitted).
	Headers map[string]string
	// Attachments are the attachments that could be read, in list order.
	Attachments []AttachmentText
}

// AttachmentText is the text a reader got out of one attachment.
type AttachmentText struct {
	// Position is the attachment's index in the email's attachment list
	// (unreadable ones keep their index, so positions may have gaps).
	Position int
	Filename string
	// Text is the reader's output: pdftotext -layout text, DOCX paragraphs
	// and table rows with cells joined by " | ", XLSX rows as
	// "cell | cell | cell", or OCR output with its noise.
	Text string
}
