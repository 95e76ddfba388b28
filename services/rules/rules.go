// Package rules extracts debt data from cleaned creditor emails and the text
// of their attachments with German and English keyword rules. It needs no
// network and serves as the default extractor without an LLM key and as a
// cross-check for the LLM.
package rules

import (
	"context"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Extractor reads debt data from a cleaned email with German/English rules; no network.
type Extractor struct{}

// New returns a rules extractor.
func New() *Extractor { return &Extractor{} }

// Quick marks the rules as answering in microseconds from the text alone
// (pipeline.Quick): with no attachments to read, the pipeline records the
// stages with its final write instead of one write each.
func (*Extractor) Quick() {}

// Extract implements the pipeline's extractor interface. It never returns an error for
// odd text; it returns models.ExtractedData with Extractor = models.ExtractorRules.
// The body and the attachments' texts are read alike; see decideAmount for
// which amount wins and when they disagree.
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
	atts := prepareAttachments(in.Attachments)
	cands := readAmounts(textSource{name: models.SourceBody, text: bodyText}, atts)
	chosen, disagree := decideAmount(cands)
	kind, strong := classifyReply(newHeaderView(in.Headers), subject, fromName, fromEmail, bodyText, chosen >= 0, atts)
	refs := extractReferences(subjectText, bodyText, atts)
	out := models.ExtractedData{
		IsCreditorReply:    kind == replyCreditor,
		ReferenceNumbers:   refs.creditor,
		ClientAktenzeichen: refs.firm,
		Extractor:          models.ExtractorRules,
	}
	src := sourceSetter(&out)
	src(models.FieldClientAktenzeichen, refs.firmSource)
	src(models.FieldReferenceNumbers, refs.creditorSource)
	basis := basisNone
	if kind == replyCreditor {
		basis = settledBasis(cands)
		if chosen >= 0 {
			c := cands[chosen]
			out.DebtAmount, basis = c.value, c.basis
			out.AmountEvidence = amountEvidence(cands, chosen)
			out.SourcesDisagree = disagree
			src(models.FieldDebtAmount, c.src.name)
		}
		var clientSrc, creditorSrc string
		out.ClientName, clientSrc = extractClient(subjectText, bodyText, atts)
		out.CreditorName, creditorSrc = extractCreditor(body, fromName, fromEmail, atts)
		src(models.FieldClientName, clientSrc)
		src(models.FieldCreditorName, creditorSrc)
	}
	out.Confidence = confidence(kind, strong, basis, out.ClientName != "", refs.firm != "" || len(refs.creditor) > 0)
	out.Summary = summarize(kind, out.CreditorName, out.ClientName, out.DebtAmount, basis, out.ClientAktenzeichen)
	if out.DebtAmount != nil {
		out.Summary += sourceNote(cands, chosen, out.SourcesDisagree)
	}
	if out.SourcesDisagree {
		// Staff decide; the score says so to anyone who reads only it.
		out.Confidence = min(out.Confidence, 0.5)
	}
	return out, nil
}

// readAmounts reads the amount each source gives, the body first.
func readAmounts(body textSource, atts []textSource) []amountCandidate {
	cands := make([]amountCandidate, 0, 1+len(atts))
	cands = append(cands, amountCandidate{src: body, amountChoice: readAmount(body.text, false)})
	for _, a := range atts {
		cands = append(cands, amountCandidate{src: a, amountChoice: readAmount(a.text, true)})
	}
	return cands
}

// settledBasis is basisSettle when some source offers only a settlement or
// installments, for the confidence and summary of a mail without amount.
func settledBasis(cands []amountCandidate) amountBasis {
	for _, c := range cands {
		if c.basis == basisSettle {
			return basisSettle
		}
	}
	return basisNone
}

// sourceSetter returns a function that records where a filled field was
// read, making out.Sources at the first.
func sourceSetter(out *models.ExtractedData) func(field, source string) {
	return func(field, source string) {
		if source == "" {
			return
		}
		if out.Sources == nil {
			out.Sources = make(map[string]string, 5)
		}
		out.Sources[field] = source
	}
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
