package rules

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// FuzzExtract feeds arbitrary bodies, subjects, senders and attachment texts
// to the extractor: it must not panic, must keep amounts plausible, strings
// valid UTF-8 and the evidence true to the amount.
func FuzzExtract(f *testing.F) {
	for _, c := range loadCorpus(f) {
		body := c.text
		if body == "" {
			body = c.html
		}
		att := ""
		if len(c.input.Attachments) > 0 {
			att = c.input.Attachments[0].Text
		}
		f.Add(body, c.input.Subject, c.input.FromEmail, att)
	}
	f.Add("Gesamtforderung: -0,00 € = 1.234.567.890,12 EUR je", "AW: Az.", "@", "Saldo | | -1.2l2,4O\n")
	f.Add("Herr \xff\xfe Frau ,,, Ihr Mandant\n\n\n", "Ihr Zeichen: \x00", "x@gmail.com", "lhr Az.: 355 / \xff26 | Saldo\n1 | 2 | 3")
	ex := New()
	f.Fuzz(func(t *testing.T, body, subject, from, att string) {
		got, err := ex.Extract(context.Background(), models.EmailInput{
			FromEmail: from, FromName: subject, Subject: subject, CleanedBody: body,
			Headers: map[string]string{"Precedence": subject},
			Attachments: []models.AttachmentText{
				{Position: 0, Filename: subject, Text: att},
				{Position: 7, Filename: "\n" + from, Text: body + "\n" + att},
			},
		})
		if err != nil {
			t.Fatalf("error: %v", err)
		}
		if got.DebtAmount != nil && !plausible(*got.DebtAmount) {
			t.Fatalf("implausible amount %v", *got.DebtAmount)
		}
		if got.ReferenceNumbers == nil {
			t.Fatal("nil reference numbers")
		}
		if got.Confidence < 0 || got.Confidence > 1 {
			t.Fatalf("confidence %v", got.Confidence)
		}
		strs := append([]string{got.ClientName, got.CreditorName, got.ClientAktenzeichen, got.Summary}, got.ReferenceNumbers...)
		for _, s := range strs {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		checkSources(t, got)
		checkFuzzedEvidence(t, got)
	})
}

// checkSources: every recorded source names a filled field and a real source.
func checkSources(t *testing.T, got models.ExtractedData) {
	filled := map[string]bool{
		models.FieldDebtAmount: got.DebtAmount != nil, models.FieldClientName: got.ClientName != "",
		models.FieldCreditorName: got.CreditorName != "", models.FieldClientAktenzeichen: got.ClientAktenzeichen != "",
		models.FieldReferenceNumbers: len(got.ReferenceNumbers) > 0,
	}
	valid := map[string]bool{models.SourceBody: true, models.SourceSubject: true, models.SourceSender: true,
		models.AttachmentSource(0): true, models.AttachmentSource(7): true}
	for field, src := range got.Sources {
		if !filled[field] || !valid[src] {
			t.Fatalf("source %q=%q for %+v", field, src, got)
		}
	}
	for field, ok := range filled {
		if ok && got.Sources[field] == "" {
			t.Fatalf("no source for %s", field)
		}
	}
}

func checkFuzzedEvidence(t *testing.T, got models.ExtractedData) {
	if got.DebtAmount == nil && (len(got.AmountEvidence) > 0 || got.SourcesDisagree) {
		t.Fatalf("evidence without an amount: %+v", got)
	}
	if len(got.AmountEvidence) > maxEvidence {
		t.Fatalf("%d evidence entries", len(got.AmountEvidence))
	}
	chosen := 0
	for _, e := range got.AmountEvidence {
		for _, s := range []string{e.Source, e.Filename, e.Label, e.Excerpt} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\n\r\x00") {
				t.Fatalf("bad evidence string %q", s)
			}
		}
		if utf8.RuneCountInString(e.Excerpt) > maxExcerptRunes || utf8.RuneCountInString(e.Label) > maxLabelRunes {
			t.Fatalf("long evidence %+v", e)
		}
		if e.Chosen {
			chosen++
			if e.Amount != *got.DebtAmount || e.Source != got.Sources[models.FieldDebtAmount] {
				t.Fatalf("chosen %+v, amount %v from %q", e, *got.DebtAmount, got.Sources[models.FieldDebtAmount])
			}
		}
	}
	if got.DebtAmount != nil && chosen != 1 {
		t.Fatalf("%d chosen evidence entries", chosen)
	}
}
