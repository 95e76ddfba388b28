package rules

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// extractWith runs the extractor on a body and attachment texts, the
// attachments at positions 0, 1, ….
func extractWith(t *testing.T, body string, atts ...string) models.ExtractedData {
	t.Helper()
	in := models.EmailInput{FromEmail: "forderung@muster-inkasso.de", Subject: "AW: Forderungsanfrage", CleanedBody: body}
	for i, a := range atts {
		in.Attachments = append(in.Attachments, models.AttachmentText{Position: i, Filename: "anlage.pdf", Text: a})
	}
	got, err := New().Extract(context.Background(), in)
	require.NoError(t, err)
	return got
}

func requireAmount(t *testing.T, want float64, got models.ExtractedData) {
	t.Helper()
	require.NotNil(t, got.DebtAmount, "evidence %+v", got.AmountEvidence)
	require.InDelta(t, want, *got.DebtAmount, 0.001, "evidence %+v", got.AmountEvidence)
}

const breakdownWithTotal = `Forderungsaufstellung
Hauptforderung                          1.000,00 €
Zinsen                                    112,40 €
Kosten                                    100,00 €
Gesamtforderung                         1.212,40 €`

func TestAttachmentTotalBeatsUnlabelledBodyAmount(t *testing.T) {
	t.Parallel()
	got := extractWith(t, "Bitte überweisen Sie 450,00 € auf unser Konto. Die Aufstellung liegt bei.", breakdownWithTotal)
	requireAmount(t, 1212.40, got)
	require.Equal(t, "attachment:0", got.Sources[models.FieldDebtAmount])
	require.False(t, got.SourcesDisagree, "an unlabelled amount does not disagree")
	require.Len(t, got.AmountEvidence, 2)
	require.Equal(t, models.AmountEvidence{Source: "body", Amount: 450, Excerpt: "Bitte überweisen Sie 450,00 € auf unser Konto. Die Aufstellung liegt bei."}, got.AmountEvidence[0])
	require.Equal(t, models.AmountEvidence{Source: "attachment:0", Filename: "anlage.pdf", Amount: 1212.40,
		Label: "Gesamtforderung", Excerpt: "Gesamtforderung 1.212,40 €", Chosen: true}, got.AmountEvidence[1])
	require.Contains(t, got.Summary, "aus dem Anhang „anlage.pdf“")
}

func TestLabelledTotalsThatDifferDisagree(t *testing.T) {
	t.Parallel()
	got := extractWith(t, "Die Gesamtforderung beträgt 1.500,00 €.", breakdownWithTotal)
	requireAmount(t, 1212.40, got) // the attachment's total stays preferred
	require.True(t, got.SourcesDisagree)
	require.LessOrEqual(t, got.Confidence, 0.5)
	var amounts []float64
	for _, e := range got.AmountEvidence {
		amounts = append(amounts, e.Amount)
		require.NotEmpty(t, e.Label)
	}
	require.ElementsMatch(t, []float64{1500, 1212.40}, amounts)
	require.Contains(t, got.Summary, "weichen voneinander ab")

	// A claim in the body counts as a total; one cent apart is the same.
	got = extractWith(t, "Die Forderung gegen Ihren Mandanten beträgt 1.212,41 €.", breakdownWithTotal)
	require.False(t, got.SourcesDisagree)
	got = extractWith(t, "Die Forderung gegen Ihren Mandanten beträgt 1.212,42 €.", breakdownWithTotal)
	require.True(t, got.SourcesDisagree)

	// Two attachments: the first one's total is taken, the pair disagrees.
	got = extractWith(t, "siehe Anhang", breakdownWithTotal, "Forderungsstand per 31.03.2024: 1.100,00 EUR")
	requireAmount(t, 1212.40, got)
	require.Equal(t, "attachment:0", got.Sources[models.FieldDebtAmount])
	require.True(t, got.SourcesDisagree)
}

func TestLabelledTotalsThatAgree(t *testing.T) {
	t.Parallel()
	got := extractWith(t, "Die Restforderung beträgt 1.212,40 €.", breakdownWithTotal)
	requireAmount(t, 1212.40, got)
	require.False(t, got.SourcesDisagree)
	require.Equal(t, "attachment:0", got.Sources[models.FieldDebtAmount])

	// A body total beats an attachment that gives only items.
	got = extractWith(t, "Die Restforderung beträgt 980,00 €.", "Hauptforderung | 900,00\nZinsen | 80,00")
	requireAmount(t, 980, got)
	require.Equal(t, "body", got.Sources[models.FieldDebtAmount])
}

