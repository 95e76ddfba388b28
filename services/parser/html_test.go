package parser

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func htmlCases() []parseCase {
	return []parseCase{
		{
			name: "html head, script, style, comments dropped and entities decoded",
			html: `<!DOCTYPE html><html><head><title>Ihre Anfrage</title><meta charset="utf-8"><style>.x{color:red}</style>` +
				`<script>alert("x")</script></head><body><!-- tracking --><p>Sehr geehrte Damen &amp; Herren,</p>` +
				`<p>der R&uuml;ckstand betr&auml;gt&nbsp;1.234,56&nbsp;&euro; (&#8364;).</p><script>var a = "<p>nope</p>";</script></body></html>`,
			exact: ptr("Sehr geehrte Damen & Herren,\nder Rückstand beträgt 1.234,56 € (€)."),
		},
		{
			name: "html table rows stay on one line, outlook paragraphs in cells",
			html: `<p>Forderungsaufstellung:</p><table border=1><thead><tr><th>Position</th><th>Betrag</th></tr></thead><tbody>` +
				`<tr><td><p class=MsoNormal>Hauptforderung<o:p></o:p></p></td><td><p class=MsoNormal align=right>1.200,00 &euro;<o:p></o:p></p></td></tr>` +
				"<tr>\n<td>Zinsen</td>\n<td>45,10 &euro;</td>\n</tr><tr><td><b>Summe</b></td><td></td><td><b>1.245,10&nbsp;&euro;</b></td></tr></tbody></table>" +
				`<p>Mit freundlichen Gr&uuml;&szlig;en<br>Stadtwerke Musterstadt GmbH</p>`,
			exact: ptr("Forderungsaufstellung:\nPosition | Betrag\nHauptforderung | 1.200,00 €\nZinsen | 45,10 €\nSumme | 1.245,10 €\n" +
				"Mit freundlichen Grüßen\nStadtwerke Musterstadt GmbH"),
		},
		{
			name: "gmail blank lines and gmail_quote dropped",
			html: `<div dir="ltr"><div>Hallo,</div><div><br></div><div>offen sind 88,00 EUR.</div><div><br></div><div>Gruß</div>` +
				`<div class="gmail_signature">Anna Beispiel<br>Beispiel Versand GmbH</div></div><br>` +
				`<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">Am Mo., 3. März 2025 um 10:00 Uhr schrieb Kanzlei &lt;k@kanzlei.de&gt;:<br></div>` +
				`<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Bitte Forderung nennen.<div>Mandant: Max Mustermann</div></blockquote></div>`,
			exact: ptr("Hallo,\n\noffen sind 88,00 EUR.\n\nGruß\nAnna Beispiel\nBeispiel Versand GmbH"),
		},
		{
			name: "apple mail blockquote with attribution, bottom reply kept",
			html: `<html><body><div>Guten Tag,</div><div><br><blockquote type="cite"><div>Am 03.03.2025 um 10:00 schrieb Kanzlei &lt;k@kanzlei.de&gt;:</div>` +
				`<div>Wie hoch ist die Forderung?</div></blockquote></div><div>Sie beträgt 310,00 €.</div><div>Apfel Bank AG</div></body></html>`,
			want:    []string{"Guten Tag,", "Sie beträgt 310,00 €.", "Apfel Bank AG"},
			notWant: []string{"Wie hoch", "schrieb"},
		},
		{
			name: "attribution outside the blockquote goes with it",
			html: `<p>Betrag: 20,00 €</p><div class="moz-cite-prefix">Am 03.03.2025 um 10:00 schrieb Kanzlei:<br></div>` +
				`<blockquote type="cite">Anfrage</blockquote><p>Nachtrag: Zahlung bis 31.03.</p>`,
			exact: ptr("Betrag: 20,00 €\nNachtrag: Zahlung bis 31.03."),
		},
		{
			name: "gmail forward inside gmail_quote is kept",
			html: `<div dir="ltr">FYI<br></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>` +
				`Von: <strong class="gmail_sendername">Buchhaltung</strong> <span>&lt;buha@example.de&gt;</span><br>Date: Mo., 3. März 2025 um 10:00 Uhr<br>` +
				`Subject: Forderung<br>To: &lt;info@example.de&gt;<br></div><br><br><div dir="ltr">Gesamtforderung: 4.321,00 €<br>Example AG</div>` +
				`<div class="gmail_quote"><div class="gmail_attr">Am 01.03.2025 schrieb Kanzlei:</div><blockquote class="gmail_quote">alte Anfrage</blockquote></div></div>`,
			exact: ptr("FYI\n\nGesamtforderung: 4.321,00 €\nExample AG"),
		},
		{
			name: "apple mail forward in a blockquote keeps the body",
			html: `<div>Anbei.</div><div><br><div>Anfang der weitergeleiteten Nachricht:</div><br class="Apple-interchange-newline">` +
				`<blockquote type="cite"><div><span><b>Von: </b></span><span>Buchhaltung &lt;b@example.de&gt;</span></div>` +
				`<div><span><b>Betreff: </b></span><span>Saldo</span></div><div><span><b>Datum: </b></span><span>3. März 2025 um 10:00:00 MEZ</span></div>` +
				`<div><span><b>An: </b></span><span>info@example.de</span></div><br><div>Saldo zum 01.03.: 640,00 €</div></blockquote></div>`,
			exact: ptr("Anbei.\n\nSaldo zum 01.03.: 640,00 €"),
		},
		{
			name:  "yahoo quoted container dropped",
			html:  `<div>Bezahlt am 01.03., Rest 0,00 €.</div><div class="yahoo_quoted"><div>Am Montag, 3. März 2025, 10:00:00 MEZ hat Kanzlei geschrieben:</div><div>Anfrage</div></div>`,
			exact: ptr("Bezahlt am 01.03., Rest 0,00 €."),
		},
		{
			name: "outlook desktop header box cuts history",
			html: `<div class=WordSection1><p class=MsoNormal>Der Saldo beträgt 150,00 €.<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>` +
				`<p class=MsoNormal>Gruß<br>Versicherung AG<o:p></o:p></p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>` +
				`<p class=MsoNormal><b>From:</b> Kanzlei &lt;k@kanzlei.de&gt;<br><b>Sent:</b> Monday, March 3, 2025 10:00 AM<br><b>To:</b> Service<br>` +
				`<b>Subject:</b> Anfrage<o:p></o:p></p></div></div><p class=MsoNormal>Bitte um Auskunft zu Max Mustermann.</p></div>`,
			exact: ptr("Der Saldo beträgt 150,00 €.\n\nGruß\nVersicherung AG"),
		},
		{
			name: "outlook web divRplyFwdMsg cuts history",
			html: `<div>Restschuld 12,50 €</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">` +
				`<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>Von:</b> Kanzlei<br><b>Gesendet:</b> Montag, 3. März 2025 10:00<br>` +
				`<b>An:</b> Service<br><b>Betreff:</b> Anfrage</font><div>&nbsp;</div></div><div>Bitte um Auskunft</div>`,
			exact: ptr("Restschuld 12,50 €"),
		},
		{
			name:  "pre keeps its line breaks",
			html:  "<p>Aufstellung:</p><pre>Hauptforderung   100,00 EUR\nKosten            20,00 EUR\n\nSumme            120,00 EUR</pre>",
			exact: ptr("Aufstellung:\nHauptforderung 100,00 EUR\nKosten 20,00 EUR\n\nSumme 120,00 EUR"),
		},
		{
			name:  "inline elements do not split words or amounts",
			html:  `<p>Betrag: <span style="font-weight:bold">1.234</span><span>,56</span>&nbsp;<i>EUR</i></p>`,
			exact: ptr("Betrag: 1.234,56 EUR"),
		},
		{
			name: "blockquote holding the only amount is kept",
			html: `<p>Wie besprochen.</p><blockquote>Offener Betrag: 1.111,11 €</blockquote><p>Gruß, Kredit Bank</p>`,
			want: []string{"Wie besprochen.", "Offener Betrag: 1.111,11 €", "Gruß, Kredit Bank"},
		},
		{
			name:    "lists and headings become lines",
			html:    `<h2>Aufstellung</h2><ul><li>Hauptforderung: 300,00 €</li><li>Zinsen: 3,00 €</li></ul><p>Ende</p>`,
			exact:   ptr("Aufstellung\nHauptforderung: 300,00 €\nZinsen: 3,00 €\nEnde"),
			notWant: []string{"<li>"},
		},
	}
}

