package parser

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// parseCase is one email body and what the cleaned text must and must not
// contain.
type parseCase struct {
	name    string
	html    string
	text    string
	want    []string // substrings that must survive
	notWant []string // substrings that must be gone
	exact   *string  // whole expected text, when the layout matters
}

func ptr(s string) *string { return &s }

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Parse(tc.html, tc.text)
			if tc.exact != nil {
				require.Equal(t, *tc.exact, r.Text)
			}
			for _, w := range tc.want {
				require.Contains(t, r.Text, w)
			}
			for _, w := range tc.notWant {
				require.NotContains(t, r.Text, w)
			}
			require.True(t, utf8.ValidString(r.Text))
			require.Equal(t, EstimateTokens(r.Text), r.TokensAfter)
			require.LessOrEqual(t, r.TokensAfter, max(r.TokensBefore, 1))
		})
	}
}

func parseCases() []parseCase {
	var cases []parseCase
	cases = append(cases, plainCases()...)
	cases = append(cases, historyCases()...)
	cases = append(cases, forwardCases()...)
	cases = append(cases, zendeskCases()...)
	cases = append(cases, boilerplateCases()...)
	cases = append(cases, amountRuleCases()...)
	cases = append(cases, htmlCases()...)
	cases = append(cases, hostileCases()...)
	return cases
}

func plainCases() []parseCase {
	return []parseCase{
		{
			name:  "empty input",
			exact: ptr(""),
		},
		{
			name:  "white space only",
			html:  " \n\t ",
			text:  "\r\n \u00a0\n",
			exact: ptr(""),
		},
		{
			name: "plain reply with signature",
			text: "Sehr geehrte Damen und Herren,\r\n\r\n\r\n\r\nzu Ihrem Mandanten Max Mustermann, Az. 2025/123,\r\n" +
				"beträgt die Forderung 1.234,56 €.\r\n\r\nMit freundlichen Grüßen\r\n\r\n--\r\nErika Beispiel\r\nMuster Inkasso GmbH\r\nTel. 030 1234567\r\n",
			exact: ptr("Sehr geehrte Damen und Herren,\n\nzu Ihrem Mandanten Max Mustermann, Az. 2025/123,\n" +
				"beträgt die Forderung 1.234,56 €.\n\nMit freundlichen Grüßen\n\n--\nErika Beispiel\nMuster Inkasso GmbH\nTel. 030 1234567"),
		},
		{
			name:  "white space normalised",
			text:  "  Die   Forderung\tbeträgt \u00a0EUR\u00a0500,00 .\u200b  \n\n\n\nGruß  ",
			exact: ptr("Die Forderung beträgt EUR 500,00 .\n\nGruß"),
		},
		{
			name:    "html without text falls back to plain",
			html:    "<html><head><style>p{}</style></head><body><div>&nbsp;</div><img src=x></body></html>",
			text:    "Offener Betrag: 89,90 EUR\nStadtwerke Musterstadt",
			want:    []string{"Offener Betrag: 89,90 EUR", "Stadtwerke Musterstadt"},
			notWant: []string{"<", "p{}"},
		},
		{
			name:  "html body that is really plain text keeps its lines",
			html:  "Guten Tag,\nRestschuld 250,00 €.\nGruß A-Bank",
			exact: ptr("Guten Tag,\nRestschuld 250,00 €.\nGruß A-Bank"),
		},
	}
}

