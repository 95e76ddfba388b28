package rules

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Finding labelled references with refLabelRe costs most of the rules'
// time: it has some 1,500 instructions, and an unanchored search runs them
// from every position of the text. scanLabels finds exactly the same
// matches but runs a small anchored regexp per label alternative, and only
// where a cheap test on the text says the label may start.

// refMatch is one match of refLabelRe: which label group matched, the label
// and the value.
type refMatch struct {
	role                 refRole
	labelStart, labelEnd int
	valueStart, valueEnd int
}

// genericLabel is a creditor label that starts with a letter class; mayStart
// is its prefilter, true wherever the label may start at q.
type genericLabel struct {
	pattern  string
	mayStart func(r labelRun, q int) bool
}

// labelAlt is one label alternative compiled on its own: anchored at the
// label's first letter, group 1 the label and group 2 the value.
type labelAlt struct {
	role refRole
	re   *regexp.Regexp
	// prefixes are folded literals (see foldText) a match starts with one
	// of; generic labels have mayStart instead.
	prefixes []string
	mayStart func(r labelRun, q int) bool
}

// refLabelGroups is the label part of refLabelRe, built from the lists.
var refLabelGroups = `(?:(` + strings.Join(firmLabels, "|") + `)|(` +
	strings.Join(creditorLabels, "|") + "|" + joinGeneric(genericLabels) + `)|(` +
	strings.Join(ambiguousLabels, "|") + `))`

func joinGeneric(gs []genericLabel) string {
	ps := make([]string, len(gs))
	for i, g := range gs {
		ps[i] = g.pattern
	}
	return strings.Join(ps, "|")
}

// refLabelOdd are the odd runes (see foldedText) that matter to the labels.
var refLabelOdd = oddRunesOf(mustParse(refLabelRe.String()))

// altsByFirst[c] lists, in priority order, the label alternatives that may
// match at a label whose first byte (ASCII-lowercased) is c.
var altsByFirst = indexLabelAlts()

func indexLabelAlts() *[256][]*labelAlt {
	var alts []*labelAlt
	add := func(role refRole, pattern string, mayStart func(labelRun, int) bool) {
		prefixes, _ := literalPrefixes(mustParse(`(?i)` + pattern))
		alt := &labelAlt{
			role:     role,
			re:       regexp.MustCompile(`(?i)\A(` + pattern + `)` + refSeparator + refValue),
			prefixes: prefixes,
			mayStart: mayStart,
		}
		if prefixes == nil && mayStart == nil {
			panic("rules: label " + pattern + " needs a literal start or a prefilter")
		}
		alts = append(alts, alt)
	}
	for _, p := range firmLabels {
		add(roleFirm, p, nil)
	}
	for _, p := range creditorLabels {
		add(roleCreditor, p, nil)
	}
	for _, g := range genericLabels {
		add(roleCreditor, g.pattern, g.mayStart)
	}
	for _, p := range ambiguousLabels {
		add(roleAmbiguous, p, nil)
	}
	var by [256][]*labelAlt
	for c := 0; c < 256; c++ {
		// Labels start with a letter: an ASCII one or a UTF-8 lead byte.
		if !('a' <= c && c <= 'z' || c >= 0xC0) {
			continue
		}
		for _, alt := range alts {
			if alt.mayStart != nil || hasFirstByte(alt.prefixes, byte(c)) {
				by[c] = append(by[c], alt)
			}
		}
	}
	return &by
}

func hasFirstByte(prefixes []string, c byte) bool {
	for _, p := range prefixes {
		if p[0] == c {
			return true
		}
	}
	return false
}

// labelRun describes the run of bytes a label candidate starts in: ASCII
// letters, '-' and any non-ASCII byte, which covers the letters and hyphens
// of every generic label. It records where the run ends and where the
// generic labels' endings last occur in it, so that each prefilter is a
// comparison and a long run is read once for all candidates in it.
type labelRun struct {
	end                                  int
	nummer, konto, nr, hyphenNr, vertrag int  // last index in the run, or -1
	spacedNo                             bool // blanks and "nr" or "no" follow the run
}