// TestTableTotalIsTheTotalRow: the total is the row that says so, not a sum
// the rules compute and not the largest figure.
func TestTableTotalIsTheTotalRow(t *testing.T) {
	t.Parallel()
	for name, att := range map[string]string{
		"xlsx rows":     "Position | Betrag\nHauptforderung | 1.000,00\nZinsen | 112,40\nKosten | 100,00\nGesamt | 1.212,40",
		"xlsx raw":      "Hauptforderung | 1000 |\nZinsen | 112.4 |\nKosten | 100 |\nGesamt | 1212.4 |",
		"layout":        "Hauptforderung            1.000,00 EUR        Stand 15.04.2024\nZinsen                      112,40 EUR\nKosten                      100,00 EUR\n                         ------------\nGesamt                    1.212,40 EUR",
		"eur before":    "Hauptforderung | EUR 1.000,00\nZinsen | EUR 112,40\nKosten | EUR 100,00\nGesamt | EUR 1.212,40",
		"larger figure": "Streitwert 5.000,00 €\nHauptforderung 1.000,00 €\nZinsen 112,40 €\nKosten 100,00 €\nGesamt 1.212,40 €\nDarlehen ursprünglich 4.000,00 €",
		"dot leaders":   "Hauptforderung . . . . . 1.000,00 EUR\nZinsen . . . . . . . . . 112,40 EUR\nGesamtforderung . . . . 1.2l2,4O EUR",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			requireAmount(t, 1212.40, extractWith(t, "siehe Anhang", att))
		})
	}
}

// TestNoAmountMeansNone: an attachment without a stated total gives no
// amount: no sum of its components, no largest number, no default.
func TestNoAmountMeansNone(t *testing.T) {
	t.Parallel()
	for name, att := range map[string]string{
		"components only":  "Hauptforderung | 1.000,00\nZinsen | 112,40\nKosten | 100,00",
		"installments":     "Ratenplan\nRate 1 fällig 01.06.2024: Rate 50,00 €\nRate 2 fällig 01.07.2024: Rate 50,00 €\nDie monatliche Rate beträgt 50,00 €.",
		"unlabelled":       "Bestellung 4711 vom 02.02.2024        189,90 €\nBestellung 4712 vom 20.02.2024         89,95 €",
		"numbers not cash": "IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX\nTelefon 0221 123456-78 · Fax 0221 / 123 45 99\nDatum 15.04.2024 · Seite 1 von 2 · 50667 Köln\nAktenzeichen 512344_71020 · Kundennummer 1.234.567",
		"letter":           "Wir bitten um Übersendung einer Vollmacht Ihres Mandanten.",
		"credits":          "Gutschrift vom 15.03.2024 -200,00 €\nZahlung vom 02.04.2024 100,00 €\nSumme der Zahlungen 300,00 €",
		"empty":            " \n\f\n ",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := extractWith(t, "siehe Anhang", att)
			require.Nil(t, got.DebtAmount, "evidence %+v", got.AmountEvidence)
			require.Empty(t, got.AmountEvidence)
			require.NotContains(t, got.Sources, models.FieldDebtAmount)
			require.True(t, got.IsCreditorReply)
		})
	}
}

func TestCreditsAndPaymentsAreNotTheTotal(t *testing.T) {
	t.Parallel()
	att := `Rechnung Dezember 2023                430,00
Rechnung Januar 2024                  430,00
Gutschrift Störung Dezember          -200,00
Zahlung vom 02.04.2024                100,00
Summe der Zahlungen                   300,00
Offener Betrag                        560,00`
	requireAmount(t, 560, extractWith(t, "siehe Anhang", att))
}

