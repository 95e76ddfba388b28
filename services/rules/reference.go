package rules

import (
	"regexp"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// refRole says whose reference a labelled number is.
type refRole int

const (
	roleFirm      refRole = iota + 1 // the law firm's Aktenzeichen ("Ihr Zeichen")
	roleCreditor                     // the creditor's own ("Unser Zeichen", Kundennummer …)
	roleAmbiguous                    // "Az.", "Aktenzeichen": decided by context
)

// The labels are lists of alternatives in priority order: where several fit
// at one position, the first wins (RE2 alternation is leftmost-first), firm
// before creditor before ambiguous. scanLabels relies on the order.
var (
	firmLabels = []string{
		`ihr(?:e|er|em)?\s+(?:zeichen|aktenzeichen|az\.?|gz\.?|geschäftszeichen|referenz(?:nummer)?|ref\.?|akten?-?\s?(?:nummer|nr\.?)|akte|vorgang(?:snummer)?)`,
		`your\s+(?:ref(?:erence)?\.?(?:\s+(?:no\.?|number))?|file(?:\s+(?:no\.?|number))?|case(?:\s+(?:no\.?|number))?)`,
	}
	creditorLabels = []string{
		`unser(?:e|er|em)?\s+(?:zeichen|aktenzeichen|az\.?|gz\.?|geschäftszeichen|referenz(?:nummer)?|ref\.?|akten?-?\s?(?:nummer|nr\.?)|akte|vorgang(?:snummer)?)`,
		`our\s+(?:ref(?:erence)?\.?(?:\s+(?:no\.?|number))?|file(?:\s+(?:no\.?|number))?|case(?:\s+(?:no\.?|number))?)`,
		`kunden-?\s?(?:nummer|nr\.?|konto)s?`, `kd\.?-?\s?nr\.?`, `kundennr\.?`,
		`vertrags-?\s?(?:nummer|nr\.?|konto(?:nummer)?)`, `vertragskonto(?:nummer)?`,
		`rechnungs-?\s?(?:nummer|nr\.?)`, `re\.?-\s?nr\.?`, `rg\.?-?\s?nr\.?`,
		`mandats-?\s?(?:nummer|nr\.?|referenz)`, `forderungs-?\s?(?:nummer|nr\.?|kennung)`, `vorgangs-?\s?(?:nummer|nr\.?)`,
		`referenz-?\s?(?:nummer|nr\.?)`, `ticket(?:-?\s?(?:nummer|nr\.?|id))?`, `mitglieds-?\s?(?:nummer|nr\.?)`,
		`versicherungs(?:schein)?-?\s?(?:nummer|nr\.?)`, `vers\.?-?\s?nr\.?`, `policen-?\s?(?:nummer|nr\.?)`, `schaden-?\s?(?:nummer|nr\.?)`,
		`kassenzeichen`, `steuer-?\s?(?:nummer|nr\.?)`, `buchungszeichen`, `personenkonto`, `beitragskonto(?:nummer)?`,
		`auftrags-?\s?(?:nummer|nr\.?)`, `bestell-?\s?(?:nummer|nr\.?)`, `konto-?\s?(?:nummer|nr\.?)`, `darlehens-?\s?(?:nummer|nr\.?|konto)`, `kredit-?\s?(?:nummer|nr\.?|konto)`,
		`account\s+(?:no\.?|number)`, `customer\s+(?:no\.?|number|id)`, `invoice\s+(?:no\.?|number)`, `contract\s+(?:no\.?|number)`,
		`reference\s+(?:no\.?|number)`, `ref\.?\s+no\.?`, `claim\s+(?:no\.?|number)`, `policy\s+(?:no\.?|number)`, `loan\s+(?:no\.?|number)`,
		`rechnung`,
	}
	// genericLabels end the creditor labels: any word with a telling ending
	// ("Ärztenummer", "Mieter-Nr.", "Abo Nr"). They start with a letter class,
	// not a literal, so each carries a hand-written prefilter (see labelRun).
	genericLabels = []genericLabel{
		{`\p{L}+(?:nummer|konto)s?`, func(r labelRun, q int) bool { return r.nummer >= q+1 || r.konto >= q+1 }},
		{`\p{L}[\p{L}-]*-nr\.?`, func(r labelRun, q int) bool { return r.hyphenNr >= q+1 }},
		{`\p{L}{3,}nr\.?`, func(r labelRun, q int) bool { return r.nr >= q+3 }},
		{`\p{L}{3,}[ \t]+(?:nr|no)\.?`, func(r labelRun, q int) bool { return r.spacedNo && r.end-q >= 3 }},
		{`\p{L}*vertrag(?:es|s)?`, func(r labelRun, q int) bool { return r.vertrag >= q }},
	}
	ambiguousLabels = []string{
		`aktenzeichen`, `az\.?`, `gz\.?`, `geschäftszeichen`, `akten-?\s?(?:nummer|nr\.?)`,
		`referenz`, `reference`, `ref\.?`, `case\s+(?:no\.?|number)`, `file\s+(?:no\.?|number)`,
	}
)

const (
	refSeparator = `(?:[ \t]+\p{L}{2,20}[ \t]*[:|])?[ \t]*(?:\(?(?:nr|no)\.?\)?)?[ \t]*[:#.|]?[ \t]*(?:\n[ \t]*)?#?[ \t]*`
	refValue     = `([A-Za-z0-9][A-Za-z0-9./_\-]{0,40})`
)

var (
	// refLabelRe is the whole label grammar in one regexp: group 1 a firm
	// label, 2 a creditor label, 3 an ambiguous one, 4 the value. scanLabels
	// finds exactly its matches, faster.
	refLabelRe = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])` + refLabelGroups + refSeparator + refValue)
	// refLabelAfterRe is refLabelRe for a search that starts past the
	// beginning of the text, where ^ cannot match.
	refLabelAfterRe = regexp.MustCompile(`(?i)[^\p{L}\p{N}]` + refLabelGroups + refSeparator + refValue)
	// nextTokenRe continues a value split by one space ("1234 5678", "INK 2024/77").
	nextTokenRe = regexp.MustCompile(`^ ([A-Za-z0-9][A-Za-z0-9./_\-]{0,40})`)
	prefixRe    = regexp.MustCompile(`^[A-Z]{2,5}$`)
	suffixRe    = regexp.MustCompile(`^[A-Z]{1,3}$`)
	dateRe      = regexp.MustCompile(`^\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})$`)
	// firmShapeRe: how the firm writes its Aktenzeichen ("12345/24", "355/26",
	// "MA-2024-0815", "2024_123", "417_26", "512344_71020").
	firmShapeRe = regexp.MustCompile(`^(?:\d{3,6}/\d{2}|[A-Z]{2}-\d{4}-\d{3,5}|\d{3,6}_\d{1,6})$`)
	// slashAfterRe continues a number written with blanks around its slash
	// ("355 / 26", "355 /26"); slashedAfterRe one whose blank follows it ("355/ 26").
	slashAfterRe   = regexp.MustCompile(`^ ?/ ?(\d{2,4})(?:$|[^\d/])`)
	slashedAfterRe = regexp.MustCompile(`^ (\d{2,4})(?:$|[^\d/])`)
	// excludedLabelRe: numbers that are contact data or addresses, not references.
	excludedLabelRe = regexp.MustCompile(`(?i)^(?:telefon|tel|fax|handy|mobil|ruf|haus|seiten|durchwahl|ust|steuer-?id|iban|bic|bankleitzahl|blz|postleitzahl|plz|personalausweis|zimmer|anlagen?)`)
	// ibanRe: an IBAN, compact or in groups of four.
	ibanRe = regexp.MustCompile(`^[A-Z]{2}\d{2}(?: ?[0-9A-Z]{4}){2,}`)
	// footerRe marks company register lines, whose numbers are no case references.
	footerRe = mustKeywords(`(?i)\bhr[ab]\b|registergericht|amtsgericht|ust-?id|ust\.?-?idnr|geschäftsführ|vorstand|aufsichtsrat|sitz der`)
	// yourContextRe before an ambiguous label points at the firm ("Ihr Schreiben vom …, Az.").
	yourContextRe = mustKeywords(`(?i)\b(?:ihr|ihre|ihrem|ihrer|ihres|your)\b`)
)

// references holds the case numbers found in one email.
type references struct {
	firm     string   // client_aktenzeichen
	creditor []string // reference_numbers
	// firmSource and creditorSource say where firm and the first of
	// creditor were read (see models.ExtractedData.Sources).
	firmSource, creditorSource string
}

// maxAttachmentRefs bounds the creditor references one attachment adds:
// a statement may label every booking with an invoice number.
const maxAttachmentRefs = 10

// extractReferences reads labelled case numbers from the subject, the body
// and then the attachments; the first firm number found is the firm's. In
// the subject (written by the firm, echoed back) a bare "Az." is the
// firm's; in the body and attachments it is the firm's only with "Ihr …"
// context or the firm's number shape.
func extractReferences(subjectText, body foldedText, atts []textSource) references {
	subject := subjectText.s
	var refs references
	seen := map[string]bool{}
	source, added := models.SourceSubject, 0
	add := func(role refRole, v string) {
		key := refKey(v)
		if role == roleFirm {
			if refs.firm == "" {
				refs.firm, refs.firmSource = v, source
			}
			return
		}
		if !seen[key] {
			seen[key] = true
			refs.creditor = append(refs.creditor, v)
			added++
		}
	}
	// ends[i] is how many creditor references sources[i] and those before
	// it gave.
	sourcesBuf, endsBuf := [2]string{models.SourceSubject, models.SourceBody}, [2]int{}
	sources, ends := sourcesBuf[:], endsBuf[:]
	scanRefs(subjectText, subjectVoice(subject), add)
	ends[0] = len(refs.creditor)
	source = models.SourceBody
	scanRefs(body, voiceCreditor, add)
	ends[1] = len(refs.creditor)
	for _, a := range atts {
		source, added = a.name, 0
		scanRefs(a.text, voiceCreditor, func(role refRole, v string) {
			if role == roleFirm || added < maxAttachmentRefs {
				add(role, v)
			}
		})
		sources, ends = append(sources, a.name), append(ends, len(refs.creditor))
	}
	if refs.firm == "" {
		refs.firm = unlabelledFirmRef(subject)
		refs.firmSource = models.SourceSubject
	}
	if refs.firm == "" {
		refs.firmSource = ""
	}
	first := -1 // the first creditor reference that is not the firm's
	refs.creditor, first = dropRef(refs.creditor, refs.firm)
	for i, end := range ends {
		if first >= 0 && first < end {
			refs.creditorSource = sources[i]
			break
		}
	}
	if len(refs.creditor) == 0 {
		refs.creditor = []string{}
	}
	return refs
}

// unlabelledFirmRef returns the first token of the firm's subject in the
// firm's number shape: its subject often carries the number without a label.
func unlabelledFirmRef(subject string) string {
	for _, tok := range strings.FieldsFunc(subject, func(r rune) bool { return strings.ContainsRune(" \t,;()[]", r) }) {
		tok = strings.TrimRight(tok, ".:")
		if firmShapeRe.MatchString(tok) {
			return tok
		}
	}
	return ""
}

// dropRef removes the firm's number from the creditor's and returns the
// index the first one kept had, or -1.
func dropRef(creditor []string, firm string) (kept []string, first int) {
	key := refKey(firm)
	first = -1
	kept = creditor[:0]
	for i, r := range creditor {
		if firm != "" && refKey(r) == key {
			continue
		}
		if first < 0 {
			first = i
		}
		kept = append(kept, r)
	}
	return kept, first
}

// voice says who wrote a text, which decides whose "Ihr Zeichen" it is.
type voice int

const (
	voiceCreditor voice = iota // the creditor's reply body or own subject
	voiceFirm                  // the firm's subject echoed in a reply ("AW: …")
	voiceUnknown               // a subject of unknown origin
)

// replyPrefixRe: a subject that echoes the firm's original subject.
var replyPrefixRe = regexp.MustCompile(`(?i)^\s*(?:\[[^\]]*\]\s*)?(?:aw|re|antw|antwort|wg|fw|fwd|sv|vs|tr|abwesenheitsnotiz|automatische antwort|automatic reply|auto-?reply|out of office|unzustellbar|undeliverable|gelesen|read|eingangsbestätigung)\s*:`)

func subjectVoice(subject string) voice {
	if replyPrefixRe.MatchString(subject) {
		return voiceFirm
	}
	return voiceUnknown
}

func scanRefs(t foldedText, v voice, add func(refRole, string)) {
	text := t.s
	for _, m := range scanLabels(t, maxRefMatches) {
		if m.role == roleCreditor && excludedLabelRe.MatchString(text[m.labelStart:m.labelEnd]) {
			continue
		}
		value, ok := refValueAt(text, m.valueStart, m.valueEnd)
		if !ok || moneyAfter(text, m.valueEnd) || footerRe.MatchString(lineAt(text, m.valueStart)) || ibanRe.MatchString(text[m.valueStart:min(m.valueStart+40, len(text))]) {
			continue
		}
		add(resolveRole(text, m, v, value), value)
	}
}

// resolveRole decides whose reference a labelled value is. In the firm's
// own subject "Ihr Zeichen" is the creditor's and "unser Zeichen" the firm's;
// a bare "Az." outside a creditor's text, the firm's number shape, or "Ihr …"
// context in the creditor's text make a value the firm's.
func resolveRole(text string, m refMatch, v voice, value string) refRole {
	role := m.role
	if v == voiceFirm && role != roleAmbiguous {
		if role == roleFirm {
			role = roleCreditor
		} else if lbl := strings.ToLower(text[m.labelStart:m.labelEnd]); strings.HasPrefix(lbl, "unser") || strings.HasPrefix(lbl, "our") {
			role = roleFirm
		}
	}
	switch {
	case role == roleAmbiguous && v != voiceCreditor:
		return roleFirm
	case role == roleAmbiguous:
		lineStart := lineStartNear(text, m.labelStart)
		if firmShapeRe.MatchString(value) || yourContextRe.MatchString(text[max(lineStart, m.labelStart-60):m.labelStart]) {
			return roleFirm
		}
		return roleCreditor
	case role == roleCreditor && v != voiceCreditor && firmShapeRe.MatchString(value):
		return roleFirm
	}
	return role
}

// moneyAfter reports whether the value ending at end goes on as money:
// "laut Rechnung 1.980,00 €" labels an amount, not a reference.
func moneyAfter(text string, end int) bool {
	if end+1 < len(text) && text[end] == ',' && (isDigit(text[end+1]) || text[end+1] == 'O' || text[end+1] == 'o') {
		return true
	}
	return currencyAfter(text, end)
}

// refValueAt validates and completes the value captured at text[start:end].
func refValueAt(text string, start, end int) (string, bool) {
	v := text[start:end]
	if v, ok := slashedValue(v, text[end:min(end+10, len(text))]); ok {
		return finishRefValue(v)
	}
	for range 3 {
		m := nextTokenRe.FindStringSubmatch(text[end:min(end+43, len(text))])
		if m == nil {
			break
		}
		next := strings.TrimRight(m[1], ".-/")
		switch {
		case isGroup(v[strings.LastIndexByte(v, ' ')+1:]) && isGroup(next) && len(next) >= 2:
			v += " " + next // "55 667 788", "4532 XXXX XXXX 1234"
		case suffixRe.MatchString(next) && lineEnds(text[end+len(m[0]):]):
			v += " " + next // "123/24 SP"
		case prefixRe.MatchString(v) && strings.ContainsAny(next, "0123456789"):
			v += " " + next // "INK 2024/77"
		default:
			return finishRefValue(v)
		}
		end += len(m[0])
	}
	return finishRefValue(v)
}

// slashedValue joins the digits v and the digits after a slash with blanks
// around it in rest, the text after v: "355 / 26" is "355/26".
func slashedValue(v, rest string) (string, bool) {
	re, head := slashAfterRe, v
	if strings.HasSuffix(v, "/") {
		re, head = slashedAfterRe, v[:len(v)-1]
	}
	if !isDigits(head) || rest == "" || rest[0] != ' ' && rest[0] != '/' {
		return "", false
	}
	m := re.FindStringSubmatch(rest)
	if m == nil {
		return "", false
	}
	return head + "/" + m[1], true
}

// finishRefValue trims and validates a reference value.
func finishRefValue(v string) (string, bool) {
	v = strings.TrimRight(v, ".-/_")
	if len(v) < 3 || !strings.ContainsAny(v, "0123456789") || dateRe.MatchString(v) {
		return "", false
	}
	return v, true
}

// refKey compares references regardless of case and spacing.
func refKey(v string) string {
	return strings.ToUpper(strings.ReplaceAll(v, " ", ""))
}

// lineAt returns the line of text containing byte offset pos, at most
// lineWindow bytes either side so long lines cannot make scans quadratic.
func lineAt(text string, pos int) string {
	lo, hi := max(pos-lineWindow, 0), min(pos+lineWindow, len(text))
	start := lo + strings.LastIndexByte(text[lo:pos], '\n') + 1
	end := strings.IndexByte(text[pos:hi], '\n')
	if end < 0 {
		return text[start:hi]
	}
	return text[start : pos+end]
}

// lineStartNear returns where the line containing pos starts, looking back
// at most lineWindow bytes.
func lineStartNear(text string, pos int) int {
	lo := max(pos-lineWindow, 0)
	return lo + strings.LastIndexByte(text[lo:pos], '\n') + 1
}

const lineWindow = 200

// isGroup: a digit group or a masked group of a card number.
func isGroup(s string) bool {
	return isDigits(s) || s != "" && strings.Trim(s, "X*•") == ""
}

// lineEnds reports whether only blanks remain before the end of the line.
func lineEnds(s string) bool {
	s = strings.TrimLeft(s, " \t")
	return s == "" || s[0] == '\n'
}

// maxRefMatches bounds the labelled numbers read from one text; real mails
// carry a handful.
const maxRefMatches = 300
