package claude

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// sourceClaims are where the model says it read its answer: a source per
// field, the line that gave the amount, and the labelled totals of every
// source. They are claims: checkSources keeps only those the email's texts
// bear out.
type sourceClaims struct {
	fields   map[string]string
	evidence string
	totals   []totalClaim
}

// totalClaim is one labelled total the model says a source states.
type totalClaim struct {
	Source string  `json:"source"`
	Amount float64 `json:"amount"`
	Label  string  `json:"label"`
	Line   string  `json:"line"`
}

// Caps on the claims, as on every untrusted string of the answer.
const (
	maxTotals        = 5
	maxExcerptRunes  = 200
	maxLabelRunes    = 60
	maxSourceRunes   = 40
	amountTolerance  = 0.005
	disagreeMoreThan = 0.015
)

// decodeClaims reads the source keys of the tool input. They are optional:
// a key missing or of the wrong shape claims nothing (the email then has
// no source for the field, which a reviewer sees), never an error.
func decodeClaims(input []byte) sourceClaims {
	var raw struct {
		Sources  map[string]json.RawMessage `json:"sources"`
		Evidence json.RawMessage            `json:"amount_evidence"`
		Totals   []json.RawMessage          `json:"labelled_totals"`
	}
	var c sourceClaims
	if json.Unmarshal(input, &raw) != nil {
		return c
	}
	for _, f := range sourceFields() {
		var s string
		if v, ok := raw.Sources[f]; ok && json.Unmarshal(v, &s) == nil {
			if s = capRunes(singleLine(s), maxSourceRunes); s != "" {
				if c.fields == nil {
					c.fields = map[string]string{}
				}
				c.fields[f] = s
			}
		}
	}
	var ev string
	if json.Unmarshal(raw.Evidence, &ev) == nil {
		c.evidence = capRunes(singleLine(ev), maxExcerptRunes)
	}
	for _, item := range raw.Totals {
		var t totalClaim
		if len(c.totals) == maxTotals || json.Unmarshal(item, &t) != nil {
			continue
		}
		if math.IsNaN(t.Amount) || t.Amount <= 0 || t.Amount > models.MaxPlausibleAmount {
			continue
		}
		t.Source = capRunes(singleLine(t.Source), maxSourceRunes)
		t.Label = capRunes(singleLine(t.Label), maxLabelRunes)
		t.Line = capRunes(singleLine(t.Line), maxExcerptRunes)
		c.totals = append(c.totals, t)
	}
	return c
}

// sourceText is one text the model was shown, by its source name.
type sourceText struct {
	text     string
	filename string
}

// sourceTexts are the texts the prompt carried: the body, the subject, the
// sender and the attachments promptAttachments kept.
func sourceTexts(in models.EmailInput) map[string]sourceText {
	texts := map[string]sourceText{
		models.SourceBody:    {text: in.CleanedBody},
		models.SourceSubject: {text: in.Subject},
		models.SourceSender:  {text: in.FromName + " " + in.FromEmail},
	}
	for _, a := range promptAttachments(in.Attachments) {
		texts[models.AttachmentSource(a.Position)] = sourceText{text: a.Text, filename: capRunes(singleLine(a.Filename), maxFilenameRunes)}
	}
	return texts
}

// checkSources sets data's Sources, AmountEvidence and SourcesDisagree
// from the claims the email's texts bear out:
//   - a field's source must be one the prompt carried ("sender" only for
//     the creditor's name), and the field must be found in it: the amount
//     as a number in German or English notation, the Aktenzeichen and the
//     first reference as written (blanks aside), the client's surname;
//   - otherwise the claim is dropped, and the field has no source: an
//     amount without one is for staff to check;
//   - AmountEvidence lists the labelled totals found in their sources and
//     the chosen amount's line; two found totals from different sources
//     more than a cent apart set SourcesDisagree (and cap the confidence at
//     0.5, as the rules do).
func checkSources(data models.ExtractedData, c sourceClaims, in models.EmailInput) models.ExtractedData {
	texts := sourceTexts(in)
	data.Sources, data.AmountEvidence, data.SourcesDisagree = nil, nil, false
	set := func(field, src string) {
		if data.Sources == nil {
			data.Sources = map[string]string{}
		}
		data.Sources[field] = src
	}
	for field, src := range c.fields {
		t, ok := texts[src]
		if !ok || src == models.SourceSender && field != models.FieldCreditorName {
			continue
		}
		if fieldFound(data, field, t.text) {
			set(field, src)
		}
	}
	var amountLine string
	if data.DebtAmount != nil {
		if src, ok := data.Sources[models.FieldDebtAmount]; ok {
			amountLine = lineWithAmount(texts[src].text, *data.DebtAmount, c.evidence)
		}
	}
	chosenFound := false
	for _, tc := range c.totals {
		t, ok := texts[tc.Source]
		if !ok || tc.Source == models.SourceSender {
			continue
		}
		v := math.Round(tc.Amount*100) / 100
		line := lineWithAmount(t.text, v, tc.Line)
		if line == "" {
			continue
		}
		chosen := data.DebtAmount != nil && math.Abs(*data.DebtAmount-v) < amountTolerance &&
			data.Sources[models.FieldDebtAmount] == tc.Source && !chosenFound
		chosenFound = chosenFound || chosen
		data.AmountEvidence = append(data.AmountEvidence, models.AmountEvidence{
			Source: tc.Source, Filename: t.filename, Amount: v, Label: tc.Label, Excerpt: line, Chosen: chosen,
		})
	}
	if amountLine != "" && !chosenFound {
		src := data.Sources[models.FieldDebtAmount]
		data.AmountEvidence = append([]models.AmountEvidence{{
			Source: src, Filename: texts[src].filename, Amount: *data.DebtAmount, Excerpt: amountLine, Chosen: true,
		}}, data.AmountEvidence...)
	}
	for i, a := range data.AmountEvidence {
		for _, b := range data.AmountEvidence[i+1:] {
			if a.Label != "" && b.Label != "" && a.Source != b.Source && math.Abs(a.Amount-b.Amount) > disagreeMoreThan {
				data.SourcesDisagree = true
			}
		}
	}
	if data.SourcesDisagree {
		data.Confidence = min(data.Confidence, 0.5)
	}
	return data
}

