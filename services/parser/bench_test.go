package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchmarkMail builds a realistic Outlook reply of about 20 KB: a large
// style block, a reply with an amount table, signature, register footer,
// disclaimer and two quoted earlier messages.
func benchmarkMail() string {
	var b strings.Builder
	b.WriteString(`<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset="utf-8"><style><!--`)
	for i := 0; b.Len() < 6000; i++ {
		fmt.Fprintf(&b, "p.MsoNormal%d, li.MsoNormal%d {margin:0cm; font-size:11.0pt; font-family:\"Calibri\",sans-serif;}\n", i, i)
	}
	b.WriteString(`--></style></head><body lang=DE><div class=WordSection1>`)
	b.WriteString(`<p class=MsoNormal>Sehr geehrte Damen und Herren,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>`)
	b.WriteString(`<p class=MsoNormal>bezugnehmend auf Ihre Anfrage zu Herrn Max Mustermann (Ihr Az. 2025/0815) teilen wir Ihnen die aktuelle Forderungsaufstellung mit:<o:p></o:p></p>`)
	b.WriteString(`<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0>`)
	for i, row := range [][2]string{{"Hauptforderung", "1.200,00 &euro;"}, {"Zinsen", "87,45 &euro;"}, {"Mahnkosten", "15,00 &euro;"}, {"Inkassokosten", "120,00 &euro;"}, {"Summe", "1.422,45 &euro;"}} {
		fmt.Fprintf(&b, `<tr style='height:%dpt'><td width=300 valign=top><p class=MsoNormal>%s<o:p></o:p></p></td><td width=150 valign=top><p class=MsoNormal align=right>%s<o:p></o:p></p></td></tr>`, 14+i, row[0], row[1])
	}
	b.WriteString(`</table><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>Mit freundlichen Gr&uuml;&szlig;en<o:p></o:p></p>`)
	b.WriteString(`<p class=MsoNormal>Erika Beispiel<br>Forderungsmanagement<br>Muster Inkasso GmbH<br>Musterstra&szlig;e 1 | 10115 Berlin<br>Tel. +49 30 1234567<o:p></o:p></p>`)
	b.WriteString(`<p class=MsoNormal style='font-size:8pt'>Gesch&auml;ftsf&uuml;hrer: Dr. Max Muster<br>Amtsgericht Charlottenburg HRB 123456<br>USt-IdNr.: DE123456789<o:p></o:p></p>`)
	b.WriteString(`<p class=MsoNormal style='font-size:8pt'>Diese E-Mail enth&auml;lt vertrauliche und/oder rechtlich gesch&uuml;tzte Informationen. Wenn Sie nicht der richtige Adressat sind oder diese E-Mail irrt&uuml;mlich erhalten haben, informieren Sie bitte sofort den Absender und vernichten Sie diese Mail.<o:p></o:p></p>`)
	for m := 0; b.Len() < 20000; m++ {
		b.WriteString(`<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><p class=MsoNormal><b>Von:</b> Kanzlei Schmidt &lt;info@kanzlei-schmidt.de&gt;<br><b>Gesendet:</b> Montag, 3. M&auml;rz 2025 10:00<br><b>An:</b> service@muster-inkasso.de<br><b>Betreff:</b> Anfrage Forderungsh&ouml;he<o:p></o:p></p></div></div>`)
		for i := 0; i < 12; i++ {
			fmt.Fprintf(&b, `<p class=MsoNormal>Absatz %d der fr&uuml;heren Nachricht %d mit Text &uuml;ber die Anfrage und den Mandanten.<o:p></o:p></p>`, i, m)
		}
	}
	b.WriteString(`</div></body></html>`)
	return b.String()
}

func TestBenchmarkMail(t *testing.T) {
	t.Parallel()
	mail := benchmarkMail()
	require.InDelta(t, 20_000, len(mail), 2_000)
	r := Parse(mail, "")
	require.Equal(t, "Sehr geehrte Damen und Herren,\n\n"+
		"bezugnehmend auf Ihre Anfrage zu Herrn Max Mustermann (Ihr Az. 2025/0815) teilen wir Ihnen die aktuelle Forderungsaufstellung mit:\n"+
		"Hauptforderung | 1.200,00 €\nZinsen | 87,45 €\nMahnkosten | 15,00 €\nInkassokosten | 120,00 €\nSumme | 1.422,45 €\n\n"+
		"Mit freundlichen Grüßen\nErika Beispiel\nForderungsmanagement\nMuster Inkasso GmbH\nMusterstraße 1 | 10115 Berlin\nTel. +49 30 1234567", r.Text)
	require.Less(t, r.TokensAfter*10, r.TokensBefore)
}

func BenchmarkParse(b *testing.B) {
	mail := benchmarkMail()
	b.SetBytes(int64(len(mail)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(mail, "")
	}
}
