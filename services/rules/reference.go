package rules

import (
	"regexp"
	"strings"
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
	// firmShapeRe: how the firm writes its Aktenzeichen ("12345/24", "MA-2024-0815", "2024_123").
	firmShapeRe = regexp.MustCompile(`^(?:\d{3,6}/\d{2}|[A-Z]{2}-\d{4}-\d{3,5}|\d{4}_\d{1,6})$`)
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
}

// extractReferences reads labelled case numbers from the subject and body.
// In the subject (written by the firm, echoed back) a bare "Az." is the
// firm's; in the body it is the firm's only with "Ihr …" context or the
// firm's number shape.
func extractReferences(subjectText, body foldedText) references {
	subject := subjectText.s
	var refs references
	seen := map[string]bool{}
	add := func(role refRole, v string) {
		key := refKey(v)
		if role == roleFirm {
			if refs.firm == "" {
				refs.firm = v
			}
			return
		}
		if !seen[key] {
			seen[key] = true
			refs.creditor = append(refs.creditor, v)
		}
	}
	scanRefs(subjectText, subjectVoice(subject), add)
	scanRefs(body, voiceCreditor, add)
	if refs.firm == "" {
		// The firm's subject often carries its number without a label.
		for _, tok := range strings.FieldsFunc(subject, func(r rune) bool { return strings.ContainsRune(" \t,;()[]", r) }) {
			tok = strings.TrimRight(tok, ".:")
			if firmShapeRe.MatchString(tok) {
				refs.firm = tok
				break
			}
		}
	}
	if refs.firm != "" {
		key := refKey(refs.firm)
		kept := refs.creditor[:0]
		for _, r := range refs.creditor {
			if refKey(r) != key {
				kept = append(kept, r)
			}
		}
		refs.creditor = kept
	}
	if refs.creditor == nil {
		refs.creditor = []string{}
	}
	return refs
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
		if !ok || footerRe.MatchString(lineAt(text, m.valueStart)) || ibanRe.MatchString(text[m.valueStart:min(m.valueStart+40, len(text))]) {
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

// refValueAt validates and completes the value captured at text[start:end].
func refValueAt(text string, start, end int) (string, bool) {
	v := text[start:end]
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
