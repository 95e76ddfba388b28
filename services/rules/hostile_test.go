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

// TestHostileInputIsFast feeds huge single-line and many-line bodies full of
// labels, amounts and names; the scan is capped and must stay linear.
func TestHostileInputIsFast(t *testing.T) {
	t.Parallel()
	// One line mixing labels, amounts, names, separators and greetings, and
	// the same as many short lines: each far beyond the scan cap.
	unit := "Kundennummer 12345 Gesamtforderung 1.234,56 € Herr Max Mustermann Ihr Zeichen 1/24 " +
		"1,2,3,4,5,6,7,8,9 . . . . Az. Az. €€ EUR 1 2 3 Ihr Mandant Herr Frau "
	units := []string{unit, strings.ReplaceAll(unit, " ", "\n")}
	ex := New()
	for i, u := range units {
		body := strings.Repeat(u, hostileBytes/len(u))
		start := time.Now()
		got, err := ex.Extract(context.Background(), models.EmailInput{CleanedBody: body, Subject: body, FromName: body, FromEmail: body})
		require.NoError(t, err)
		require.NotNil(t, got.ReferenceNumbers)
		// Generous for -race on a busy machine; quadratic scans took minutes.
		require.Less(t, time.Since(start), 60*time.Second, "unit %d", i)
	}
}
