package webhooks

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Attachment is one attachment reference in a Zendesk payload.
type Attachment struct {
	URL         string `json:"url"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Reply is the body of one Zendesk webhook, without its webhook_id.
type Reply struct {
	TicketID    string       `json:"ticket_id"`
	FromEmail   string       `json:"from_email"`
	FromName    string       `json:"from_name"`
	Subject     string       `json:"subject"`
	BodyHTML    string       `json:"body_html,omitempty"`
	BodyText    string       `json:"body_text,omitempty"`
	ReceivedAt  string       `json:"received_at"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// replyKinds weights the shapes of replies: mostly amounts, some breakdowns,
// a few auto-replies and English answers.
var replyKinds = []func(r *rand.Rand, c Case) (subject, core string){
	simpleTotal, simpleTotal, simpleTotal, breakdownTable, breakdownTable, restschuld, restschuld,
	englishBalance, autoReply, settledAccount,
}

// Reply returns reply number i: a case's creditor answering the firm, in
// HTML with a signature, a disclaimer and one or two levels of quoted history.
func (c *Corpus) Reply(i int, receivedAt time.Time) Reply {
	r := rand.New(rand.NewPCG(c.seed, uint64(i)+1))
	cs := c.cases[r.IntN(len(c.cases))]
	kind := replyKinds[r.IntN(len(replyKinds))]
	subject, core := kind(r, cs)
	var b strings.Builder
	b.Grow(8 << 10)
	b.WriteString(`<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style>p{margin:0} .sig{color:#555;font-size:9pt}</style></head><body><div dir="ltr">`)
	b.WriteString(core)
	writeSignature(&b, r, cs)
	writeDisclaimer(&b)
	writeQuotedInquiry(&b, r, cs, r.IntN(2) == 0)
	b.WriteString(`</div></body></html>`)
	body := b.String()
	if r.IntN(2) == 0 {
		body = outlookStyle.Replace(body)
	}
	rep := Reply{
		TicketID: cs.Ticket, FromEmail: cs.Creditor.Email, FromName: cs.Creditor.Name,
		Subject: subject, BodyHTML: body, ReceivedAt: receivedAt.UTC().Format(time.RFC3339),
	}
	if len(c.Files) > 0 {
		rep.Attachments = []Attachment{c.Files[i%len(c.Files)]}
	} else if r.IntN(5) == 0 {
		rep.Attachments = []Attachment{{
			URL:      fmt.Sprintf("https://lawfirm.zendesk.com/attachments/token/%x/?name=Forderungsaufstellung.pdf", r.Uint64()),
			Filename: "Forderungsaufstellung.pdf", ContentType: "application/pdf", Size: int64(20000 + r.IntN(200000)),
		}}
	}
	return rep
}

// outlookStyle turns plain paragraphs into the verbose markup Outlook sends.
var outlookStyle = strings.NewReplacer(
	"<p>", `<p class="MsoNormal" style="margin:0cm;margin-bottom:.0001pt"><span style="font-size:11.0pt;font-family:&quot;Calibri&quot;,sans-serif;color:#1F497D;mso-fareast-language:DE">`,
	"</p>", `<o:p></o:p></span></p>`,
)

func greeting(r *rand.Rand) string {
	return []string{"Sehr geehrte Damen und Herren,", "Sehr geehrte Frau Rechtsanwältin,", "Guten Tag,",
		"Sehr geehrter Herr Rechtsanwalt,"}[r.IntN(4)]
}

func simpleTotal(r *rand.Rand, c Case) (string, string) {
	return "AW: Anfrage Forderungshöhe " + c.ClientName() + " Az. " + c.Aktenzeichen, fmt.Sprintf(
		`<p>%s</p><p><br></p><p>in der Angelegenheit Ihres Mandanten %s, Ihr Zeichen: %s, unser Zeichen: %s,
teilen wir Ihnen mit, dass sich die Gesamtforderung zum %s auf <b>%s €</b> beläuft.</p><p><br></p>
<p>Die Forderung setzt sich aus der Hauptforderung sowie den bis heute angefallenen Zinsen und Kosten zusammen.
Eine detaillierte Aufstellung erhalten Sie auf Anfrage.</p><p><br></p>
<p>Bitte geben Sie bei Zahlungen stets unser Aktenzeichen an.</p>`,
		greeting(r), c.ClientName(), c.Aktenzeichen, c.Reference, time.Now().Format("02.01.2006"), euro(c.AmountCents))
}

func breakdownTable(r *rand.Rand, c Case) (string, string) {
	principal := c.AmountCents * 80 / 100
	interest := c.AmountCents * 12 / 100
	costs := c.AmountCents - principal - interest
	return "RE: " + c.Aktenzeichen + " - " + c.ClientLast + " ./. " + c.Creditor.Name, fmt.Sprintf(
		`<p>%s</p><p>zu Ihrer Anfrage vom %s betreffend %s (Kundennummer %s) übersenden wir die aktuelle Forderungsaufstellung:</p>
<table border="1" cellpadding="4" style="border-collapse:collapse">
<tr><td>Hauptforderung</td><td align="right">%s €</td></tr>
<tr><td>Zinsen (5 Prozentpunkte über Basiszinssatz)</td><td align="right">%s €</td></tr>
<tr><td>Inkassokosten und Auslagen</td><td align="right">%s €</td></tr>
<tr><td><b>Gesamtforderung</b></td><td align="right"><b>%s €</b></td></tr>
</table><p><br></p><p>Einem außergerichtlichen Einigungsversuch stehen wir grundsätzlich offen gegenüber.</p>`,
		greeting(r), c.SentAt.Format("02.01.2006"), c.ClientName(), c.Reference,
		euro(principal), euro(interest), euro(costs), euro(c.AmountCents))
}

func restschuld(r *rand.Rand, c Case) (string, string) {
	paid := int64(1000 + r.IntN(50000))
	return "AW: [Ticket #" + c.Ticket + "] Forderung " + c.ClientName(), fmt.Sprintf(
		`<p>%s</p><p>vielen Dank für Ihr Schreiben. Unter Berücksichtigung der bereits geleisteten Zahlungen in Höhe von %s €
verbleibt eine Restschuld von <strong>%s EUR</strong> (Stand: %s).</p>
<p>Vertragsnummer: %s<br>Ihr Aktenzeichen: %s</p>`,
		greeting(r), euro(paid), euro(c.AmountCents), time.Now().Format("02.01.2006"), c.Reference, c.Aktenzeichen)
}

func englishBalance(_ *rand.Rand, c Case) (string, string) {
	return "RE: Inquiry regarding " + c.ClientName(), fmt.Sprintf(
		`<p>Dear Sir or Madam,</p><p>regarding your client %s (your reference %s, our account %s), the total outstanding
balance currently amounts to <b>EUR %s</b>, including interest and fees.</p><p>Kind regards</p>`,
		c.ClientName(), c.Aktenzeichen, c.Reference, euroEN(c.AmountCents))
}

func autoReply(r *rand.Rand, c Case) (string, string) {
	return "Automatische Antwort: Anfrage " + c.Aktenzeichen, fmt.Sprintf(
		`<p>Vielen Dank für Ihre Nachricht.</p><p>Ich bin bis einschließlich %s nicht im Büro und habe nur eingeschränkt
Zugriff auf meine E-Mails. Ihre Nachricht wird nicht weitergeleitet. In dringenden Fällen wenden Sie sich bitte an
unsere Zentrale unter 0800 123 45%02d.</p>`, time.Now().AddDate(0, 0, 3+r.IntN(10)).Format("02.01.2006"), r.IntN(100))
}

func settledAccount(r *rand.Rand, c Case) (string, string) {
	return "AW: Forderungsanfrage " + c.ClientName(), fmt.Sprintf(
		`<p>%s</p><p>die Forderung gegen %s (Az. %s) wurde am %s vollständig ausgeglichen. Das Konto %s weist einen
Saldo von 0,00 € aus. Weitere Forderungen bestehen nicht.</p>`,
		greeting(r), c.ClientName(), c.Aktenzeichen, c.SentAt.AddDate(0, 0, -20).Format("02.01.2006"), c.Reference)
}

func writeSignature(b *strings.Builder, r *rand.Rand, c Case) {
	fmt.Fprintf(b, `<p><br></p><p>Mit freundlichen Grüßen</p><p><br></p><div class="sig"><p>%s %s<br>Forderungsmanagement / Team %d</p>
<p>%s<br>%s %d<br>%s</p><p>Telefon: +49 30 %07d<br>Telefax: +49 30 %07d<br>E-Mail: %s<br>Web: www.%s</p>
<p>Geschäftsführer: %s %s, %s %s<br>Amtsgericht Charlottenburg HRB %d B<br>USt-IdNr.: DE%09d</p></div>`,
		firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))], 1+r.IntN(9),
		c.Creditor.Name, streets[r.IntN(len(streets))], 1+r.IntN(200), cities[r.IntN(len(cities))],
		r.IntN(10000000), r.IntN(10000000), c.Creditor.Email, c.Creditor.Domain,
		firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))],
		firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))], 10000+r.IntN(90000), r.IntN(1000000000))
}

