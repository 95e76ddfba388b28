package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReferenceRoles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, subject, body string
		firm                string
		creditor            []string
	}{
		{
			name: "ihr and unser zeichen",
			body: "Ihr Zeichen: 12345/24\nUnser Zeichen: INK-998877\nKundennummer 4711-0815",
			firm: "12345/24", creditor: []string{"INK-998877", "4711-0815"},
		},
		{
			name:    "az in subject is the firm's",
			subject: "AW: Forderungsanfrage Max Mustermann, Az. 2024_123",
			body:    "Vertragsnummer: 55 667 788\nRechnungs-Nr. RE-2024-0042",
			firm:    "2024_123", creditor: []string{"55 667 788", "RE-2024-0042"},
		},
		{
			name: "bare aktenzeichen in body is the creditor's",
			body: "Aktenzeichen: 7788990\nIhr Az.: MA-2024-0815",
			firm: "MA-2024-0815", creditor: []string{"7788990"},
		},
		{
			name: "your letter context",
			body: "bezugnehmend auf Ihr Schreiben vom 03.04.2024, Az. 4567/24, teilen wir mit …",
			firm: "4567/24", creditor: []string{},
		},
		{
			name:     "dedup and order, dates and words ignored",
			body:     "Kundennummer: 123456\nKunden-Nr. 123456\nUnser Zeichen: siehe oben\nRechnungsnummer vom 12.03.2024\nTicket #98765",
			creditor: []string{"123456", "98765"},
		},
		{
			name: "english",
			body: "Your reference: 12345/24\nOur reference: CL-2024-7781\nAccount number: 00998877",
			firm: "12345/24", creditor: []string{"CL-2024-7781", "00998877"},
		},
		{
			name:     "register lines are not references",
			body:     "Amtsgericht Köln HRB 12345, Steuernummer 214/5678/0912, Geschäftsführer Max Meier",
			creditor: []string{},
		},
		{
			name:    "unlabelled firm number in subject",
			subject: "RE: Mustermann, Max 12345/24",
			firm:    "12345/24", creditor: []string{},
		},
		{
			name:     "prefix and number split by a space",
			body:     "Unser Zeichen: INK 2024/77\nKassenzeichen 5.1234.567890.1",
			creditor: []string{"INK 2024/77", "5.1234.567890.1"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			refs := extractReferences(foldText(tc.subject), foldText(tc.body), nil)
			require.Equal(t, tc.firm, refs.firm)
			if tc.creditor == nil {
				tc.creditor = []string{}
			}
			require.Equal(t, tc.creditor, refs.creditor)
		})
	}
}