func hostileCases() []parseCase {
	return []parseCase{
		{
			name:  "windows-1252 body without valid utf-8",
			text:  "Gr\xfc\xdfe, die Forderung betr\xe4gt 12,00 \x80.",
			exact: ptr("Grüße, die Forderung beträgt 12,00 €."),
		},
		{
			name:  "mixed invalid utf-8 is repaired",
			text:  "Forderung 10,00 € \xff\xfe ok",
			exact: ptr("Forderung 10,00 € \ufffd ok"),
		},
		{
			name:  "nul bytes and control characters removed",
			html:  "<p>Betr\x00ag 5,00\x00 €\x07</p>",
			exact: ptr("Betrag 5,00 €"),
		},
		{
			name:  "unclosed tags and stray end tags",
			html:  "<div><p>Forderung <b>7,00 €<div></span></blockquote></td></tr><p>Gruß",
			exact: ptr("Forderung 7,00 €\nGruß"),
		},
		{
			name:  "unterminated script swallows only itself",
			html:  "<p>Summe 9,99 €</p><script>document.write('x')",
			exact: ptr("Summe 9,99 €"),
		},
	}
}

func TestParseDeepNesting(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{"div", "blockquote", "table><tr><td", "b", "p"} {
		open, end := "<"+tag+">", "</"+strings.SplitN(tag, ">", 2)[0]+">"
		n := (MaxInputBytes - 100) / (len(open) + len(end)) // all of it within the input cap
		body := strings.Repeat(open, n) + "Forderung 1,00 €" + strings.Repeat(end, n)
		r := Parse(body, "")
		require.Contains(t, r.Text, "Forderung 1,00 €", tag)
	}
}

func TestParseHugeInput(t *testing.T) {
	t.Parallel()
	line := "<p>Die Forderung beträgt 1.234,56 € und wird hiermit bestätigt.</p>\n"
	html := strings.Repeat(line, 5<<20/len(line))
	r := Parse(html, "")
	require.LessOrEqual(t, len([]rune(r.Text)), MaxCleanRunes)
	require.NotEmpty(t, r.Text)
	require.Equal(t, EstimateTokens(html), r.TokensBefore)

	text := strings.Repeat("> quote\n", 1<<20)
	r = Parse("", text)
	require.LessOrEqual(t, len([]rune(r.Text)), MaxCleanRunes)
}

func TestSanitizeCapsAtRuneBoundary(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("a", MaxInputBytes-1) + "€€"
	out := sanitize(s)
	require.Equal(t, MaxInputBytes-1, len(out))
}
