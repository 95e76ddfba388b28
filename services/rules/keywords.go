package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// keywordRe is a case-insensitive keyword regexp together with needles:
// literals, one of which every match contains. Most texts contain none of a
// pattern's keywords, and a substring search for the needles rules that out
// far faster than running the regexp.
type keywordRe struct {
	re *regexp.Regexp
	// needles are case-folded (see foldCase); nil when the pattern has a
	// branch without a literal, so that any text may match.
	needles []string
}

func mustKeywords(pattern string) keywordRe {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return keywordRe{re: regexp.MustCompile(pattern), needles: requiredLiterals(tree)}
}

// foldedText is a text and its foldCase, folded once for all the keyword
// patterns run on it.
type foldedText struct{ s, folded string }

func foldText(s string) foldedText { return foldedText{s: s, folded: foldCase(s)} }

// mayMatch reports whether the regexp can match t; false is certain, true
// is a maybe.
func (k keywordRe) mayMatch(t foldedText) bool {
	if k.needles == nil {
		return true
	}
	for _, n := range k.needles {
		if strings.Contains(t.folded, n) {
			return true
		}
	}
	return false
}

// match is re.MatchString(t.s).
func (k keywordRe) match(t foldedText) bool {
	return k.mayMatch(t) && k.re.MatchString(t.s)
}

// MatchString is re.MatchString(s), for a text no other pattern reads.
func (k keywordRe) MatchString(s string) bool { return k.match(foldText(s)) }

// findAll is re.FindAllStringIndex(t.s, -1).
func (k keywordRe) findAll(t foldedText) [][]int {
	if !k.mayMatch(t) {
		return nil
	}
	return k.re.FindAllStringIndex(t.s, -1)
}

// requiredLiterals returns literals one of which every match of re
// contains, or nil when it finds none.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{foldCase(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any child's literals will do; the one whose shortest literal is
		// longest rules out the most text.
		var best []string
		for _, sub := range re.Sub {
			if lits := requiredLiterals(sub); lits != nil && shortest(lits) > shortest(best) {
				best = lits
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := requiredLiterals(sub)
			if lits == nil {
				return nil
			}
			all = append(all, lits...)
		}
		return all
	}
	return nil
}

func shortest(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// foldCase replaces every rune of s by the smallest rune that matches it
// case-insensitively (regexp's (?i) folding: "k", "K" and the Kelvin sign
// all become "K"), so a (?i) match in s is a plain substring of foldCase(s).
// Invalid bytes become U+FFFD, as the regexp reads them.
func foldCase(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'a' <= c && c <= 'z' {
			ascii = false
			break
		}
	}
	if ascii {
		return s // nothing to fold
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteByte(byte(r) - 'a' + 'A')
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		default:
			b.WriteRune(minFold(r))
		}
	}
	return b.String()
}

// minFold returns the smallest rune of r's case-folding orbit.
func minFold(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
