package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// keywordPatterns are all the keywordRes of the package.
var keywordPatterns = map[string]keywordRe{
	"total": totalRe, "item": itemRe, "settlement": settlementRe, "payment": paymentRe,
	"ignore": ignoreRe, "reference": referenceRe, "claim": claimRe, "autoBody": autoBodyRe,
	"bounceBody": bounceBodyRe, "unsubscribe": unsubscribeRe, "debtWords": debtWordsRe,
	"companyMarker": companyMarkerRe, "companyWord": companyWordRe, "notCompanyLine": notCompanyLineRe,
	"autoSubject": autoSubjectRe, "bounceSubject": bounceSubjectRe, "bounceSender": bounceSenderRe, "footer": footerRe,
	"clientTrigger": clientTriggerRe, "subjectTrigger": subjectTriggerRe, "matter": matterRe, "honorific": honorificRe,
	"refusal": refusalRe, "openAfter": openAfterRe, "saldo": saldoRe, "inclusion": inclusionRe, "addOn": addOnRe,
	"salutation": salutationRe, "yourContext": yourContextRe, "closingWords": closingWordsRe,
	"recipientLine": recipientLineRe,
}

// TestKeywordPatternsListsAll keeps keywordPatterns complete: a keywordRe
// missing from it would escape every comparison with its regexp below.
func TestKeywordPatternsListsAll(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok && (id.Name == "mustKeywords" || id.Name == "mustLeadKeywords") {
					calls++
				}
			}
			return true
		})
	}
	patterns := map[string]bool{}
	for _, k := range keywordPatterns {
		patterns[k.re.String()] = true
	}
	require.Len(t, patterns, calls, "keywordPatterns should list every keyword pattern once")
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
		s := randomText(r, words, 1+r.IntN(8), " ")
		text := foldText(s)
		for name, k := range keywordPatterns {
			if k.re.MatchString(s) {
				require.True(t, k.mayMatch(text), "%s matches %q but the prefilter refused it", name, s)
			}
		}
	}
}

func TestFoldText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"kosten": "kosten", "KOSTEN": "kosten", "RÜCKSTAND": "rückstand", "ÀÉÎÕÜÞ×": "àéîõüþ×",
		"Straße 1": "straße 1", "€ 12,50": "€ 12,50",
	} {
		got := foldText(in)
		require.Equal(t, want, got.folded, in)
		require.Zero(t, got.odd, in)
	}
	for _, in := range []string{"\u212aosten", "ſaldo", "AUẞER", "\xff"} {
		require.NotZero(t, foldText(in).odd, in)
	}
}

// TestFoldedTextSlices checks that a slice is odd whenever its own fold
// would be, and that otherwise slicing a fold equals folding a slice.
func TestFoldedTextSlices(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "B", "Ä", "ä", "ß", "€", " ", "\u212a", "ſ", "\xff", "EUR", "x"}
	for range 2000 {
		s := randomText(r, pieces, r.IntN(8), "")
		i := r.IntN(len(s) + 1)
		j := i + r.IntN(len(s)-i+1)
		got, want := foldText(s).slice(i, j), foldText(s[i:j])
		require.Equal(t, want.s, got.s)
		require.Zero(t, want.odd&^got.odd, "%q[%d:%d] should be odd", s, i, j)
		if got.odd != oddAll { // a text cut inside a rune is never scanned
			require.Equal(t, want.folded, got.folded, "%q[%d:%d]", s, i, j)
		}
	}
}

// TestFoldTextUnifiesLatin1Cases checks what foldText and the scanner rely
// on: every rune (?i) equates with a Latin-1 rune folds to the same rune,
// or is one foldText marks odd.
func TestFoldTextUnifiesLatin1Cases(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < 0x100; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if oddFolds[f] == 0 {
				require.Equal(t, foldRune(r), foldRune(f), "%q and %q", r, f)
			}
		}
	}
}