func historyCases() []parseCase {
	return []parseCase{
		{
			name: "german attribution cuts the quoted mail below",
			text: "Die Forderung beträgt 312,40 €.\n\nMit freundlichen Grüßen\nTelekom Deutschland GmbH\n\n" +
				"Am 03.03.2025 um 10:00 schrieb Kanzlei Schmidt <info@kanzlei-schmidt.de>:\n" +
				"Sehr geehrte Damen und Herren, bitte nennen Sie uns die Forderung gegen Herrn Max Mustermann.",
			want:    []string{"312,40 €", "Telekom Deutschland GmbH"},
			notWant: []string{"schrieb", "bitte nennen Sie"},
		},
		{
			name: "wrapped gmail attribution and > quote, reply below kept",
			text: "Hello,\n\nOn Mon, Mar 3, 2025 at 10:00 AM Kanzlei Schmidt <\ninfo@kanzlei-schmidt.de> wrote:\n" +
				"> Please state the outstanding balance\n>\n> of Mr Mustermann.\n\nThe balance is EUR 1,250.00.\n\nBest regards\nAcme Collections Ltd",
			want:    []string{"Hello,", "The balance is EUR 1,250.00.", "Acme Collections Ltd"},
			notWant: []string{"wrote:", "Please state", "> of Mr"},
		},
		{
			name:    "interleaved > quotes are removed",
			text:    "> Wie hoch ist die Forderung?\nSie beträgt 99,00 €.\n> Gibt es einen Titel?\nJa, Vollstreckungsbescheid vom 01.02.2024.",
			exact:   ptr("Sie beträgt 99,00 €.\nJa, Vollstreckungsbescheid vom 01.02.2024."),
			notWant: []string{"Wie hoch"},
		},
		{
			name: "original message separator",
			text: "Forderung: 75,00 EUR\nGruß\nVodafone GmbH\n\n-----Original Message-----\nFrom: Kanzlei\nSent: Monday, March 3, 2025 10:00 AM\n" +
				"To: Vodafone\nSubject: Anfrage\n\nBitte Forderung mitteilen.",
			want:    []string{"Forderung: 75,00 EUR", "Vodafone GmbH"},
			notWant: []string{"Original Message", "Bitte Forderung mitteilen", "Subject"},
		},
		{
			name:    "german original message separator",
			text:    "Anbei die Aufstellung, Gesamtsumme 2.345,67 €.\n\n-----Ursprüngliche Nachricht-----\nVon: Kanzlei\nGesendet: Montag, 3. März 2025 10:00\nAn: Bank\nBetreff: Anfrage\n\nAlter Text",
			want:    []string{"2.345,67 €"},
			notWant: []string{"Ursprüngliche", "Alter Text", "Gesendet"},
		},
		{
			name: "outlook von/gesendet block after underscore line",
			text: "Guten Tag,\nder Saldo beträgt 640,00 €.\nFreundliche Grüße\nSparkasse Musterstadt\n\n________________________________\n" +
				"Von: Kanzlei Schmidt <info@kanzlei-schmidt.de>\nGesendet: Montag, 3. März 2025 10:00\nAn: service@sparkasse.de\n" +
				"Betreff: Anfrage Max Mustermann\n\nSehr geehrte Damen und Herren ...",
			exact: ptr("Guten Tag,\nder Saldo beträgt 640,00 €.\nFreundliche Grüße\nSparkasse Musterstadt"),
		},
		{
			name: "outlook english from/sent block",
			text: "Outstanding: £ 410.00\nKind regards, Jane\n\nFrom: Law Firm <info@firm.example>\nSent: 03 March 2025 10:00\n" +
				"To: Jane\nSubject: RE: balance\n\nDear Jane, please confirm.",
			want:    []string{"£ 410.00", "Kind regards, Jane"},
			notWant: []string{"From:", "please confirm"},
		},
		{
			name: "gmx header starting with gesendet",
			text: "Restforderung 1.020,00 Euro.\n\nGesendet: Montag, 03. März 2025 um 10:00 Uhr\nVon: \"Kanzlei\" <info@kanzlei.de>\n" +
				"An: forderung@example.de\nBetreff: Anfrage\nBitte um Auskunft.",
			exact: ptr("Restforderung 1.020,00 Euro."),
		},
		{
			name:  "one-line outlook header",
			text:  "Betrag 55,00 €\n\nVon: Kanzlei Gesendet: Montag, 3. März 2025 10:00 An: Inkasso Betreff: Anfrage\nAlte Nachricht",
			exact: ptr("Betrag 55,00 €"),
		},
		{
			name:  "yahoo plain attribution with geschrieben",
			text:  "Rest 0,00 €.\n\nAm Montag, 3. März 2025, 10:00:00 MEZ hat Kanzlei Schmidt <k@kanzlei.de> geschrieben:\n\nAnfrage",
			exact: ptr("Rest 0,00 €."),
		},
		{
			name:  "gmail plain text bold header fields",
			text:  "Saldo 1,00 €\n\n*From:* Kanzlei <k@kanzlei.de>\n*Sent:* Monday, March 3, 2025 10:00 AM\n*To:* x@y.de\n*Subject:* Anfrage\n\nalt",
			exact: ptr("Saldo 1,00 €"),
		},
		{
			name:  "header fields inside a letter are not history",
			text:  "Rechnung vom: 03.03.2025\nVon: Hausverwaltung Müller\nBetrag offen: 450,00 €",
			exact: ptr("Rechnung vom: 03.03.2025\nVon: Hausverwaltung Müller\nBetrag offen: 450,00 €"),
		},
	}
}