const disclaimer = `<div style="font-size:8pt;color:#888"><p>Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte
Informationen. Wenn Sie nicht der richtige Adressat sind oder diese E-Mail irrtümlich erhalten haben, informieren Sie
bitte sofort den Absender und vernichten Sie diese Mail. Das unerlaubte Kopieren sowie die unbefugte Weitergabe dieser
Mail sind nicht gestattet. This e-mail may contain confidential and/or privileged information. If you are not the
intended recipient (or have received this e-mail in error) please notify the sender immediately and destroy this
e-mail. Any unauthorised copying, disclosure or distribution of the material in this e-mail is strictly forbidden.
Informationen zum Datenschutz nach Art. 13 DSGVO finden Sie auf unserer Internetseite unter der Rubrik Datenschutz.
Bitte denken Sie an die Umwelt, bevor Sie diese E-Mail ausdrucken.</p></div>`

func writeDisclaimer(b *strings.Builder) { b.WriteString(disclaimer) }

// writeQuotedInquiry appends the firm's original inquiry as quoted history,
// optionally with an earlier reminder quoted inside it.
func writeQuotedInquiry(b *strings.Builder, r *rand.Rand, c Case, twoLevels bool) {
	fmt.Fprintf(b, `<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Am %s um %02d:%02d schrieb Kanzlei Schuldnerberatung
&lt;<a href="mailto:inkasso-anfragen@kanzlei.example">inkasso-anfragen@kanzlei.example</a>&gt;:<br></div>
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">`,
		c.SentAt.Format("02.01.2006"), r.IntN(24), r.IntN(60))
	fmt.Fprintf(b, `<p>Sehr geehrte Damen und Herren,</p><p>wir zeigen an, dass wir die Interessen von %s, geboren am %02d.%02d.%d,
wohnhaft in %s, vertreten. Eine auf uns lautende Vollmacht fügen wir bei.</p>
<p>Unser Mandant beabsichtigt, eine außergerichtliche Schuldenbereinigung nach § 305 InsO durchzuführen. Wir bitten Sie
daher, uns innerhalb von zwei Wochen eine aktuelle und vollständige Forderungsaufstellung zu übersenden, aufgeschlüsselt
nach Hauptforderung, Zinsen und Kosten, sowie uns mitzuteilen, ob Sicherheiten bestehen oder Titel vorliegen.</p>
<p>Bitte sehen Sie von weiteren Vollstreckungsmaßnahmen ab und richten Sie jede Korrespondenz ausschließlich an uns.</p>
<p>Unser Aktenzeichen: %s<br>Ihr Zeichen: %s</p><p>Mit freundlichen Grüßen<br>Rechtsanwältin Dr. Petra Sommer<br>
Kanzlei Schuldnerberatung, Friedrichstraße 100, 10117 Berlin</p>`,
		c.ClientName(), 1+r.IntN(28), 1+r.IntN(12), 1950+r.IntN(50), cities[r.IntN(len(cities))], c.Aktenzeichen, c.Reference)
	if twoLevels {
		fmt.Fprintf(b, `<blockquote class="gmail_quote"><p>-----Ursprüngliche Nachricht-----<br>Von: %s<br>Gesendet: %s<br>
Betreff: Zahlungserinnerung %s</p><p>Sehr geehrte(r) %s, trotz unserer Erinnerung ist der offene Betrag bislang nicht
bei uns eingegangen. Wir bitten Sie, den Betrag innerhalb von 7 Tagen auszugleichen, um weitere Kosten zu vermeiden.</p>
</blockquote>`, c.Creditor.Email, c.SentAt.AddDate(0, -2, 0).Format("02.01.2006 15:04"), c.Reference, c.ClientName())
	}
	b.WriteString(`</blockquote></div>`)
}
