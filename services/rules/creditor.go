package rules

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

var (
	// companyMarkerRe: legal-form suffixes, case-sensitive ("AG" but not "ag");
	// its needles are case-folded all the same, which only lets more through.
	companyMarkerRe = mustLeadKeywords(``, `[^\p{L}]`,
		`GmbH|AG|KGaA|KG|SE|OHG|GbR|UG|eG|e\.[ \t]?V\.|mbH|mbB|PartG|Ltd\.?|Limited|Inc\.?|LLC|plc|S\.A\.|B\.V\.|N\.V\.|BV|NV|AB|A/S|ApS|Oy|S\.p\.A\.|S\.r\.l\.|SAS|SARL|AöR|KdöR`,
		`(?:$|[^\p{L}])`)
	// companyWordRe: words that name an institution without a legal form.
	companyWordRe = mustLeadKeywords(`(?i)`, `[^\p{L}]`,
		`\p{L}*bank|sparkasse|inkasso\p{L}*|\p{L}*versicherung(?:en)?|versicherungs\p{L}*|stadtwerke|\p{L}*werke|finanzamt|\p{L}*kasse|gemeinde|stadtverwaltung|landratsamt|jobcenter|agentur für arbeit|beitragsservice|telekom|vodafone|telefónica|energie\p{L}*|insurance|finance|financial|energy|\p{L}*praxis|\p{L}*klinik(?:um)?|krankenhaus|apotheke|hausverwaltung|immobilien|\p{L}*kanzlei|rechtsanwälte|steuerberatung`,
		`(?:$|[^\p{L}])`)
	// companyPhraseRe pulls "Muster Inkasso GmbH" out of a longer line.
	companyPhraseRe = regexp.MustCompile(`(?:[\p{Lu}\p{N}][\p{L}\p{N}&.'’\-]*[ \t]+(?:&[ \t]+)?){1,5}(?:GmbH(?:[ \t]*&[ \t]*Co\.?[ \t]*KG)?|AG|KGaA|KG|SE|OHG|UG|eG|e\.[ \t]?V\.|PartG mbB|Ltd\.?|Limited|Inc\.?|LLC|plc|AB)`)
	// closingRe: the greeting that starts a signature.
	closingRe = regexp.MustCompile(`(?im)^[ \t]*(?:` + closingWords + `)[ \t,.!]*`)
	// closingWordsRe and closingAtRe are closingRe's words, for closingAt.
	closingWordsRe = mustKeywords(`(?i)` + closingWords)
	closingAtRe    = regexp.MustCompile(`(?i)\A(?:` + closingWords + `)`)
	// notCompanyLineRe: contact, bank-detail, register and quoted-header lines.
	notCompanyLineRe = mustKeywords(`(?i)@|www\.|https?:|\btel\b|telefon|\bfax\b|iban|\bbic\b|bankverbindung|konto|hrb|hra|registergericht|amtsgericht|ust-?id|steuer|geschäftsführ|vorstand|aufsichtsrat|sitz der|^(?:von|from|an|to|cc|gesendet|sent|betreff|subject|datum|date)\s*:`)
	// segmentSepAtRe is segmentSeparators anchored, for splitSegments.
	segmentSepAtRe  = regexp.MustCompile(`\A(?:` + segmentSeparators + `)`)
	leadingFillerRe = regexp.MustCompile(`(?i)^(?:(?:ihr|ihre|your|das|the)[ \t]+)?(?:(?:service-?team|kundenservice|team|forderungsmanagement|customer service)[ \t]+(?:der|des|von|vom|from|at|of)?[ \t]*)?`)
)

// segmentSeparators split a signature line into the parts that may name a
// company.
const segmentSeparators = `[ \t]+[·|•–][ \t]+|[ \t]+-[ \t]+|[ \t]{2,}|\t|,[ \t]+|\||[ \t]*[()\[\]<>][ \t]*`

// closingWords are the greetings that start a signature.
const closingWords = `mit\s+freundlichen\s+grüßen|mit\s+freundlichem\s+gruß|freundliche\s+grüße|viele\s+grüße|beste\s+grüße|herzliche\s+grüße|liebe\s+grüße|mit\s+besten\s+grüßen|schöne\s+grüße|hochachtungsvoll|mfg\b|best\s+regards|kind\s+regards|warm\s+regards|regards|sincerely|yours\s+(?:sincerely|faithfully)|i\.\s?a\.|i\.\s?v\.`