func forwardCases() []parseCase {
	return []parseCase{
		{
			name: "gmail forward keeps the forwarded body",
			text: "Zur Info, siehe unten.\n\n---------- Forwarded message ---------\nFrom: Buchhaltung <buha@example.de>\n" +
				"Date: Mon, 3 Mar 2025 at 10:00\nSubject: Forderung Mustermann\nTo: <service@example.de>\n\n" +
				"Die offene Forderung beträgt 2.500,00 €.\nBuchhaltung Example AG",
			want:    []string{"Zur Info", "Die offene Forderung beträgt 2.500,00 €.", "Buchhaltung Example AG"},
			notWant: []string{"Forwarded message", "From:", "Subject:", "Date:"},
		},
		{
			name: "thunderbird weitergeleitete nachricht",
			text: "-------- Weitergeleitete Nachricht --------\nBetreff: \tForderungsaufstellung\nDatum: \tMon, 3 Mar 2025 10:00:00 +0100\n" +
				"Von: \tInkasso <a@inkasso.de>\nAn: \tb@inkasso.de\n\nHauptforderung 800,00 €\nZinsen 12,00 €",
			exact: ptr("Hauptforderung 800,00 €\nZinsen 12,00 €"),
		},
		{
			name: "forwarded body loses its own quoted history",
			text: "---------- Forwarded message ---------\nFrom: A <a@example.de>\nDate: Mon, 3 Mar 2025\nSubject: X\nTo: B <b@example.de>\n\n" +
				"Saldo 10,00 €\n\nAm 01.03.2025 um 09:00 schrieb Kanzlei <k@kanzlei.de>:\n> Anfrage",
			exact: ptr("Saldo 10,00 €"),
		},
	}
}

func zendeskCases() []parseCase {
	return []parseCase{
		{
			name: "zendesk reply marker cuts the ticket history",
			text: "Die Forderung beläuft sich auf 3.210,00 €.\n\nMit freundlichen Grüßen\nCreditreform Musterstadt\n\n" +
				"##- Bitte geben Sie Ihre Antwort über dieser Zeile ein -##\n\nIhre Anfrage (4711) wurde aktualisiert.\n" +
				"Thomas Schmidt (Kanzlei)\n3. März 2025, 10:15 MEZ\nBitte teilen Sie uns die Forderung mit.",
			want:    []string{"3.210,00 €", "Creditreform Musterstadt"},
			notWant: []string{"##-", "aktualisiert", "Thomas Schmidt"},
		},
		{
			name: "zendesk separator with author and date",
			text: "Wir haben keine offenen Forderungen.\nOtto Versand\n\n----------------------------------------------\n\n" +
				"Thomas Schmidt, 3. März 2025, 10:15\n\nSehr geehrte Damen und Herren, wie hoch ist die Forderung?",
			exact: ptr("Wir haben keine offenen Forderungen.\nOtto Versand"),
		},
		{
			name:  "aktualisiert von",
			text:  "Kontostand: -150,00 EUR\n\nAktualisiert von: Thomas Schmidt, 3. März 2025, 10:15 MEZ\n\nAlte Anfrage",
			exact: ptr("Kontostand: -150,00 EUR"),
		},
		{
			name:  "a lone dash line is dropped, the text below it kept",
			text:  "Hauptforderung 1.000,00 €\nZinsen 50,00 €\n--------------------\nGesamt 1.050,00 €\n\nMfG Inkasso AG",
			exact: ptr("Hauptforderung 1.000,00 €\nZinsen 50,00 €\n\nGesamt 1.050,00 €\n\nMfG Inkasso AG"),
		},
	}
}

