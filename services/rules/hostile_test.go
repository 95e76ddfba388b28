package rules

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

const hostileBytes = 3_000_000

// TestHostileInputIsFast feeds huge single-line and many-line bodies and
// attachments full of labels, amounts, names and table rows; the scan is
// capped and must stay linear.
func TestHostileInputIsFast(t *testing.T) {
	t.Parallel()
	// One line mixing labels, amounts, names, separators and greetings, and
	// the same as many short lines: each far beyond the scan cap.
	unit := "Kundennummer 12345 Gesamtforderung 1.234,56 € Herr Max Mustermann Ihr Zeichen 1/24 " +
		"1,2,3,4,5,6,7,8,9 . . . . Az. Az. €€ EUR 1 2 3 Ihr Mandant Herr Frau "
	// A table of bookings under a balance heading, OCR letters in amounts
	// and blank runs, as in the attachments' texts.
	table := "Datum | Text | Saldo\n" + "01.02.2024 | Gutschrift l.2l2,4O lhr | -1.212,40 |    | 1 |\n"
	units := []string{unit, strings.ReplaceAll(unit, " ", "\n"), table, strings.ReplaceAll(table, "\n", " ")}
	ex := New()
	for i, u := range units {
		body := strings.Repeat(u, hostileBytes/len(u))
		atts := make([]models.AttachmentText, maxAttachments+1)
		for j := range atts {
			atts[j] = models.AttachmentText{Position: j, Filename: body, Text: body}
		}
		start := time.Now()
		got, err := ex.Extract(context.Background(), models.EmailInput{CleanedBody: body, Subject: body, FromName: body, FromEmail: body, Attachments: atts})
		require.NoError(t, err)
		require.NotNil(t, got.ReferenceNumbers)
		// Generous for -race on a busy machine; quadratic scans took minutes.
		require.Less(t, time.Since(start), 60*time.Second, "unit %d", i)
	}
}