func TestColumnBalance(t *testing.T) {
	t.Parallel()
	att := `Kontoauszug | Muster Bank AG | | |
Buchungstag | Valuta | Buchungstext | Betrag | Saldo (EUR)
02.01.2024 | 02.01.2024 | Saldovortrag | | -1.120,45
05.01.2024 | 05.01.2024 | Lastschrift | -85,00 | -1.205,45
15.01.2024 | 15.01.2024 | Gutschrift | 450,00 | -755,45`
	got := extractWith(t, "Anbei der Kontoauszug.", att)
	requireAmount(t, 755.45, got)
	require.Equal(t, "Saldo (EUR)", got.AmountEvidence[0].Label)
	require.Equal(t, "15.01.2024 | 15.01.2024 | Gutschrift | 450,00 | -755,45", got.AmountEvidence[0].Excerpt)

	// A labelled total row wins over the column; a table that ends before
	// its balance column is read gives nothing.
	requireAmount(t, 700, extractWith(t, "x", att+"\n\nNeuer Saldo: -700,00 EUR"))
	require.Nil(t, extractWith(t, "x", "Buchungstag | Text | Saldo\n02.01.2024 | Saldovortrag").DebtAmount)
	// Each invoice's open amount is no running balance.
	require.Nil(t, extractWith(t, "x", "Rechnung | Datum | Betrag | offen\nR-1 | 01.01.2024 | 100,00 | 100,00\nR-2 | 01.02.2024 | 50,00 | 50,00").DebtAmount)
}

func TestIsCreditorReplyFromAttachment(t *testing.T) {
	t.Parallel()
	body := "Ihr Dokument steht im Anhang bereit.\nSie möchten keine E-Mails mehr? Hier abmelden."
	require.False(t, extractWith(t, body).IsCreditorReply, "a mailing without debt words")
	got := extractWith(t, body, "Ihre Mandantin schuldet uns: Gesamtforderung 279,85 €")
	require.True(t, got.IsCreditorReply, "the attachment speaks of the debt")
	requireAmount(t, 279.85, got)

	got = extractWith(t, "siehe Anhang", breakdownWithTotal)
	require.True(t, got.IsCreditorReply)
	require.GreaterOrEqual(t, got.Confidence, 0.9)
}

func TestAttachmentCaseNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		att, firm string
		creditor  []string
	}{
		{"Aktenzeichen: 512344_71020", "512344_71020", []string{}},
		{"Ihr Zeichen 417_26\nUnser Zeichen: INK-2024-77", "417_26", []string{"INK-2024-77"}},
		{"Az.: 355 / 26", "355/26", []string{}},
		{"Az. 355/ 26, Kundennummer 4711-0815", "355/26", []string{"4711-0815"}},
		{"Ihr Az. 355/26\nVertragsnummer: V-2019-0815", "355/26", []string{"V-2019-0815"}},
		{"Ihr Zeichen | 417_26 |\nKundennummer | 300455667 |", "417_26", []string{"300455667"}},
		{"laut Rechnung 1.980,00 € und Rechnung 2023-117", "", []string{"2023-117"}},
	}
	for _, tc := range cases {
		t.Run(tc.att, func(t *testing.T) {
			t.Parallel()
			got := extractWith(t, "siehe Anhang", tc.att)
			require.Equal(t, tc.firm, got.ClientAktenzeichen)
			require.Equal(t, tc.creditor, got.ReferenceNumbers)
			if tc.firm != "" {
				require.Equal(t, "attachment:0", got.Sources[models.FieldClientAktenzeichen])
			}
		})
	}
	// The body's numbers come first; the attachment adds what is new.
	got := extractWith(t, "Ihr Zeichen: 1234/24\nUnser Zeichen: A-1", "Ihr Zeichen 417_26\nUnser Zeichen: A-1\nKundennummer 99887766")
	require.Equal(t, "1234/24", got.ClientAktenzeichen)
	require.Equal(t, "body", got.Sources[models.FieldClientAktenzeichen])
	require.Equal(t, []string{"A-1", "99887766"}, got.ReferenceNumbers)
	require.Equal(t, "body", got.Sources[models.FieldReferenceNumbers])
}