// TestKeywordScanMatchesRegexp compares the branch scanner with the regexp
// on random texts made of the patterns' keywords and odd neighbours.
func TestKeywordScanMatchesRegexp(t *testing.T) {
	t.Parallel()
	words := []string{"Gesamtforderung", "gesamt", "GESAMTE", "Summe", "Zwischensumme", "offene Forderung", "offener",
		"Saldo", "saldo_", "Rückstand", "rückständig", "RÜCKSTÄNDE", "total", "totally", "balance due", "Kosten", "Zinsen",
		"Mehrwertsteuer", "Kfz-Steuer", "steuer", "Vergleichsangebot", "Raten", "rate", "Teilzahlungen", "abzgl.", "abzgl",
		"payments received", "payment received", "Nr.", "-Nr", "Kd-Nr", "nummer", "Az", "i. H. v.", "i.H.v.", "owes", "owed",
		"ich bin bis 12.3. nicht im Büro", "bin ich", "user unknown", "550 5.1.1", "Newsletter abbestellen", "your client",
		"gelesen:", "Gelesen:", "ooo", "oooh", "Von:", "von :", "www.", "@", "Tel", "Telefon", "hrb", "HRA", "9", "_", "x", "ü",
		"Abwesenheitsnotiz", "Automatische Antwort", "out of the office", "Undeliverable", "Mail Delivery System", "Postmaster",
		"Microsoft Outlook", "Read:", "Geschäftsführer", "Sitz der Gesellschaft", "ust-idnr",
		"Ihre Mandantin", "ihrem Kunden", "Unser Kunde", "Kunde:", "Kundin :", "Schuldner:", "Name:", "your client", "Mandant",
		"Mandantschaft", "our customer", "Mieterin", "in Sachen", "In der Sache", "betr.", "Betreff", "Herr", "Herrn", "Frau",
		"Hr.", "Mrs.", "Mr", "GmbH", "AG", "e.V.", "e. V.", "Ltd", "Sparkasse", "Kreissparkasse", "Stadtwerke", "Allianz Versicherung",
		"Versicherungsgruppe", "Agentur für Arbeit", "Telefónica", "\t", "3x", "ü-", "–",
		"lehnen wir ab", "keinen ", "kein", "nicht an", "unbezahlt", "overdue", "Kontostand", "inkl.", "einschließlich",
		"incl", "zzgl.", "plus", "mit", "samt", "in addition", "Sehr geehrte", "Hallo", "lieber", "Guten  Tag", "Dear", "Hi",
		"grüße", "Grüßen", "i. A.", "i.v.", "your  advisor", "Ihr", "IHRES", "yours", "Mit freundlichen Grüßen", "MFG",
		"Kind regards", "yours faithfully",
		"Saldovortrag", "Alter Saldo", "Endsaldo", "Kontosaldo", "Zahlungen",
		"Ratenzahlungen", "Zahlung vom", "Nettobetrag", "amount payable", "Kanzlei", "Rechtsanwälte", "Schuldnerberatung",
		" ", "  ", "\n", ".", ",", "-", ":", "€", "123,45", "é", "Ä"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		s := randomText(r, words, 1+r.IntN(10), " \n-.,")
		text := foldText(s)
		for name, k := range keywordPatterns {
			require.Equal(t, toSpans(k.re.FindAllStringIndex(s, -1)), k.findAll(text), "%s on %q", name, s)
			require.Equal(t, toSpans(k.re.FindAllStringIndex(s, 2)), k.findN(text, 2), "%s on %q", name, s)
			require.Equal(t, k.re.MatchString(s), k.match(text), "%s on %q", name, s)
		}
	}
}

// randomText joins n pieces picked by r, each followed, two times in three,
// by a byte of seps when there are any. The tests that compare a shortcut
// with the regexp it stands in for feed it such texts.
func randomText(r *rand.Rand, pieces []string, n int, seps string) string {
	var b strings.Builder
	for range n {
		b.WriteString(pieces[r.IntN(len(pieces))])
		if seps != "" && r.IntN(3) > 0 {
			b.WriteByte(seps[r.IntN(len(seps))])
		}
	}
	return b.String()
}

// FuzzKeywordScan compares a keyword scanner, picked by which, with its
// regexp on arbitrary text. One pattern per run keeps runs short, which
// the fuzzer's minimisation of new inputs needs.
func FuzzKeywordScan(f *testing.F) {
	names := slices.Sorted(maps.Keys(keywordPatterns))
	for i := range names {
		f.Add(uint8(i), "Gesamtforderung inkl. Zinsen: 1.234,56 € Ihre Mandantin Frau Müller, Mit freundlichen Grüßen")
		f.Add(uint8(i), "Hauptforderung 100 € zzgl. Mehrwertsteuer; abzgl. Teilzahlungen; \u212aosten; STRAẞE; Kd-Nr.")
		f.Add(uint8(i), "Von: x@y.de\nBetreff: AW: Abwesenheitsnotiz\nMicrosoft Outlook\nMuster GmbH · Sparkasse")
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		name := names[int(which)%len(names)]
		k, text := keywordPatterns[name], foldText(s)
		if want, got := toSpans(k.re.FindAllStringIndex(s, -1)), k.findAll(text); !slices.Equal(want, got) {
			t.Fatalf("%s on %q: got %v, want %v", name, s, got, want)
		}
		if want, got := k.re.MatchString(s), k.match(text); want != got {
			t.Fatalf("%s on %q: match %v, want %v", name, s, got, want)
		}
	})
}
