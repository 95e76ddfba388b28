package rules

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAmountFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text string
		want float64
	}{
		{"Gesamtforderung: 1.234,56 €", 1234.56},
		{"Gesamtforderung: EUR 1.234,56", 1234.56},
		{"Gesamtforderung: 1.234,56 EUR", 1234.56},
		{"Die Restschuld beträgt 2.500 EUR.", 2500},
		{"Total amount due: 1,234.56 EUR", 1234.56},
		{"Summe € 1.234,56", 1234.56},
		{"Gesamtbetrag 1234,56 Euro", 1234.56},
		{"Gesamtforderung 1.234,- €", 1234},
		{"Gesamtforderung 1.234,-- €", 1234},
		{"Gesamtforderung: 1.234,56", 1234.56},
		{"Restschuld: €1,234.56", 1234.56},
		{"Outstanding balance: EUR 12,345.00", 12345},
		{"Offener Saldo 987,65€", 987.65},
		{"Saldo: 50EUR", 50},
		{"Die Gesamtforderung beläuft sich auf 1.234.567,89 €.", 1234567.89},
		{"Restschuld: 12.50 EUR", 12.5},
		{"Forderungshöhe: 0,99 €", 0.99},
		{"Gesamtforderung\n1.234,56 €", 1234.56},
		{"Gesamtforderung:\n1.234,56", 1234.56},
		{"Der aktuelle Kontostand beträgt -1.234,56 EUR.", 1234.56},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			got, basis := extractAmount(foldText(prepareText(tc.text)))
			require.NotNil(t, got, "basis %d", basis)
			require.InDelta(t, tc.want, *got, 0.001)
		})
	}
}

func TestRejectsNonAmounts(t *testing.T) {
	t.Parallel()
	cases := []string{
		"Tel. 0221 123456-78, Fax 0221 123456-99",
		"Telefon: +49 (0) 30 / 12 34 56 78",
		"IBAN: DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
		"Musterstraße 12, 50667 Köln",
		"Ihr Schreiben vom 12.03.2024, Az. 12345/24",
		"Aktenzeichen MA-2024-0815, Vorgang 2024_123",
		"Kundennummer: 1234567, Vertragsnummer 9876543",
		"Zinssatz 5,12 % p.a. seit dem 01.01.2023",
		"Gesamtforderung: 0,00 €",
		"Gesamtforderung: 99.999.999,00 €",
		"Saldo ausgeglichen, Restschuld 0 EUR",
		"Die Frist endet am 31.12.2024 um 12:00 Uhr.",
		"Forderungsnummer 1.234.567",
	}
	for _, text := range cases {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			got, _ := extractAmount(foldText(prepareText(text)))
			require.Nil(t, got)
		})
	}
}

func TestPrefersTotalOverItems(t *testing.T) {
	t.Parallel()
	text := `Die Forderung setzt sich wie folgt zusammen:
Hauptforderung 1.000,00 €
Zinsen 45,20 €
Mahngebühren 10,00 €
Inkassokosten 120,00 €
Gesamtforderung 1.175,20 €
Bitte beachten Sie, dass weitere Zinsen anfallen.`
	got, basis := extractAmount(foldText(text))
	require.NotNil(t, got)
	require.InDelta(t, 1175.20, *got, 0.001)
	require.Equal(t, basisTotal, basis)

	// Total first, items after.
	text = "Die Gesamtforderung inkl. Zinsen und Kosten beträgt 2.345,67 €. Davon entfallen 2.000,00 € auf die Hauptforderung, 300,00 € auf Zinsen und 45,67 € auf Kosten."
	got, _ = extractAmount(foldText(text))
	require.NotNil(t, got)
	require.InDelta(t, 2345.67, *got, 0.001)
}

func TestSumsBreakdownWithoutTotal(t *testing.T) {
	t.Parallel()
	text := `Hauptforderung: 500,00 EUR
Verzugszinsen: 23,45 EUR
Mahnkosten: 5,00 EUR
Inkassokosten: 70,20 EUR
abzgl. Zahlung vom 01.02.2024: -50,00 EUR`
	got, basis := extractAmount(foldText(text))
	require.NotNil(t, got)
	require.InDelta(t, 548.65, *got, 0.001)
	require.Equal(t, basisSum, basis)
}

func TestSettlementIsNotTheClaim(t *testing.T) {
	t.Parallel()
	got, basis := extractAmount(foldText("Wir bieten Ihrem Mandanten eine Ratenzahlung von 50 € monatlich an."))
	require.Nil(t, got)
	require.Equal(t, basisSettle, basis)

	got, _ = extractAmount(foldText("Die Restforderung beträgt 3.200,00 €. Zur Abgeltung sind wir bereit, einen Betrag von 1.800,00 € zu akzeptieren."))
	require.NotNil(t, got)
	require.InDelta(t, 3200, *got, 0.001)

	got, _ = extractAmount(foldText("Vergleichsangebot: Gegen Zahlung von 900 € betrachten wir die Angelegenheit als erledigt."))
	require.Nil(t, got)

	got, _ = extractAmount(foldText("Ihr Vergleichsangebot lehnen wir ab. Die Forderung beträgt weiterhin 1.500,00 €."))
	require.NotNil(t, got)
	require.InDelta(t, 1500, *got, 0.001)
}

func TestClaimPlusAddOns(t *testing.T) {
	t.Parallel()
	got, basis := extractAmount(foldText("Ihre Mandantin schuldet uns noch 500,00 €. Hinzu kommen Mahngebühren von 10,00 € und Zinsen von 12,34 €."))
	require.NotNil(t, got)
	require.InDelta(t, 522.34, *got, 0.001)
	require.Equal(t, basisSum, basis)
}

func TestBareAmountIsLowConfidence(t *testing.T) {
	t.Parallel()
	got, basis := extractAmount(foldText("Bitte überweisen Sie 89,90 € auf unser Konto."))
	require.NotNil(t, got)
	require.InDelta(t, 89.90, *got, 0.001)
	require.Less(t, confidence(replyCreditor, false, basis, false, false), 0.5)
}

func TestFormatEuro(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1.234,56 €", formatEuro(1234.56))
	require.Equal(t, "0,99 €", formatEuro(0.99))
	require.Equal(t, "1.000.000,00 €", formatEuro(1e6))
	require.Equal(t, "100,00 €", formatEuro(100))
}

// TestFindNumbersMatchesRegexp compares findNumbers with the unanchored
// regexp on random texts of number pieces.
func TestFindNumbersMatchesRegexp(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(numberPattern)
	pieces := []string{"1", "12", "123", "1234", "0", ".", ",", "-", "--", "–", "—", "€", " ", "a", ".5", ",50", ",-", "\xe2", "\x80"}
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		s := randomText(r, pieces, 1+r.IntN(12), "")
		require.Equal(t, toSpans(re.FindAllStringIndex(s, -1)), findNumbers(s), "%q", s)
	}
}

// TestUnitPriceTailMatchesRegexp compares the tail-only match with the
// regexp on the whole label.
func TestUnitPriceTailMatchesRegexp(t *testing.T) {
	t.Parallel()
	pieces := []string{"je", "JE", "jeweils", "à", "À", "a", "pro", "each", "per", "zu je", "zu", "x", " ", "  ", "ä", "€", "\xff", "ſ", "1", ":"}
	r := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		s := randomText(r, pieces, 1+r.IntN(8), "")
		require.Equal(t, unitPriceRe.re.MatchString(s), unitPriceRe.MatchString(s), "%q", s)
	}
}
