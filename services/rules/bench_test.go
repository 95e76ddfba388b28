package rules

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// BenchmarkExtract measures extracting every corpus email without
// attachments once per op, so ns/op and allocs/op are per corpus pass (66
// emails), not per email; the figure stays comparable with the runs before
// attachments were read.
func BenchmarkExtract(b *testing.B) {
	benchmarkInputs(b, corpusInputsWith(b, false))
}

// BenchmarkExtractAttachments measures one pass over the corpus emails
// with attachments.
func BenchmarkExtractAttachments(b *testing.B) {
	benchmarkInputs(b, corpusInputsWith(b, true))
}

// BenchmarkExtractLargeAttachment measures one email whose attachment is a
// 200,000-character statement: some 3,000 bookings, then the total.
func BenchmarkExtractLargeAttachment(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 200_000; i++ {
		sb.WriteString("  " + strconv.Itoa(1+i%28) + ".03.2024    Rechnung " + strconv.Itoa(100000+i) + " Position " + strconv.Itoa(i) + "             12,34 EUR\n")
	}
	sb.WriteString("  Gesamtforderung                                   4.321,00 EUR\n")
	benchmarkInputs(b, []models.EmailInput{{
		FromEmail: "forderung@muster-inkasso.de", Subject: "AW: Forderungsanfrage", CleanedBody: "siehe Anhang",
		Attachments: []models.AttachmentText{{Position: 0, Filename: "aufstellung.pdf", Text: sb.String()}},
	}})
}

func benchmarkInputs(b *testing.B, inputs []models.EmailInput) {
	ex := New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			if _, err := ex.Extract(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
}
