package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreditorName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, fromName, fromEmail, want string
	}{
		{
			name: "signature company", fromEmail: "m.meier@muster-inkasso.de",
			body: "Die Forderung beträgt 100 €.\n\nMit freundlichen Grüßen\ni.A. Maria Meier\nMuster Inkasso GmbH\nHauptstraße 1 · 10115 Berlin\nTel. 030 123456",
			want: "Muster Inkasso GmbH",
		},
		{
			name: "sparkasse without legal form", fromEmail: "service@sparkasse-musterstadt.de",
			body: "Saldo 100 €.\n\nFreundliche Grüße\n\nIhre Sparkasse Musterstadt\nForderungsmanagement",
			want: "Sparkasse Musterstadt",
		},
		{
			name: "address line with separators", fromEmail: "info@x.de",
			body: "Hallo.\nBeste Grüße\nJonas Weber\nStadtwerke Neustadt GmbH | Am Markt 3 | 12345 Neustadt",
			want: "Stadtwerke Neustadt GmbH",
		},
		{
			name: "from name", fromName: "Beispiel Versicherung AG (Kundenservice)", fromEmail: "noreply@beispiel.de",
			body: "Die Beiträge sind offen.", want: "Beispiel Versicherung AG",
		},
		{
			name: "domain fallback", fromEmail: "forderungen@tele-muster.de",
			body: "Die offene Rechnung beträgt 49,99 €.", want: "Tele Muster",
		},
		{
			name: "freemail gives nothing", fromEmail: "max.handwerker@gmx.de",
			body: "Die Rechnung über 300 € ist offen.\nGruß Max", want: "",
		},
		{
			name: "register line skipped", fromEmail: "a@b-bank.de",
			body: "Mit freundlichen Grüßen\nKlaus Bauer\nSitz der Gesellschaft: Köln, Amtsgericht Köln HRB 1234\nB Bank AG",
			want: "B Bank AG",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, extractCreditor(tc.body, tc.fromName, tc.fromEmail))
		})
	}
}
