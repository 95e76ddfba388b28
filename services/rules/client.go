package rules

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

var (
	// clientTriggerRe: words after which the debtor's name follows.
	clientTriggerRe = mustLeadKeywords(`(?i)`, `[^\p{L}]`,
		`ihr(?:e|es|er|em|en)?\s+mandant(?:in|innen|en)?|ihr(?:e|es|er|em|en)?\s+kund(?:e|in|en|innen)|unser(?:e|es|er|em|en)?\s+kund(?:e|in|en|innen)|ihr(?:e|es|er|em|en)?\s+mandantschaft|your\s+client|our\s+customer|(?:schuldner(?:in)?|kunde|kundin|debtor|customer|client|mandant(?:in)?|versicherungsnehmer(?:in)?|kontoinhaber(?:in)?|vertragspartner(?:in)?|name)\s*[:|]`,
		`[ \t,:]*`)
	// subjectTriggerRe: the firm's own subject names its client without a colon
	// ("Forderungsanfrage Mandantin Sabine Wolf", "our client Emily Wood").
	subjectTriggerRe = mustLeadKeywords(`(?i)`, `[^\p{L}]`,
		`(?:unser(?:e|es|er|em|en)?\s+)?mandant(?:in|en)?|(?:our\s+)?client|customer|kund(?:e|in)|mieter(?:in)?|mitglied|versicherungsnehmer(?:in)?|schuldner(?:in)?|debtor`,
		`[ \t,:]+`)
	// nounSuffixRe: long capitalised words with these endings are nouns, not names.
	nounSuffixRe = regexp.MustCompile(`(?:anfrage|ung|ungen|schulden|rückstände|rückstand|vorschlag|angebot|nummer|konto|zeichen|zahlung|forderung|vertrag|höhe|stand|schaft|keit|heit|abrechnung|rechnung|beiträge|beitrag|request|statement|proposal|inquiry)$`)
	// matterRe: "in Sachen …", "betreffend …" introduce the matter, often "A ./. B".
	matterRe = mustLeadKeywords(`(?i)`, `[^\p{L}]`, `in\s+(?:der\s+)?sachen?|betreffend|betrifft|betr\.|regarding`, `[ \t:]*`)
	// honorificRe: "Herr Max Mustermann", "Frau Müller".
	honorificRe = mustLeadKeywords(``, `[^\p{L}]`, `Herrn?|Frau|Hr\.|Fr\.|Mr\.?|Mrs\.?|Ms\.?`, `[ \t]+`)
	// salutationRe before a honorific means the addressee or a clerk, not the client.
	salutationRe  = mustKeywords(`(?i)geehrte|hallo|liebe[rns]?\b|guten\s+(?:tag|morgen|abend)|\bdear\b|\bhi\b|moin|servus|grüß|ansprechpart|sachbearbeit|zuständig|bearbeite|\bi\.\s?[av]\.|kolleg|durchwahl|vertreten durch|geschäftsführ|vorstand|\bcontact|rückfragen|erreichen sie|wenden sie sich|your[ \t]+advisor|\bgrüße|\bregards`)
	matterSplitRe = regexp.MustCompile(`\s+\./\.\s+|\s+\./\s+|\s+gegen\s+|\s+vs?\.?\s+|\s+versus\s+|\s+wg\.\s+|\s+wegen\s+`)
	streetRe      = regexp.MustCompile(`(?i)(?:str\.?|straße|strasse|weg|platz|allee|gasse|ring|damm|ufer|chaussee)$`)
)