// fieldFound reports whether field's value in data can be found in text.
func fieldFound(data models.ExtractedData, field, text string) bool {
	switch field {
	case models.FieldDebtAmount:
		return data.DebtAmount != nil && lineWithAmount(text, *data.DebtAmount, "") != ""
	case models.FieldClientAktenzeichen:
		return data.ClientAktenzeichen != "" && containsFolded(text, data.ClientAktenzeichen)
	case models.FieldReferenceNumbers:
		return len(data.ReferenceNumbers) > 0 && containsFolded(text, data.ReferenceNumbers[0])
	case models.FieldClientName:
		surname, _, _ := strings.Cut(data.ClientName, ",")
		return strings.TrimSpace(surname) != "" && containsFolded(text, surname)
	case models.FieldCreditorName:
		// A company's name is often shortened or completed ("Stadtwerke
		// Beispielstadt" for "… GmbH"): one of its longer words will do.
		for _, w := range strings.Fields(data.CreditorName) {
			if len([]rune(w)) >= 4 && containsFolded(text, strings.Trim(w, ",.()")) {
				return true
			}
		}
	}
	return false
}

// containsFolded reports whether text contains s, ignoring case and blanks.
func containsFolded(text, s string) bool {
	fold := func(x string) string {
		return strings.ToLower(strings.Join(strings.Fields(x), ""))
	}
	needle := fold(s)
	return needle != "" && strings.Contains(fold(text), needle)
}

// numberRe finds a written number: digits with '.', ',' or an apostrophe
// between groups ("1.212,40", "1,212.40", "1212,4", "1'212.40").
var numberRe = regexp.MustCompile(`\d(?:[\d.,']*\d)?`)

// lineWithAmount returns the line of text (blanks collapsed, at most
// maxExcerptRunes) that states amount in German or English notation,
// preferring the line that matches hint, or "" when no line does.
func lineWithAmount(text string, amount float64, hint string) string {
	hint = strings.ToLower(strings.Join(strings.Fields(hint), " "))
	first := ""
	for line := range strings.SplitSeq(text, "\n") {
		if !lineStates(line, amount) {
			continue
		}
		clean := strings.Join(strings.Fields(line), " ")
		if hint != "" && strings.Contains(hint, strings.ToLower(clean)) || hint != "" && strings.Contains(strings.ToLower(clean), hint) {
			return capRunes(clean, maxExcerptRunes)
		}
		if first == "" {
			first = capRunes(clean, maxExcerptRunes)
		}
	}
	return first
}

// lineStates reports whether one of line's numbers, read in German or in
// English notation, is amount (to the cent).
func lineStates(line string, amount float64) bool {
	for _, raw := range numberRe.FindAllString(strings.NewReplacer("\u00a0", "", "\u202f", "").Replace(line), -1) {
		for _, v := range readNumber(raw) {
			if math.Abs(v-amount) < amountTolerance {
				return true
			}
		}
	}
	return false
}

// readNumber reads raw as German ("1.212,40": '.' groups, ',' decimals)
// and as English ("1,212.40") notation, whichever parse.
func readNumber(raw string) []float64 {
	raw = strings.ReplaceAll(raw, "'", "")
	var out []float64
	for _, r := range []*strings.Replacer{
		strings.NewReplacer(".", "", ",", "."), // German
		strings.NewReplacer(",", ""),           // English
	} {
		if v, err := strconv.ParseFloat(r.Replace(raw), 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}
