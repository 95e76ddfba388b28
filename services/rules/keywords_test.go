package rules

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// keywordPatterns are all the keywordRes of the package.
var keywordPatterns = map[string]keywordRe{
	"total": totalRe, "item": itemRe, "settlement": settlementRe, "payment": paymentRe,
	"ignore": ignoreRe, "reference": referenceRe, "claim": claimRe, "autoBody": autoBodyRe,
	"bounceBody": bounceBodyRe, "unsubscribe": unsubscribeRe, "debtWords": debtWordsRe,
	"companyMarker": companyMarkerRe, "companyWord": companyWordRe, "notCompanyLine": notCompanyLineRe,
}

func TestKeywordNeedlesExist(t *testing.T) {
	t.Parallel()
	for name, k := range keywordPatterns {
		require.NotEmpty(t, k.needles, "%s: no needle, the prefilter never skips", name)
	}
}

// TestKeywordPrefilterNeverMissesAMatch checks the one promise the needles
// make: whenever the regexp matches, the prefilter lets the text through,
// whatever the case, including runes that fold onto ASCII letters (Kelvin
// sign, long s) and the capital sharp s.
func TestKeywordPrefilterNeverMissesAMatch(t *testing.T) {
	t.Parallel()
	words := []string{"Gesamtforderung", "GESAMTFORDERUNG", "ſaldo", "\u212aosten", "Rückstand", "RÜCKSTAND",
		"Zinsen", "offen", "Vergleich", "Raten", "bezahlt", "Überwiesen", "STREITWERT", "Nr.", "Az", "Iban",
		"Betrag", "beträgt", "BETRÄGT", "i. H. v.", "owes", "ich bin", "nicht im Büro", "BÜRO", "außer Haus",
		"AUẞER HAUS", "user unknown", "550 5.1.1", "Unsubscribe", "Forderung", "your client", "GmbH", "e. V.",
		"Sparkasse", "Stadtwerke", "telefónica", "TELEFÓNICA", "@", "www.", "Von:", "sitz der", "Kelvin",
		" ", "\n", ".", ",", "-", ":", "€", "123,45", "\xff", "x", "und", "the", "Ä", "ä", "ß", "ẞ"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(words[r.IntN(len(words))])
			if r.IntN(3) > 0 {
				b.WriteByte(' ')
			}
		}
		s := b.String()
		text := foldText(s)
		for name, k := range keywordPatterns {
			if k.re.MatchString(s) {
				require.True(t, k.mayMatch(text), "%s matches %q but the prefilter refused it", name, s)
			}
		}
	}
}

func TestFoldCase(t *testing.T) {
	t.Parallel()
	require.Equal(t, "KOSTEN", foldCase("kosten"))
	require.Equal(t, "KOSTEN", foldCase("\u212aosten"))
	require.Equal(t, "SALDO", foldCase("ſaldo"))
	require.Equal(t, "RÜCKSTAND", foldCase("rückstand"))
	require.Equal(t, foldCase("ß"), foldCase("ẞ"))
	require.Equal(t, "ALREADY UPPER 1", foldCase("ALREADY UPPER 1"))
}
