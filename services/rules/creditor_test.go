package rules

import (
	"math/rand/v2"
	"regexp"
	"strings"
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
			name: "the ticket system's domain gives nothing", fromEmail: "support@lawfirm.zendesk.com",
			body: "Die Rechnung über 300 € ist offen.", want: "",
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
			got, _ := extractCreditor(tc.body, tc.fromName, tc.fromEmail, nil)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestSignatureShortcutsMatchRegexps compares closingLine, closingIndex and
// splitSegments with the plain regexps they stand in for.
func TestSignatureShortcutsMatchRegexps(t *testing.T) {
	t.Parallel()
	pieces := []string{"Mit freundlichen Grüßen", "mit  freundlichem\nGruß", "MFG", "mfg2", "Best regards", "Regards,",
		"i. A.", "i.V.", "Hochachtungsvoll", "ſincerely", "\u212aind regards", "Herr", "Max", "GmbH", " ", "  ", "\t", "\n",
		" - ", " · ", " • ", " – ", ",", "|", "(", "]", "<", "-", "·", "x", "ä", "\xff",
		"Ihr ", "your ", "Das", "the ", "Service-Team ", "Kundenservice ", "\u212aundenservice ", "ſervice team", "Team der ", "Forderungsmanagement", "Customer Service at "}
	segmentSplitRe := regexp.MustCompile(segmentSeparators)
	r := rand.New(rand.NewPCG(9, 10))
	for range 5000 {
		s := randomText(r, pieces, 1+r.IntN(20), "")
		want := len(s)
		if loc := closingRe.FindStringIndex(s); loc != nil {
			want = loc[0]
		}
		require.Equal(t, want, closingIndex(foldText(s)), "closingIndex(%q)", s)
		lines := append(splitLines(s), strings.TrimSpace(strings.ReplaceAll(s, "\n", " ")))
		wantLine := -1
		for i, l := range lines {
			if closingRe.MatchString(l) {
				wantLine = i
				break
			}
		}
		require.Equal(t, wantLine, closingLine(lines), "closingLine(%q)", lines)
		require.Equal(t, segmentSplitRe.Split(s, 8), splitSegments(s), "splitSegments(%q)", s)
		require.Equal(t, leadingFillerRe.ReplaceAllString(s, ""), trimLeadingFiller(s), "trimLeadingFiller(%q)", s)
	}
}
