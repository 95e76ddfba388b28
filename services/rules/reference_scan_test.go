package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scanLabelSeeds are texts that reach the corners of scanLabels: every
// label family, all eight blank runs a match may span, labels at the text
// start, after non-ASCII runes and inside words, odd runes and long runs.
var scanLabelSeeds = []string{
	"Ihr Akten nr  Kunde :  nr  :  \n  #  12345",
	"Ihr Akten nr  Kunde :  nr  :  \n  #  \n 12345",
	"Kundennummer: 12345 Vertragskonto 4711 Re.-Nr. 2024/1 Rg-Nr 7 Kd.-Nr.: 88",
	"Ärztenummer 55 Mieter-Nr. 77 Abo Nr 9 Versicherungsvertrag 12 Kundennummers 3",
	"„Unser Zeichen: INK-1“ –Ihr Zeichen 12345/24 (Az. 5/24) [Ref. 99]",
	"Az.Az. 12 Aktenzeichen\n12 Geschäftszeichen: GZ-1 GESCHÄFTSZEICHEN: GZ-2",
	"our reference no. 5 your file number 6 customer id X1 policy no 7 ref no 8",
	"ist noch 5 Tage offen, Abo no 1", "Nr. 5", "nr5", "a-b-c-nr 4", strings.Repeat("üa", 50) + "nummer 1",
	"\u212aundennummer 12345", "ſteuernummer 1", "STRAẞE 1 Kundennummer 2", "Kundennummer\xff 1",
	strings.Repeat("Kundennummer: 1 ", 400), strings.Repeat("-nummer", 2000),
	"Telefonnummer 0221 IBAN DE12 3456 Kundenkonto 4711-0815 SP",
	// Each of these fails when one guard of scanLabels is dropped: an odd
	// rune at a label's start, a boundary rune inside the previous match, a
	// letter beyond ASCII before a label, and the fallback resuming after a
	// match where only the regexp without ^ is right.
	"A\u212atenzeichen 12", "Az. 12-Ärztenummer 5", "xäKundennummer 5",
	"Kundennummer 1ünummer 2" + strings.Repeat("-nummer", 2000),
}

// TestScanLabelsMatchesRegexp compares scanLabels with refLabelRe on the
// corpus (attachment texts included) and the seeds.
func TestScanLabelsMatchesRegexp(t *testing.T) {
	t.Parallel()
	texts := append([]string{}, scanLabelSeeds...)
	for _, c := range loadCorpus(t) {
		texts = append(texts, c.text+c.html, prepareText(c.input.Subject))
		for _, a := range c.input.Attachments {
			texts = append(texts, a.Text, repairOCR(prepareText(a.Text)))
		}
	}
	for _, in := range corpusInputs(t) {
		texts = append(texts, prepareText(in.CleanedBody))
	}
	for _, s := range texts {
		require.Equal(t, regexpLabels(s, 0, maxRefMatches), scanLabels(foldText(s), maxRefMatches), "%q", s)
	}
}

// FuzzScanLabels compares scanLabels with refLabelRe on arbitrary text.
func FuzzScanLabels(f *testing.F) {
	for _, s := range scanLabelSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, got := regexpLabels(s, 0, maxRefMatches), scanLabels(foldText(s), maxRefMatches)
		if len(want) != len(got) {
			t.Fatalf("%q: got %d matches, want %d:\n%+v\n%+v", s, len(got), len(want), got, want)
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%q: match %d is %+v, want %+v", s, i, got[i], want[i])
			}
		}
	})
}