// nameStopwords start with a capital but never belong to a person's name.
var nameStopwords = wordSet(`Ihr Ihre Ihren Ihrem Ihres Ihrer Sehr Mit Die Der Das Den Dem Des Wir Sie Es Er Bitte
		Kundennummer Kunden-Nr Vertragsnummer Aktenzeichen Az Forderung Gesamtforderung Hauptforderung Betrag Rechnung
		Vertrag Konto Schuldner Schuldnerin Mandant Mandantin Anfrage Schreiben Nachricht Zeichen Geb Geboren Wohnhaft
		Betreff Kunde Kundin Herr Herrn Frau GmbH AG KG Bank Inkasso Sparkasse Team Abteilung Forderungsmanagement
		Auskunft Hallo Guten Tag Dear Thank Thanks Regarding The Our Your This Please Account Customer Client Debtor
		Ref Reference Invoice Datum Date Anlage Anlagen Januar Februar März April Mai Juni Juli August September Oktober
		November Dezember Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Gläubiger Gläubigerin Auftraggeber
		Auftraggeberin Zahlung Raten Vergleich Mahnung Forderungsaufstellung Saldo Kontostand Stand Summe Hinweis Vollmacht
		Unterlagen Angelegenheit Sache Sachen Kenntnis Schuld Kosten Zinsen Euro EUR Hiermit Vielen Dank Leider Gerne
		Nach Auf Für Bei Zu Von Aus In Im Am An Um Ist Hat Wird Wurde Noch Nicht Kein Keine Und Oder Aber Als Wie Per
		Vertragskonto Rechnungsnummer Forderungsnummer Mitgliedsnummer Versicherungsnummer Kassenzeichen Steuernummer
		Ticket Referenz Vorgang Mandantschaft Schuldnerberatung Insolvenz Verbraucherinsolvenz Re AW WG Fwd Antwort
		Aktuell Offen Offene Telefon Tel Fax E-Mail Email Mail Internet Web IBAN BIC Straße Postfach Sitz is has was
		Rechtsanwalt Rechtsanwältin Rechtsanwälte Kanzlei Anwalt Anwältin Notar Notarin`)

// wordSet builds a lookup set from whitespace-separated words.
func wordSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

var nameParticles = map[string]bool{
	"von": true, "van": true, "de": true, "der": true, "den": true, "zu": true, "vom": true, "zum": true,
	"di": true, "da": true, "del": true, "ten": true, "ter": true, "le": true, "la": true, "al": true, "el": true,
}

// titleWords are skipped before a name.
var titleWords = map[string]bool{
	"herr": true, "herrn": true, "frau": true, "hr.": true, "fr.": true, "mr": true, "mr.": true, "mrs": true,
	"mrs.": true, "ms": true, "ms.": true, "dr.": true, "prof.": true, "dipl.-ing.": true, "dr": true, "prof": true,
}

// extractClient finds the debtor's name, normalised to "Nachname, Vorname"
// when both are known, and says where it was read. Attachments are read
// only when the body and subject name nobody, and only for names a label
// or "in Sachen" introduces: a letter's address block greets the firm's
// lawyer as "Herrn".
func extractClient(subj, body foldedText, atts []textSource) (name, source string) {
	closing := closingIndex(body)
	// A full name anywhere beats a bare surname ("Herrn Yilmaz" in the body,
	// "Herr Ali Yilmaz" in the subject).
	var first clientName
	for i := range 7 {
		n := bodyClient(i, subj, body, closing)
		if n.name == "" {
			continue
		}
		if n.full() {
			return n.name, n.source
		}
		if first.name == "" {
			first = n
		}
	}
	if first.name != "" {
		return first.name, first.source
	}
	for _, a := range atts {
		for _, n := range [2]string{clientAfter(a.text, clientTriggerRe), clientFromMatter(a.text)} {
			c := clientName{n, a.name}
			if c.full() {
				return c.name, c.source
			}
			if first.name == "" && n != "" {
				first = c
			}
		}
	}
	return first.name, first.source
}

// clientName is a name found and where.
type clientName struct{ name, source string }

func (n clientName) full() bool { return strings.Contains(n.name, ", ") }

// bodyClient tries the i-th way of finding the client in the body and
// subject, strongest first.
func bodyClient(i int, subj, body foldedText, closing int) clientName {
	switch i {
	case 0:
		return clientName{clientAfter(body, clientTriggerRe), models.SourceBody}
	case 1:
		return clientName{clientAfter(subj, clientTriggerRe), models.SourceSubject}
	case 2:
		return clientName{clientAfter(subj, subjectTriggerRe), models.SourceSubject}
	case 3:
		return clientName{clientFromMatter(body), models.SourceBody}
	case 4:
		return clientName{clientFromMatter(subj), models.SourceSubject}
	case 5:
		return clientName{clientFromHonorific(body.slice(0, closing)), models.SourceBody}
	}
	return clientName{clientFromHonorific(subj), models.SourceSubject}
}

func clientAfter(t foldedText, re keywordRe) string {
	text := t.s
	for _, m := range re.findN(t, 50) {
		start := m[1]
		if start < len(text) && text[start] == '\n' {
			start++ // the name is on the next line
		}
		if n := parseName(restOfLine(text, start)); n != "" {
			return n
		}
	}
	return ""
}

