package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// keywordRe is a case-insensitive keyword regexp together with two ways to
// avoid running it, since an unanchored search for a long alternation tries
// every branch at every position (some 20 µs for a 40-byte label):
//   - needles: literals, one of which every match contains. Most texts
//     contain none of a pattern's keywords, and a substring search rules
//     that out far faster than the regexp.
//   - scan: the branches indexed by the literal they start with, so that at
//     each position only the few branches starting with that letter are
//     tried (see branchScanner). It finds exactly the regexp's matches.
type keywordRe struct {
	re *regexp.Regexp
	// odd are the odd runes (see foldedText) that fold onto a literal of
	// the pattern: in a text holding one, needles and scan cannot be trusted.
	odd oddSet
	// needles are folded (see foldText); nil when the pattern has a branch
	// without a literal, so that any text may match.
	needles []string
	scan    *branchScanner // nil when the pattern does not fit it
}

// mustKeywords compiles a keyword pattern, typically (?i) and an
// alternation of words.
func mustKeywords(pattern string) keywordRe {
	flags, alternation := splitFlags(pattern)
	return newKeywordRe(pattern, newBranchScanner(flags, "", alternation, ""))
}

// mustLeadKeywords compiles keywords that start the text or follow a rune
// of the lead class: flags + `(?:^|` + lead + `)(?:` + alternation + `)` + suffix.
func mustLeadKeywords(flags, lead, alternation, suffix string) keywordRe {
	pattern := flags + `(?:^|` + lead + `)(?:` + alternation + `)` + suffix
	return newKeywordRe(pattern, newBranchScanner(flags, lead, alternation, suffix))
}

// newKeywordRe compiles pattern with its prefilters and scan, the scanner
// built for the same pattern (nil when it does not fit one).
func newKeywordRe(pattern string, scan *branchScanner) keywordRe {
	tree := mustParse(pattern)
	return keywordRe{
		re:      regexp.MustCompile(pattern),
		odd:     oddRunesOf(tree),
		needles: requiredLiterals(tree),
		scan:    scan,
	}
}

// foldedText is a text and its fold, folded once for all the keyword
// patterns run on it.
type foldedText struct {
	s string
	// folded is s with ASCII and Latin-1 capitals made small, byte for byte
	// as long as s, so offsets in it are offsets in s.
	folded string
	// odd are the odd runes in s: runes that (?i) equates with a Latin-1
	// letter of another UTF-8 length (Kelvin sign, long s, capital sharp s …),
	// which folded keeps as they are. A pattern with a literal they fold onto
	// must leave such a text to its regexp. Invalid UTF-8 counts as all of
	// them (oddAll).
	odd oddSet
}

func foldText(s string) foldedText {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return foldedText{s: s, folded: s} // nothing to fold
	}
	t := foldedText{s: s}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			b.WriteByte(asciiLowerByte(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			t.odd = oddAll
		case oddFolds[r] != 0:
			t.odd |= oddFolds[r]
		case isLatin1Capital(r):
			b.WriteRune(r + 'a' - 'A')
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	t.folded = b.String()
	return t
}

// The methods below are foldText of a part of t.s without folding again,
// as the fold keeps byte offsets.

// slice is foldText(t.s[i:j]).
func (t foldedText) slice(i, j int) foldedText {
	odd := t.odd
	if i < len(t.s) && !utf8.RuneStart(t.s[i]) || j < len(t.s) && !utf8.RuneStart(t.s[j]) {
		odd = oddAll // a cut inside a rune leaves bytes the regexp reads as U+FFFD
	}
	return foldedText{s: t.s[i:j], folded: t.folded[i:j], odd: odd}
}

// head is foldText(prefixBytes(t.s, n)).
func (t foldedText) head(n int) foldedText { return t.slice(0, len(prefixBytes(t.s, n))) }

// trimLeft is foldText(strings.TrimLeft(t.s, cutset)).
func (t foldedText) trimLeft(cutset string) foldedText {
	return t.slice(len(t.s)-len(strings.TrimLeft(t.s, cutset)), len(t.s))
}

// trimRight is foldText(strings.TrimRight(t.s, cutset)).
func (t foldedText) trimRight(cutset string) foldedText {
	return t.slice(0, len(strings.TrimRight(t.s, cutset)))
}

// trimPrefix is foldText(strings.TrimPrefix(t.s, prefix)).
func (t foldedText) trimPrefix(prefix string) foldedText {
	if strings.HasPrefix(t.s, prefix) {
		return t.slice(len(prefix), len(t.s))
	}
	return t
}

// foldRune is foldText for one rune.
func foldRune(r rune) rune {
	if 'A' <= r && r <= 'Z' || isLatin1Capital(r) {
		return r + 'a' - 'A'
	}
	return r
}

func asciiLowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isLatin1Capital: À to Þ except ×, whose small letters sit 32 higher and
// take as many bytes.
func isLatin1Capital(r rune) bool { return 0xC0 <= r && r <= 0xDE && r != 0xD7 }

// oddSet is a set of odd runes, one bit each, and oddInvalid.
type oddSet uint32

const (
	// oddInvalid stands for invalid UTF-8, which every pattern must leave
	// to its regexp: the regexp reads U+FFFD where the fold keeps bytes.
	oddInvalid oddSet = 1 << 31
	oddAll            = ^oddSet(0)
)

// oddFolds gives the runes beyond Latin-1 that (?i) equates with a rune of
// Latin-1 a bit each; foldText does not fold them.
var oddFolds = func() map[rune]oddSet {
	m := map[rune]oddSet{}
	for r := rune(0); r < 0x100; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f >= 0x100 && m[f] == 0 {
				if len(m) == 31 {
					panic("rules: too many odd runes for an oddSet")
				}
				m[f] = 1 << len(m)
			}
		}
	}
	return m
}()