func boilerplateCases() []parseCase {
	return []parseCase{
		{
			name: "german confidentiality notice",
			text: "Offen sind 120,00 €.\n\nGrüße\nEnergie GmbH\n\nDiese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn Sie nicht\n" +
				"der richtige Adressat sind oder diese E-Mail irrtümlich erhalten haben,\ninformieren Sie bitte sofort den Absender und vernichten Sie diese Mail.",
			exact: ptr("Offen sind 120,00 €.\n\nGrüße\nEnergie GmbH"),
		},
		{
			name: "english confidentiality notice",
			text: "Balance due: $ 75.00\nAcme Inc\n\nThis e-mail may contain confidential or privileged information. If you are not the intended recipient,\n" +
				"please notify the sender and delete this e-mail.",
			exact: ptr("Balance due: $ 75.00\nAcme Inc"),
		},
		{
			name: "keyword disclaimer and environment line",
			text: "Forderung 60,00 €\nMüller KG\n\nDer Inhalt ist vertraulich. Sollten Sie diese Nachricht irrtümlich erhalten haben, löschen Sie sie.\n\n" +
				"Bitte denken Sie an die Umwelt, bevor Sie diese E-Mail ausdrucken.",
			exact: ptr("Forderung 60,00 €\nMüller KG"),
		},
		{
			name: "register footer dropped, company line kept",
			text: "Forderung 99,99 €\n\nMit freundlichen Grüßen\nMuster Inkasso GmbH\nMusterstraße 1, 10115 Berlin\n" +
				"Geschäftsführer: Dr. Max Muster, Erika Muster\nAmtsgericht Charlottenburg, HRB 123456\nUSt-IdNr.: DE123456789\n" +
				"Sitz der Gesellschaft: Berlin",
			exact: ptr("Forderung 99,99 €\n\nMit freundlichen Grüßen\nMuster Inkasso GmbH\nMusterstraße 1, 10115 Berlin"),
		},
		{
			name:  "footer line naming the company is kept",
			text:  "Saldo 5,00 €\nSitz: Hamburg, Amtsgericht Hamburg HRB 1, Nord Inkasso GmbH",
			exact: ptr("Saldo 5,00 €\nSitz: Hamburg, Amtsgericht Hamburg HRB 1, Nord Inkasso GmbH"),
		},
		{
			name:  "a reply mentioning confidentiality in a greeting stays",
			text:  "Sehr geehrte Damen und Herren, wir behandeln Ihre Anfrage vertraulich und haben sie irrtümlich zunächst abgelegt.",
			exact: ptr("Sehr geehrte Damen und Herren, wir behandeln Ihre Anfrage vertraulich und haben sie irrtümlich zunächst abgelegt."),
		},
	}
}

func amountRuleCases() []parseCase {
	return []parseCase{
		{
			name: "quoted history holding the only amount is kept",
			text: "Siehe unsere Mail unten.\nGruß\nInkasso AG\n\nAm 01.03.2025 um 09:00 schrieb Inkasso AG <info@inkasso.de>:\n" +
				"Die Forderung beträgt 1.234,56 €.\n\nAm 28.02.2025 um 08:00 schrieb Kanzlei <k@kanzlei.de>:\nAlte Anfrage 999,00 €",
			want:    []string{"Siehe unsere Mail unten.", "Die Forderung beträgt 1.234,56 €."},
			notWant: []string{"Alte Anfrage", "999,00"},
		},
		{
			name:    "> quote with the only amount is kept",
			text:    "Stimmt so, wie unten genannt.\n\n> Ihre Forderung: EUR 500,00\n> Bitte bestätigen.",
			want:    []string{"Stimmt so", "Ihre Forderung: EUR 500,00"},
			notWant: []string{},
		},
		{
			name:    "quoted amount dropped when the reply has its own",
			text:    "Korrekt ist 480,00 €.\n\n> Ihre Forderung: EUR 500,00",
			exact:   ptr("Korrekt ist 480,00 €."),
			notWant: []string{"500,00"},
		},
		{
			name: "disclaimer holding the only amount is kept",
			text: "Anbei die Aufstellung.\n\nDiese E-Mail enthält vertrauliche Informationen: offener Saldo 77,00 €. Wenn Sie nicht der richtige Adressat sind, löschen Sie sie.",
			want: []string{"Anbei die Aufstellung.", "77,00 €"},
		},
		{
			name: "forward header holding the only amount is kept",
			text: "Bitte beachten.\n\n---------- Forwarded message ---------\nFrom: A <a@b.de>\nSubject: Restforderung 45,00 EUR\nTo: C <c@d.de>\n\nKein weiterer Text.",
			want: []string{"Restforderung 45,00 EUR", "Kein weiterer Text."},
		},
		{
			name:  "a mail of only history is kept rather than emptied",
			text:  "##- Bitte geben Sie Ihre Antwort über dieser Zeile ein -##\n\nUnsere Antwort: keine Forderung bekannt.",
			want:  []string{"Unsere Antwort: keine Forderung bekannt."},
			exact: nil,
		},
	}
}

func TestParseTokens(t *testing.T) {
	t.Parallel()
	html := "<html><body><p>Forderung 1.000,00 &euro;</p><blockquote>" + strings.Repeat("alte Nachricht ", 200) + "</blockquote></body></html>"
	r := Parse(html, "plain is ignored")
	require.Equal(t, "Forderung 1.000,00 €", r.Text)
	require.Equal(t, EstimateTokens(html), r.TokensBefore)
	require.Equal(t, 5, r.TokensAfter)
	require.Less(t, r.TokensAfter, r.TokensBefore)

	plain := Parse("", "abcdefgh\n> quote")
	require.Equal(t, 4, plain.TokensBefore)
	require.Equal(t, 2, plain.TokensAfter)
}

func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"": 0, "a": 1, "abcd": 1, "abcde": 2, "äöüß": 1, "12345678": 2} {
		require.Equal(t, want, EstimateTokens(in), in)
	}
}