// noCreditorLabels are domain labels (the one left of the public suffix:
// "gmx" of gmx.de, "zendesk" of zendesk.com) that never name a creditor:
// mail providers under any country domain, and the ticket system the firm
// asks through. It is not matcher.IsFreemail, which knows whole provider
// domains and decides which senders' domains are looked up: the two differ
// on purpose (yandex.com, pm.me and vodafone.de are freemail there, while
// web.com and zendesk.com name no creditor here), and sharing one list would
// change what one of them decides.
var noCreditorLabels = wordSet(`gmail googlemail gmx web t-online outlook hotmail live msn yahoo icloud me mac aol
	freenet posteo mailbox protonmail proton arcor online mail email gmx-topmail zendesk vodafonemail kabelmail`)

// extractCreditor names the creditor and says where it was read: the body's
// signature, the sender's name, a company line in the body, an attachment's
// signature or letterhead or, last, the sender's domain.
func extractCreditor(body, fromName, fromEmail string, atts []textSource) (name, source string) {
	lines := splitLines(body)
	if c := signatureCreditor(lines); c != "" {
		return c, models.SourceBody
	}
	if c := companyFromLine(fromName); c != "" {
		return c, models.SourceSender
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if c := companyFromLine(lines[i]); c != "" && companyMarkerRe.MatchString(c) {
			return c, models.SourceBody
		}
	}
	for _, a := range atts {
		if c := attachmentCreditor(a.text.s); c != "" {
			return c, a.name
		}
	}
	if c := companyFromDomain(fromEmail); c != "" {
		return c, models.SourceSender
	}
	return "", ""
}

// signatureCreditor returns the company in the signature that follows the
// closing greeting, if any.
func signatureCreditor(lines []string) string {
	if start := closingLine(lines); start >= 0 {
		// A legal form beats a bare institution word ("Ihr Telekom Team").
		for _, needMarker := range []bool{true, false} {
			if c := signatureCompany(lines, start, needMarker); c != "" {
				return c
			}
		}
	}
	return ""
}

// letterheadLines is how many non-blank lines at the top of an attachment
// may hold its letterhead.
const letterheadLines = 15

// recipientLineRe: the firm's lawyers, whom a creditor's letter is
// addressed to; their line in the address block names no creditor.
var recipientLineRe = mustKeywords(`(?i)kanzlei|rechtsanw|anwält|anwalt|notar|law firm|solicitor|schuldnerberatung`)

// attachmentCreditor names the company that wrote an attachment: its
// signature, else a line with a legal form in its letterhead. Lines naming
// lawyers are skipped: the attachment is addressed to the firm.
func attachmentCreditor(text string) string {
	lines := splitLines(text)
	if c := signatureCreditor(lines); c != "" && !recipientLineRe.MatchString(c) {
		return c
	}
	for i, n := 0, 0; i < len(lines) && n < letterheadLines; i++ {
		if lines[i] == "" {
			continue
		}
		n++
		if recipientLineRe.MatchString(lines[i]) {
			continue
		}
		if c := companyFromLine(lines[i]); c != "" && companyMarkerRe.MatchString(c) {
			return c
		}
	}
	return ""
}

// signatureCompany scans the lines after the closing greeting.
func signatureCompany(lines []string, start int, needMarker bool) string {
	for i, n := start, 0; i < len(lines) && n < 12; i++ {
		line := lines[i]
		if i == start {
			line = closingRe.ReplaceAllString(line, "")
		}
		if line == "" {
			continue
		}
		n++
		if c := companyFromLine(line); c != "" && (!needMarker || companyMarkerRe.MatchString(c)) {
			return c
		}
	}
	return ""
}

// closingLine returns the index of the first line closingRe matches. The
// lines come from splitLines, one line each with its blanks trimmed, so
// closingRe's ^ matches at 0 only and its words must start there.
func closingLine(lines []string) int {
	for i, l := range lines {
		if mayStartClosing(l, 0) && closingAt(foldText(l), 0) {
			return i
		}
	}
	return -1
}

// closingIndex returns the byte offset where the signature starts, or
// len(body): closingRe's first match, found by trying its words after the
// blanks at each line start.
func closingIndex(body foldedText) int {
	for ls := 0; ls < len(body.s); {
		words := ls + len(body.s[ls:]) - len(strings.TrimLeft(body.s[ls:], " \t"))
		if mayStartClosing(body.s, words) && closingAt(body, words) {
			return ls
		}
		nl := strings.IndexByte(body.s[ls:], '\n')
		if nl < 0 {
			break
		}
		ls += nl + 1
	}
	return len(body.s)
}

// mayStartClosing is a quick test before closingAt: no greeting starts
// with an ASCII byte other than the first letters of closingWords.
func mayStartClosing(s string, i int) bool {
	return i < len(s) && (s[i] >= utf8.RuneSelf || len(closingWordsRe.scan.byFirst[asciiLowerByte(s[i])]) > 0)
}