// oddRunesOf returns the odd runes that (?i) equates with a rune of a
// literal in re, and oddInvalid.
func oddRunesOf(re *syntax.Regexp) oddSet {
	odd := oddInvalid
	if re.Op == syntax.OpLiteral {
		for _, r := range re.Rune {
			odd |= oddFolds[r]
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				odd |= oddFolds[f]
			}
		}
	}
	for _, sub := range re.Sub {
		odd |= oddRunesOf(sub)
	}
	return odd
}

// foldLiteral folds a pattern literal like foldText, cut before its first
// rune beyond Latin-1, whose case variants foldText does not unify.
func foldLiteral(runes []rune) string {
	var b strings.Builder
	for _, r := range runes {
		if r >= 0x100 {
			break
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// mayMatch reports whether the regexp can match t; false is certain, true
// is a maybe.
func (k keywordRe) mayMatch(t foldedText) bool {
	if k.needles == nil || t.odd&k.odd != 0 {
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
	if k.scanFirst(t) {
		_, _, ok := k.scan.next(t, 0)
		return ok
	}
	if !k.mayMatch(t) {
		return false
	}
	if k.fits(t) {
		_, _, ok := k.scan.next(t, 0)
		return ok
	}
	return k.re.MatchString(t.s)
}

// scanFirst reports whether to scan t without asking the needles first.
// The scan reads t once, each needle's search reads it again: for a short
// label and a pattern with dozens of needles, the scan alone is cheaper.
func (k keywordRe) scanFirst(t foldedText) bool {
	return k.scan != nil && len(t.s) <= 16*len(k.needles) && k.fits(t)
}

// fits reports whether the scanner may stand in for the regexp on t.
func (k keywordRe) fits(t foldedText) bool {
	return k.scan != nil && t.odd&k.odd == 0 && k.scan.fits(t)
}

// MatchString is re.MatchString(s), for a text no other pattern reads.
func (k keywordRe) MatchString(s string) bool { return k.match(foldText(s)) }

// findAll is re.FindAllStringIndex(t.s, -1), as spans.
func (k keywordRe) findAll(t foldedText) [][2]int { return k.findN(t, -1) }

// findN is re.FindAllStringIndex(t.s, n), as spans.
func (k keywordRe) findN(t foldedText, n int) [][2]int {
	if !k.scanFirst(t) {
		if !k.mayMatch(t) {
			return nil
		}
		if !k.fits(t) {
			return toSpans(k.re.FindAllStringIndex(t.s, n))
		}
	}
	var out [][2]int
	for pos := 0; n < 0 || len(out) < n; {
		start, end, ok := k.scan.next(t, pos)
		if !ok {
			break
		}
		out = append(out, [2]int{start, end})
		pos = end
	}
	return out
}

func toSpans(locs [][]int) [][2]int {
	if locs == nil {
		return nil
	}
	spans := make([][2]int, len(locs))
	for i, loc := range locs {
		spans[i] = [2]int{loc[0], loc[1]}
	}
	return spans
}

// requiredLiterals returns literals one of which every match of re
// contains, folded, or nil when it finds none.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if lit := foldLiteral(re.Rune); lit != "" {
			return []string{lit}
		}
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
