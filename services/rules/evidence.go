package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of an AmountEvidence's strings.
const (
	maxExcerptRunes = 200
	maxLabelRunes   = 60
)

// labelOf returns the words that named c a total or a claim, as written:
// the last total word before it ("Gesamtforderung"), the first claim word
// ("Forderung … beträgt" gives "Forderung"), else such a word after it
// ("… sind noch offen"). Other kinds have no label.
func labelOf(t foldedText, c classified) string {
	var res []keywordRe
	switch c.kind {
	case kindTotal:
		res = []keywordRe{totalRe}
	case kindClaim:
		res = []keywordRe{claimRe}
	default:
		return ""
	}
	label := t.slice(c.labelStart, c.start)
	for _, re := range res {
		if m := re.findAll(label); len(m) > 0 {
			span := m[len(m)-1]
			if c.kind == kindClaim {
				span = m[0]
			}
			return wholeWords(label.s, span[0], span[1])
		}
	}
	after := t.slice(c.end, max(c.end, c.afterEnd))
	for _, re := range append(res, totalRe, claimRe) {
		if m := re.findN(after, 1); len(m) > 0 {
			return wholeWords(after.s, m[0][0], m[0][1])
		}
	}
	return ""
}

// wholeWords widens s[i:j] to the words it lies in ("betrag" in
// "Rechnungsbetrag"), at most maxLabelRunes.
func wholeWords(s string, i, j int) string {
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsLetter(r) && r != '-' {
			break
		}
		i -= size
	}
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !unicode.IsLetter(r) && r != '-' {
			break
		}
		j += size
	}
	return capRunes(s[i:j], maxLabelRunes)
}

// excerpt returns the line of text that holds the amount starting at
// start, with runs of blanks (layout columns) made one space. An amount
// with no words before it on its line gets the line before, where its label
// stands. A line longer than maxExcerptRunes is cut around the amount.
func excerpt(text string, start int) string {
	ls := lineStartNear(text, start)
	line, at := lineAt(text, start), start-ls
	if !hasLetter(line[:at]) && ls > 0 && text[ls-1] == '\n' {
		if prev := strings.TrimSpace(lineAt(text, ls-1)); prev != "" {
			line, at = prev+" "+line, len(prev)+1+at
		}
	}
	var b strings.Builder
	b.Grow(len(line))
	space := appendCollapsed(&b, line[:at], false)
	cut := b.Len() // where the amount starts in the excerpt
	appendCollapsed(&b, line[at:], space)
	s := b.String()
	if utf8.RuneCountInString(s) <= maxExcerptRunes {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(aroundRunes(s[:cut], s[cut:], maxExcerptRunes))
}

// aroundRunes joins before and from, cut to at most n runes so that the
// start of from survives, with "…" where text was cut.
func aroundRunes(before, from string, n int) string {
	nb, nf := utf8.RuneCountInString(before), utf8.RuneCountInString(from)
	keepAfter := min(nf, n/2)
	keepBefore := min(nb, n-keepAfter-2)
	keepAfter = min(nf, n-keepBefore-2)
	out := before
	if keepBefore < nb {
		out = "…" + lastRunes(before, keepBefore)
	}
	if keepAfter < nf {
		return out + firstRunes(from, keepAfter) + "…"
	}
	return out + from
}

func firstRunes(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

func lastRunes(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// capRunes cuts s to at most n runes.
func capRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return firstRunes(s, n-1) + "…"
}

// appendCollapsed writes s to b with every run of blanks made one space
// and control characters dropped; space says a blank run is pending from
// before s, and the result whether one is pending after it. A run at the
// start of b is dropped.
func appendCollapsed(b *strings.Builder, s string, space bool) bool {
	for _, r := range s {
		switch {
		case r == ' ' || r == '\t' || r == '\n':
			space = true
			continue
		case unicode.IsControl(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return space
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
