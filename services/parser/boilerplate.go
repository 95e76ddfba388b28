package parser

import "strings"

// Bounds on the disclaimer search: a candidate line is judged together
// with the next lines up to disclaimerWindow bytes, and at most
// maxDisclaimerChecks candidates are judged per mail.
const (
	disclaimerWindow    = 1500
	maxDisclaimerChecks = 64
)

// markBoilerplate drops legal disclaimers and company register footer
// lines from the text still kept. A disclaimer runs from the line where it
// starts to the end of its paragraph, but a line naming a company ends it:
// the creditor must stay identifiable.
func (c *cleaner) markBoilerplate() {
	ls := c.lines
	checks := 0
	for i := 0; i < len(ls); {
		if !c.keptText(i) {
			i++
			continue
		}
		j := i
		for j < len(ls) && c.keptText(j) {
			j++
		}
		k := i
		for ; k < j; k++ {
			if checks < maxDisclaimerChecks && c.disclaimerAt(k, j, &checks) {
				break
			}
		}
		c.markFooterLines(i, k)
		if k < j {
			id := c.newSpan(spanBoilerplate, k)
			for ; k < j && (k == c.spans[id-1].start || !namesCompany(ls[k].text)); k++ {
				ls[k].span = id
			}
			c.markFooterLines(k, j)
		}
		i = j
	}
}

// disclaimerAt reports whether a disclaimer starts at line k of the
// paragraph ending before end.
func (c *cleaner) disclaimerAt(k, end int, checks *int) bool {
	t := c.lines[k].text
	if len(t) > disclaimerWindow {
		t = t[:disclaimerWindow]
	}
	lt := strings.ToLower(strings.ToValidUTF8(t, ""))
	if startsDisclaimer(lt) {
		return true
	}
	if !mentionsConfidential(lt) || isGreeting(lt) {
		return false
	}
	*checks++
	var b strings.Builder
	b.WriteString(lt)
	for j := k + 1; j < end && b.Len() < disclaimerWindow; j++ {
		b.WriteByte(' ')
		b.WriteString(strings.ToLower(c.lines[j].text))
	}
	return hasDisclaimerCue(b.String())
}

// keptText reports a kept, non-blank text line.
func (c *cleaner) keptText(i int) bool {
	l := &c.lines[i]
	return l.span == 0 && l.mark == markNone && l.text != ""
}

// markFooterLines drops register footer lines within [from, to); adjacent
// ones share a span.
func (c *cleaner) markFooterLines(from, to int) {
	id := spanID(0)
	for i := from; i < to; i++ {
		if !isFooterLine(c.lines[i].text) {
			id = 0
			continue
		}
		if id == 0 {
			id = c.newSpan(spanBoilerplate, i)
		}
		c.lines[i].span = id
	}
}

// isGreeting reports a lower-cased line opening a letter, which is never
// boilerplate even when it mentions confidentiality.
func isGreeting(lt string) bool {
	for _, start := range []string{"sehr geehrte", "hallo", "guten tag", "dear ", "hello", "hi "} {
		if strings.HasPrefix(lt, start) {
			return true
		}
	}
	return false
}

// startsDisclaimer recognises the usual first words of confidentiality
// notices, privacy notes and "think before you print" lines. lt is
// lower-case.
func startsDisclaimer(lt string) bool {
	for _, start := range []string{
		"diese e-mail enthält vertrauliche", "diese e-mail kann vertrauliche", "diese email enthält vertrauliche",
		"diese nachricht enthält vertrauliche", "diese nachricht kann vertrauliche", "der inhalt dieser e-mail ist vertraulich",
		"this e-mail may contain confidential", "this email may contain confidential", "this e-mail and any attachment",
		"this email and any attachment", "this message may contain confidential", "this message contains confidential",
		"this e-mail contains confidential", "this email contains confidential", "the information contained in this",
		"confidentiality notice", "disclaimer:", "vertraulichkeitshinweis", "haftungsausschluss",
		"please consider the environment", "bitte denken sie an die umwelt", "denken sie an die umwelt",
		"bitte prüfen sie, ob diese e-mail", "think before you print", "informationen zum datenschutz",
		"hinweise zum datenschutz", "datenschutzhinweis", "privacy notice",
	} {
		if strings.HasPrefix(lt, start) {
			return true
		}
	}
	return false
}

// mentionsConfidential reports the key word of a confidentiality notice.
func mentionsConfidential(lt string) bool {
	return strings.Contains(lt, "vertraulich") || strings.Contains(lt, "confidential") || strings.Contains(lt, "privileged")
}

// hasDisclaimerCue reports the second half of a confidentiality notice:
// what to do if you got it by mistake.
func hasDisclaimerCue(lt string) bool {
	for _, cue := range []string{
		"irrtümlich", "nicht der richtige adressat", "nicht der beabsichtigte empfänger", "nicht für sie bestimmt",
		"unbefugte", "nicht gestattet", "untersagt", "vernichten", "benachrichtigen sie",
		"intended recipient", "intended solely", "in error", "prohibited", "unauthorized", "unauthorised",
		"notify the sender",
	} {
		if strings.Contains(lt, cue) {
			return true
		}
	}
	return false
}

// isFooterLine recognises the mandatory company details German firms add
// under their signature (Geschäftsführer, Handelsregister, USt-IdNr …).
// A line that also names a company ("Muster Inkasso GmbH, HRB 123") is
// kept: the signature is how the creditor is identified.
func isFooterLine(t string) bool {
	if len(t) > 200 || hasAmount(t) {
		return false
	}
	lt := strings.ToLower(strings.TrimLeft(t, "|•·*-– "))
	footer := false
	for _, key := range []string{
		"geschäftsführer", "geschäftsführung", "geschäftsführende", "vorstand", "aufsichtsrat",
		"vorsitzender des aufsichtsrat", "handelsregister", "registergericht", "registernummer",
		"amtsgericht", "sitz der gesellschaft", "sitz:", "hrb ", "hra ", "hrb:", "ust-idnr", "ust-id",
		"ust.-id", "umsatzsteuer-id", "steuernummer", "steuer-nr", "st.-nr", "stammkapital",
		"registered office", "registered in", "company registration", "managing director", "vat no", "vat id",
	} {
		if strings.HasPrefix(lt, key) {
			footer = true
			break
		}
	}
	if !footer || (strings.HasPrefix(lt, "amtsgericht") && !strings.Contains(lt, "hrb") && !strings.Contains(lt, "hra") && !strings.Contains(lt, "register")) {
		return false // "Amtsgericht Hamburg hat …" is part of the reply
	}
	return !namesCompany(lt)
}

// namesCompany reports a line naming a company by its legal form or trade.
func namesCompany(t string) bool {
	lt := " " + strings.ToLower(t) + " "
	for _, form := range []string{
		"gmbh", " ag ", " ag,", " kg", " se ", " ug ", "e.v.", " ltd", " inc", "bank", "inkasso",
		"sparkasse", "versicherung", "verlag", "stadtwerke", "mbh", " llc", " plc",
	} {
		if strings.Contains(lt, form) {
			return true
		}
	}
	return false
}