func clientFromMatter(t foldedText) string {
	text := t.s
	for _, m := range matterRe.findN(t, 20) {
		parts := matterSplitRe.Split(restOfLine(text, m[1]), 3)
		for _, p := range parts {
			if pt := foldText(p); companyMarkerRe.match(pt) || companyWordRe.match(pt) {
				continue
			}
			if n := parseName(p); n != "" {
				return n
			}
		}
	}
	return ""
}

func clientFromHonorific(t foldedText) string {
	text := t.s
	for _, m := range honorificRe.findN(t, 50) {
		// Only the words just before the honorific tell a greeting or a clerk.
		from := max(lineStartNear(text, m[0]+1), m[0]-40)
		for from < m[0] && !utf8.RuneStart(text[from]) {
			from++
		}
		if salutationRe.match(t.slice(from, m[0]+1)) {
			continue
		}
		if n := parseName(restOfLine(text, m[1])); n != "" {
			return n
		}
	}
	return ""
}

func restOfLine(text string, pos int) string {
	hi := min(pos+160, len(text))
	if end := strings.IndexByte(text[pos:hi], '\n'); end >= 0 {
		hi = pos + end
	}
	return text[pos:hi]
}

// parseName reads a person's name at the start of fragment and normalises it.
func parseName(fragment string) string {
	tokens := strings.Fields(fragment)
	for len(tokens) > 0 && titleWords[strings.ToLower(strings.TrimRight(tokens[0], ","))] {
		tokens = tokens[1:]
	}
	var words []string
	comma := -1 // index in words after which a comma stood
	for i, tok := range tokens {
		if len(words) >= 5 {
			break
		}
		core := strings.TrimRight(tok, ",;:.)")
		if nameParticles[core] && i+1 < len(tokens) && isNameWord(strings.TrimRight(tokens[i+1], ",;:.)")) {
			words = append(words, core)
			continue
		}
		if !isNameWord(core) {
			break
		}
		words = append(words, core)
		if strings.HasSuffix(tok, ",") {
			if comma >= 0 {
				break
			}
			comma = len(words)
			continue
		}
		if core != tok {
			break // the name ends at punctuation
		}
	}
	if len(words) == 0 {
		return ""
	}
	for i, w := range words {
		words[i] = fixCase(w)
	}
	if comma > 0 && comma < len(words) && surnameOnly(words[:comma]) && !streetRe.MatchString(words[comma]) {
		// "Mustermann, Max": already surname first.
		return strings.Join(words[:comma], " ") + ", " + strings.Join(words[comma:], " ")
	}
	if comma > 0 {
		words = words[:comma]
	}
	if nameParticles[words[len(words)-1]] {
		return ""
	}
	last := len(words) - 1
	for last > 0 && nameParticles[words[last-1]] {
		last--
	}
	if last == 0 {
		return strings.Join(words, " ")
	}
	return strings.Join(words[last:], " ") + ", " + strings.Join(words[:last], " ")
}

// surnameOnly: the words before a comma are one surname, maybe with particles.
func surnameOnly(words []string) bool {
	n := 0
	for _, w := range words {
		if !nameParticles[w] {
			n++
		}
	}
	return n == 1
}

// isNameWord: a capitalised word of letters, hyphens and apostrophes that is
// not a common noun or function word.
func isNameWord(w string) bool {
	if utf8.RuneCountInString(w) < 2 || nameStopwords[w] || nameStopwords[fixCase(w)] {
		return false
	}
	if utf8.RuneCountInString(w) >= 9 && nounSuffixRe.MatchString(strings.ToLower(w)) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(first) {
		return false
	}
	lower := 0
	for _, r := range w {
		switch {
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r), r == '-', r == '\'', r == '’':
		default:
			return false
		}
	}
	return lower > 0 || utf8.RuneCountInString(w) > 2
}

// fixCase turns "MUSTERMANN" into "Mustermann"; mixed case stays.
func fixCase(w string) string {
	if strings.ToUpper(w) != w || utf8.RuneCountInString(w) <= 2 {
		return w
	}
	parts := strings.Split(strings.ToLower(w), "-")
	for i, p := range parts {
		if p == "" {
			continue
		}
		r, size := utf8.DecodeRuneInString(p)
		parts[i] = string(unicode.ToUpper(r)) + p[size:]
	}
	return strings.Join(parts, "-")
}