func readLabelRun(lower string, q int) labelRun {
	r := labelRun{nummer: -1, konto: -1, nr: -1, hyphenNr: -1, vertrag: -1}
	end := q
	for ; end < len(lower) && isLabelRunByte(lower[end]); end++ {
		rest := lower[end:]
		switch rest[0] {
		case 'n':
			if strings.HasPrefix(rest, "nr") {
				r.nr = end
			} else if strings.HasPrefix(rest, "nummer") {
				r.nummer = end
			}
		case 'k':
			if strings.HasPrefix(rest, "konto") {
				r.konto = end
			}
		case '-':
			if strings.HasPrefix(rest, "-nr") {
				r.hyphenNr = end
			}
		case 'v':
			if strings.HasPrefix(rest, "vertrag") {
				r.vertrag = end
			}
		}
	}
	r.end = end
	next := end
	for next < len(lower) && (lower[next] == ' ' || lower[next] == '\t') {
		next++
	}
	rest := lower[next:]
	r.spacedNo = next > end && (strings.HasPrefix(rest, "nr") || strings.HasPrefix(rest, "no"))
	return r
}

func isLabelRunByte(c byte) bool {
	return 'a' <= c && c <= 'z' || c == '-' || c >= utf8.RuneSelf
}

// maxLabelGaps is how many runs of blanks a match of a label alternative
// with refSeparator and refValue can span: two in a label ("Ihr Akten- Nr"),
// six in refSeparator. A match starting at q therefore ends before the next
// run, which bounds the text each anchored regexp is given.
const maxLabelGaps = 8

// labelWindowEnd returns where a match of a label starting at q must end by.
func labelWindowEnd(text string, q int) int {
	gaps := 0
	for i := q; i < len(text); i++ {
		if !isRegexpSpace(text[i]) {
			continue
		}
		if gaps == maxLabelGaps {
			return i
		}
		gaps++
		for i+1 < len(text) && isRegexpSpace(text[i+1]) {
			i++
		}
	}
	return len(text)
}

// isRegexpSpace reports whether c is in RE2's \s.
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// labelLead is refLabelRe's rune before a label: neither a letter nor a
// number.
var labelLead = newLeadClass(`(?i)`, `[^\p{L}\p{N}]`)

// scanLabels returns refLabelRe.FindAllStringSubmatchIndex(text, limit)
// as refMatches. Like the regexp it searches from the end of the previous
// match for the leftmost next one, trying the alternatives in order.
func scanLabels(t foldedText, limit int) []refMatch {
	text, lower := t.s, t.folded
	// The fold misses odd runes that (?i) equates with a label's letters
	// (the Kelvin sign for "k"), and invalid UTF-8 decodes differently backwards.
	if t.odd&refLabelOdd != 0 {
		return regexpLabels(text, 0, limit)
	}
	// Pathological text (endless label-like words) may need many tries; past
	// this budget of window bytes the single regexp is cheaper.
	budget := 16*len(text) + 8192
	var out []refMatch
	var run labelRun
	pos := 0 // where the search for the next match starts
	for q := 0; q < len(text) && len(out) < limit; q++ {
		if q > 0 && isASCIIAlnum(text[q-1]) {
			continue // inside a word
		}
		alts := altsByFirst[lower[q]]
		if len(alts) == 0 {
			continue
		}
		if q >= run.end {
			run = readLabelRun(lower, q)
		}
		checked, end := false, 0
		for _, alt := range alts {
			if alt.mayStart == nil && !hasAnyPrefix(lower[q:], alt.prefixes) ||
				alt.mayStart != nil && !alt.mayStart(run, q) {
				continue
			}
			if !checked {
				start, ok := labelLead.start(text, q)
				if !ok || start < pos {
					break
				}
				checked, end = true, labelWindowEnd(text, q)
			}
			if budget -= end - q; budget < 0 {
				return append(out, regexpLabels(text, pos, limit-len(out))...)
			}
			if m := alt.re.FindStringSubmatchIndex(text[q:end]); m != nil {
				out = append(out, refMatch{role: alt.role, labelStart: q + m[2], labelEnd: q + m[3], valueStart: q + m[4], valueEnd: q + m[5]})
				pos = q + m[1]
				q = pos - 1 // the next label starts past the next boundary rune
				break
			}
		}
	}
	return out
}

// regexpLabels runs refLabelRe on text from pos.
func regexpLabels(text string, pos, limit int) []refMatch {
	re := refLabelRe
	if pos > 0 {
		re = refLabelAfterRe
	}
	var out []refMatch
	for _, m := range re.FindAllStringSubmatchIndex(text[pos:], limit) {
		r := refMatch{role: roleAmbiguous, labelStart: m[6], labelEnd: m[7], valueStart: m[8], valueEnd: m[9]}
		switch {
		case m[2] >= 0:
			r.role, r.labelStart, r.labelEnd = roleFirm, m[2], m[3]
		case m[4] >= 0:
			r.role, r.labelStart, r.labelEnd = roleCreditor, m[4], m[5]
		}
		r.labelStart += pos
		r.labelEnd += pos
		r.valueStart += pos
		r.valueEnd += pos
		out = append(out, r)
	}
	return out
}