func TestNamesFromAttachment(t *testing.T) {
	t.Parallel()
	letter := "Muster Inkasso GmbH · Hauptstr. 1 · 10115 Berlin\nKanzlei Berger & Kollegen PartG mbB\nHerrn Rechtsanwalt Dr. Tobias Berger\n\nBetreff: Ihr Mandant Max Mustermann\n\nGesamtforderung 1.212,40 €"
	got := extractWith(t, "siehe Anhang", letter)
	require.Equal(t, "Mustermann, Max", got.ClientName)
	require.Equal(t, "attachment:0", got.Sources[models.FieldClientName])
	// The sender's domain is the last resort: the letterhead comes first.
	require.Equal(t, "Muster Inkasso GmbH", got.CreditorName)
	require.Equal(t, "attachment:0", got.Sources[models.FieldCreditorName])

	// The body's names win.
	got = extractWith(t, "Schuldnerin: Erika Musterfrau\n\nMit freundlichen Grüßen\nBeispiel Bank AG", letter)
	require.Equal(t, "Musterfrau, Erika", got.ClientName)
	require.Equal(t, "body", got.Sources[models.FieldClientName])
	require.Equal(t, "Beispiel Bank AG", got.CreditorName)
	require.Equal(t, "body", got.Sources[models.FieldCreditorName])

	// Without a letterhead the sender's domain names the creditor.
	got = extractWith(t, "siehe Anhang", "Gesamtforderung 1.212,40 €")
	require.Equal(t, "Muster Inkasso", got.CreditorName)
	require.Equal(t, models.SourceSender, got.Sources[models.FieldCreditorName])
}

func TestAttachmentBounds(t *testing.T) {
	t.Parallel()
	// A long statement: thousands of bookings, the total at its end.
	var b strings.Builder
	for i := range 6000 {
		b.WriteString("01.02.2024 | Buchung " + strings.Repeat("x", i%7) + " | 12,34 |\n")
	}
	b.WriteString("Gesamtforderung | 4.321,00 |\n")
	require.Less(t, b.Len(), maxAttachmentScanBytes)
	requireAmount(t, 4321, extractWith(t, "siehe Anhang", b.String()))

	// Many attachments: only the first maxAttachments are read, evidence stays short.
	atts := make([]string, maxAttachments+5)
	for i := range atts {
		atts[i] = "Gesamtforderung 1.000,00 €"
	}
	atts[len(atts)-1] = "Gesamtforderung 9.999,00 €"
	got := extractWith(t, "Die Gesamtforderung beträgt 1.000,00 €.", atts...)
	requireAmount(t, 1000, got)
	require.False(t, got.SourcesDisagree, "the differing one lies past the bound")
	require.Len(t, got.AmountEvidence, maxEvidence)
}

func TestRepairOCR(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Gesamt 1.2l2,4O EUR":       "Gesamt 1.212,40 EUR",
		"Summe: l.234,56 €":         "Summe: 1.234,56 €",
		"EUR 2.O45,5O":              "EUR 2.045,50",
		"55,5O €, 1,2O0.00":         "55,50 €, 1,200.00",
		"lhre Mandantin lhnen lhr":  "Ihre Mandantin Ihnen Ihr",
		"1O,OO und OO,1O":           "1O,OO und OO,1O", // more letters than digits: left alone
		"Soll 100,00 Ilse lO.O5":    "Soll 100,00 Ilse lO.O5",
		"Kohl,lO 17.O4.2O24 4l7_26": "Kohl,lO 17.O4.2O24 4l7_26",
		"Zahl 12O5 wohl":            "Zahl 12O5 wohl",
		"€1.2l2,40":                 "€1.212,40",
	} {
		require.Equal(t, want, repairOCR(in), in)
		require.Len(t, repairOCR(in), len(in))
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	text := "Gesamtforderung:\n1.234,56 €\nweiter"
	require.Equal(t, "Gesamtforderung: 1.234,56 €", excerpt(text, strings.Index(text, "1.234")))
	long := strings.Repeat("Wort ", 100) + "Gesamtforderung 1.234,56 € " + strings.Repeat("danach ", 100)
	ex := excerpt(long, strings.Index(long, "1.234"))
	require.LessOrEqual(t, utf8.RuneCountInString(ex), maxExcerptRunes)
	require.Contains(t, ex, "Gesamtforderung 1.234,56 €")
	require.True(t, strings.HasPrefix(ex, "…") && strings.HasSuffix(ex, "…"), ex)
	require.Equal(t, "Saldo 1 2", excerpt("Saldo\t   1 \x00  2", 9))
}