// closingAt reports whether closingRe's words match at t.s[s:]; none of
// them looks at the text before s.
func closingAt(t foldedText, s int) bool {
	if closingWordsRe.fits(t) {
		_, ok := closingWordsRe.scan.at(t, s)
		return ok
	}
	return closingAtRe.MatchString(t.s[s:])
}

// companyFromLine returns the company named by a short signature-like line.
func companyFromLine(line string) string {
	line = strings.TrimSpace(line)
	if line == "" || len(line) > 200 || notCompanyLineRe.MatchString(line) {
		return ""
	}
	for _, seg := range splitSegments(line) {
		seg = strings.Trim(seg, " \t.,;:-*_\"'()")
		if strings.HasSuffix(seg, "e.V") || strings.HasSuffix(seg, "Inc") || strings.HasSuffix(seg, "Ltd") {
			seg += "."
		}
		seg = strings.TrimSpace(trimLeadingFiller(seg))
		if seg == "" {
			continue
		}
		text := foldText(seg)
		marker := companyMarkerRe.match(text)
		if !marker && !companyWordRe.match(text) {
			continue
		}
		if words := len(strings.Fields(seg)); words <= 7 && len(seg) <= 70 && startsUpper(seg) && !strings.HasSuffix(seg, "?") {
			return seg
		}
		if marker {
			if p := companyPhraseRe.FindString(seg); p != "" {
				return strings.TrimSpace(p)
			}
		}
	}
	return ""
}

// splitSegments splits line at segmentSeparators into at most 8 parts, as
// regexp.Split(line, 8) would, without an unanchored search: the anchored
// regexp runs only where mayStartSegmentSep says a separator can start,
// which in most lines is nowhere.
func splitSegments(line string) []string {
	if line == "" {
		return []string{""}
	}
	var segs []string
	beg := 0
	for p := 0; p < len(line) && len(segs) < 7; p++ {
		if !mayStartSegmentSep(line, p) {
			continue
		}
		if loc := segmentSepAtRe.FindStringIndex(line[p:]); loc != nil {
			segs = append(segs, line[beg:p])
			beg = p + loc[1]
			p = beg - 1
		}
	}
	return append(segs, line[beg:])
}

// mayStartSegmentSep reports whether a segmentSeparators match may start at
// line[p]: a tab, bar or bracket; a comma before a blank; or blanks that are
// two or more or lead to a dash, dot, bar or bracket.
func mayStartSegmentSep(line string, p int) bool {
	switch line[p] {
	case '\t', '|', '(', ')', '[', ']', '<', '>':
		return true
	case ',':
		return p+1 < len(line) && (line[p+1] == ' ' || line[p+1] == '\t')
	case ' ':
		r := p + 1
		for r < len(line) && (line[r] == ' ' || line[r] == '\t') {
			r++
		}
		if r-p >= 2 {
			return true
		}
		if r == len(line) {
			return false
		}
		rest := line[r:]
		return strings.ContainsRune("-|()[]<>", rune(rest[0])) ||
			strings.HasPrefix(rest, "·") || strings.HasPrefix(rest, "•") || strings.HasPrefix(rest, "–")
	}
	return false
}

// trimLeadingFiller is leadingFillerRe.ReplaceAllString(seg, ""). The
// pattern is anchored, so it only removes a prefix, which starts with one of
// a few letters (or a rune beyond ASCII that (?i) equates with one).
func trimLeadingFiller(seg string) string {
	if seg != "" && seg[0] < utf8.RuneSelf && !strings.ContainsRune("iydtskfcIYDTSKFC", rune(seg[0])) {
		return seg
	}
	return leadingFillerRe.ReplaceAllString(seg, "")
}

func startsUpper(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

// companyFromDomain turns "forderung@muster-inkasso.de" into "Muster Inkasso";
// freemail addresses give "".
func companyFromDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	domain := strings.ToLower(strings.Trim(email[at+1:], " <>.\t"))
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return ""
	}
	i := len(labels) - 2
	if i > 0 && (labels[i] == "co" || labels[i] == "com" || labels[i] == "org" || labels[i] == "net" || labels[i] == "ac") {
		i--
	}
	label := labels[i]
	if label == "" || noCreditorLabels[label] {
		return ""
	}
	words := strings.FieldsFunc(label, func(r rune) bool { return r == '-' || r == '_' })
	for j, w := range words {
		switch w {
		case "ag", "se", "kg":
			words[j] = strings.ToUpper(w)
		case "gmbh":
			words[j] = "GmbH"
		default:
			r, size := utf8.DecodeRuneInString(w)
			words[j] = string(unicode.ToUpper(r)) + w[size:]
		}
	}
	return strings.Join(words, " ")
}
