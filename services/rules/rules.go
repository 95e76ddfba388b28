// Package rules extracts debt data from cleaned creditor emails with German
// and English keyword rules. It needs no network and serves as the default
// extractor without an LLM key and as a cross-check for the LLM.
package rules

import (
	"context"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Extractor reads debt data from a cleaned email with German/English rules; no network.
type Extractor struct{}

// New returns a rules extractor.
func New() *Extractor { return &Extractor{} }

// Extract implements the pipeline's extractor interface. It never returns an error for
// odd text; it returns models.ExtractedData with Extractor = models.ExtractorRules.
func (e *Extractor) Extract(ctx context.Context, in models.EmailInput) (models.ExtractedData, error) {
	if err := ctx.Err(); err != nil {
		return models.ExtractedData{}, err
	}
	body := prepareText(in.CleanedBody)
	subject := prepareText(firstLine(in.Subject))
	fromName := prepareText(firstLine(in.FromName))
	fromEmail := prepareText(firstLine(in.FromEmail))

	// The keyword scans of the body and subject share one fold of each.
	bodyText, subjectText := foldText(body), foldText(subject)
	amount, basis := extractAmount(bodyText)
	kind, strong := classifyReply(newHeaderView(in.Headers), subject, fromName, fromEmail, bodyText, amount != nil)
	refs := extractReferences(subjectText, bodyText)
	out := models.ExtractedData{
		IsCreditorReply:    kind == replyCreditor,
		ReferenceNumbers:   refs.creditor,
		ClientAktenzeichen: refs.firm,
		Extractor:          models.ExtractorRules,
	}
	if kind == replyCreditor {
		out.DebtAmount = amount
		out.ClientName = extractClient(subjectText, bodyText)
		out.CreditorName = extractCreditor(body, fromName, fromEmail)
	} else {
		basis = basisNone
	}
	out.Confidence = confidence(kind, strong, basis, out.ClientName != "", refs.firm != "" || len(refs.creditor) > 0)
	out.Summary = summarize(kind, out.CreditorName, out.ClientName, out.DebtAmount, basis, out.ClientAktenzeichen)
	return out, nil
}

// firstLine keeps header-like fields to one bounded line.
func firstLine(s string) string {
	if len(s) > 2000 {
		s = s[:2000]
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return s[:i]
		}
	}
	return s
}
