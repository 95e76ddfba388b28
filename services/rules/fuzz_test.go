package rules

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// FuzzExtract feeds arbitrary bodies, subjects and senders to the extractor:
// it must not panic, must keep amounts plausible and strings valid UTF-8.
func FuzzExtract(f *testing.F) {
	for _, c := range loadCorpus(f) {
		body := c.text
		if body == "" {
			body = c.html
		}
		f.Add(body, c.input.Subject, c.input.FromEmail)
	}
	f.Add("Gesamtforderung: -0,00 € = 1.234.567.890,12 EUR je", "AW: Az.", "@")
	f.Add("Herr \xff\xfe Frau ,,, Ihr Mandant\n\n\n", "Ihr Zeichen: \x00", "x@gmail.com")
	ex := New()
	f.Fuzz(func(t *testing.T, body, subject, from string) {
		got, err := ex.Extract(context.Background(), models.EmailInput{
			FromEmail: from, FromName: subject, Subject: subject, CleanedBody: body,
			Headers: map[string]string{"Precedence": subject},
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
	})
}
