package rules

import "strings"

// replyKind says what kind of mail this is when it is not a creditor's answer.
type replyKind int

const (
	replyCreditor   replyKind = iota // a human (or system) answer from the creditor
	replyAutoReply                   // out-of-office or other automatic answer
	replyBounce                      // delivery failure
	replyNewsletter                  // bulk mail without debt content
)

var (
	autoSubjectRe   = mustKeywords(`(?i)abwesenheit|automatische\s+antwort|autom\.\s*antwort|automatic\s+reply|auto[\s-]?reply|autoreply|auto[\s-]?response|out\s+of\s+(?:the\s+)?office|ooo\b|nicht\s+im\s+büro|außer\s+haus|im\s+urlaub|urlaubsbedingt|eingangsbestätigung|empfangsbestätigung|lesebestätigung|^gelesen:|^read:|^ungelesen:|^not read:|wir haben ihre (?:e-?mail|nachricht|anfrage) erhalten|we (?:have )?received your`)
	bounceSubjectRe = mustKeywords(`(?i)unzustellbar|nicht\s+zustellbar|undeliverable|undelivered|delivery\s+(?:status\s+notification|failure|has\s+failed)|mail\s+delivery\s+failed|returned\s+mail|failure\s+notice|zustellung\s+fehlgeschlagen|zustellungsfehler|nondelivery|non-delivery`)
	bounceSenderRe  = mustKeywords(`(?i)mailer-daemon|postmaster|mail\s+delivery\s+(?:subsystem|system)|microsoft\s+outlook\s*$`)
	// autoBodyRe: phrases of absence notes; only decisive without debt content.
	autoBodyRe    = mustKeywords(`(?i)(?:ich\s+bin|bin\s+ich)\s+(?:bis\s+[^\n]{0,40}?\s+)?(?:nicht\s+im\s+büro|nicht\s+erreichbar|abwesend|außer\s+haus|im\s+urlaub)|ich\s+befinde\s+mich\s+(?:bis\s+[^\n]{0,40}?\s+)?(?:im\s+urlaub|nicht\s+im\s+büro|außer\s+haus)|(?:i\s+am|i'm|i\s+will\s+be)\s+(?:currently\s+)?(?:out\s+of\s+(?:the\s+)?office|away|on\s+(?:annual\s+)?leave|on\s+vacation)|diese\s+(?:e-?mail|nachricht)\s+wurde\s+automatisch|automatisch\s+(?:generierte|erstellte)\s+(?:antwort|nachricht|e-?mail)|this\s+is\s+an\s+automat(?:ed|ic)\s+(?:reply|response|message)|ihre\s+(?:e-?mail|nachricht|anfrage)\s+(?:ist\s+)?(?:bei\s+uns\s+)?eingegangen|wir\s+haben\s+ihre\s+(?:e-?mail|nachricht|anfrage)\s+erhalten`)
	bounceBodyRe  = mustKeywords(`(?i)could\s+not\s+be\s+delivered|konnte\s+nicht\s+(?:zugestellt|übermittelt)|delivery\s+to\s+the\s+following\s+recipients?\s+failed|recipient\s+address\s+rejected|user\s+unknown|mailbox\s+(?:unavailable|not\s+found|full)|550[\s-]5\.\d\.\d|554[\s-]5\.\d\.\d`)
	unsubscribeRe = mustKeywords(`(?i)unsubscribe|abmelden|abbestellen|newsletter\s+(?:nicht\s+mehr|abbestellen)|vom\s+newsletter|austragen`)
	// debtWordsRe: words a real answer about a debt uses.
	debtWordsRe = mustKeywords(`(?i)forderung|mandant|schuldner|aktenzeichen|restschuld|saldo|rückstand|inkasso|hauptforderung|offene[rn]?\s+betrag|zahlungsrückstand|vollmacht|debt|outstanding|balance|your\s+client`)
)

// classifyReply decides whether a mail is a creditor's reply; strong is true
// when headers, sender or subject decided it. hasAmount tells whether an
// amount was found in the body or an attachment, which overrules soft body
// phrases; debt wording in an attachment saves a mail with an unsubscribe
// link as well.
func classifyReply(in headerView, subject, fromName, fromEmail string, text foldedText, hasAmount bool, atts []textSource) (kind replyKind, strong bool) {
	if k, ok := headerKind(in); ok {
		return k, true
	}
	subject = strings.TrimSpace(subject)
	switch {
	case bounceSenderRe.MatchString(fromName) || bounceSenderRe.MatchString(localPart(fromEmail)):
		return replyBounce, true
	case bounceSubjectRe.MatchString(subject):
		return replyBounce, true
	case autoSubjectRe.MatchString(subject):
		return replyAutoReply, true
	}
	// Cheap tests first: an amount rules out the soft body phrases, and only
	// a mail with an unsubscribe link needs the debt wording. Advertising
	// quotes prices, so only debt wording saves such a mail.
	switch {
	case !hasAmount && bounceBodyRe.match(text):
		return replyBounce, false
	case !hasAmount && autoBodyRe.match(text):
		return replyAutoReply, false
	case unsubscribeRe.match(text) && !debtWordsRe.match(text) && !attachmentsMention(debtWordsRe, atts):
		return replyNewsletter, false
	}
	return replyCreditor, false
}

// headerView reads forwarded mail headers case-insensitively.
type headerView map[string]string

func newHeaderView(h map[string]string) headerView {
	v := make(headerView, len(h))
	for k, val := range h {
		v[strings.ToLower(strings.TrimSpace(k))] = strings.ToLower(strings.TrimSpace(val))
	}
	return v
}

// headerKind applies the header evidence: RFC 3834 Auto-Submitted, the
// X-Autoreply family and Precedence.
func headerKind(h headerView) (replyKind, bool) {
	if v, ok := h["auto-submitted"]; ok && v != "" && v != "no" {
		return replyAutoReply, true
	}
	for _, k := range []string{"x-autoreply", "x-autorespond", "x-auto-reply", "x-autoresponse"} {
		if _, ok := h[k]; ok {
			return replyAutoReply, true
		}
	}
	switch h["precedence"] {
	case "auto_reply", "auto-reply":
		return replyAutoReply, true
	case "bulk", "list", "junk":
		return replyNewsletter, true
	}
	if strings.Contains(h["content-type"], "report-type=delivery-status") {
		return replyBounce, true
	}
	return replyCreditor, false
}

func localPart(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[:at]
	}
	return email
}

// attachmentsMention reports whether re matches the text of an attachment.
func attachmentsMention(re keywordRe, atts []textSource) bool {
	for _, a := range atts {
		if re.match(a.text) {
			return true
		}
	}
	return false
}
