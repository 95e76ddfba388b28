package models

// ExtractedData is what an extractor reads from a cleaned email; stored as
// incoming_emails.extracted_data with exactly these fields.
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
// the envelope fields that help tell a creditor reply from an auto-reply.
type EmailInput struct {
	FromEmail   string
	FromName    string
	Subject     string
	CleanedBody string
	// Headers holds mail headers Zendesk forwarded, if any (e.g. Auto-Submitted).
	Headers map[string]string
}
