package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// branchScanner finds the matches of a pattern that is an alternation of
// branches each starting with a literal, after an optional ^ or \b:
// "gesamtforderung(?:en)?|\bsumme\b|offene[rns]? (?:saldo|…)". A match
// starts where one of its branch's literals does, so at each position only
// the branches whose literal starts with the byte there are tried, in
// pattern order, which is the order RE2 prefers them in. Branches that are
// a bare literal need no regexp at all.
//
// With a lead (mustLeadKeywords), the pattern is (?:^|lead)(?:branches)suffix:
// a branch must start the text or follow a rune of the lead class, which
// the match starts with.
type branchScanner struct {
	lead     *leadClass  // nil for a plain alternation
	branches []*kwBranch // in pattern order
	// byFirst[c] are the branches a literal of which starts with byte c
	// (folded), in pattern order; ^-branches only match at 0 and are left out.
	byFirst [256][]*kwBranch
	// second[c] holds the bytes that follow c in those literals, all bytes
	// when one is c alone: most positions are ruled out by two lookups.
	second [256]*byteSet
	// blockers are folded needles of branches that start with no literal
	// ("\w*steuer\b"); a text that contains one is left to the regexp.
	blockers []string
}

// kwBranch is one branch of a keyword pattern.
type kwBranch struct {
	prefixes []string // folded literals the branch starts with, one of which a match does
	// cased are the same literals as written, when the pattern is
	// case-sensitive: then a match starts with one of them exactly.
	cased     []string
	atStart   bool // begins with ^
	wordStart bool // begins with \b
	// literal is the whole match when the branch is just a case-insensitive
	// literal, maybe between \b; then re is not needed.
	literal string
	wordEnd bool
	re      *regexp.Regexp // the branch anchored with \A, without its leading \b
	window  int            // bytes of text re may read from the match start; -1 for all
}

// fits reports whether the scanner may stand in for the regexp on t, which
// holds none of the pattern's odd runes (see keywordRe.fits).
func (k *branchScanner) fits(t foldedText) bool {
	for _, b := range k.blockers {
		if strings.Contains(t.folded, b) {
			return false
		}
	}
	return true
}

// next returns the leftmost match at or after pos.
func (k *branchScanner) next(t foldedText, pos int) (start, end int, ok bool) {
	for s := pos; s < len(t.s); s++ {
		branches := k.byFirst[t.folded[s]]
		if s == 0 && k.lead == nil {
			branches = k.branches
		} else if len(branches) == 0 || s+1 < len(t.folded) && !k.second[t.folded[s]].has(t.folded[s+1]) {
			continue
		}
		start := s
		if k.lead != nil {
			var ok bool
			if start, ok = k.lead.start(t.s, s); !ok || start < pos {
				continue
			}
		}
		if end, ok := matchBranches(t, s, branches); ok {
			return start, end, true
		}
	}
	return 0, 0, false
}

// at returns the end of a match of a plain alternation anchored at s.
func (k *branchScanner) at(t foldedText, s int) (int, bool) {
	if s == len(t.s) {
		return 0, false // every branch starts with a literal
	}
	if s == 0 {
		return matchBranches(t, s, k.branches)
	}
	return matchBranches(t, s, k.byFirst[t.folded[s]])
}

// matchBranches returns the end of the first of branches to match at s.
func matchBranches(t foldedText, s int, branches []*kwBranch) (int, bool) {
	for _, b := range branches {
		if end, ok := b.matchAt(t, s); ok {
			return end, true
		}
	}
	return 0, false
}

// leadClass is the one-rune class of a `(?:^|class)` before the keywords
// of a pattern (mustLeadKeywords) or before a reference label.
type leadClass struct {
	re    *regexp.Regexp // `\A` + the class
	ascii [utf8.RuneSelf]bool
}

func newLeadClass(flags, class string) *leadClass {
	l := &leadClass{re: regexp.MustCompile(flags + `\A(?:` + class + `)`)}
	for c := range utf8.RuneSelf {
		l.ascii[c] = l.re.MatchString(string(rune(c)))
	}
	return l
}

// start returns where a match whose keyword or label starts at s begins: at
// s at the start of the text (the ^, which RE2 tries first), else at the
// rune before s, which must be in the class.
func (l *leadClass) start(text string, s int) (int, bool) {
	if s == 0 {
		return 0, true
	}
	if c := text[s-1]; c < utf8.RuneSelf {
		return s - 1, l.ascii[c]
	}
	_, size := utf8.DecodeLastRuneInString(text[:s])
	return s - size, l.re.MatchString(text[s-size : s])
}

// matchAt returns the end of the branch's match at s.
func (b *kwBranch) matchAt(t foldedText, s int) (int, bool) {
	if b.atStart && s > 0 || !b.hasPrefix(t, s) ||
		b.wordStart && !isWordBoundary(t.s, s) {
		return 0, false
	}
	if b.literal != "" {
		end := s + len(b.literal)
		return end, !b.wordEnd || isWordBoundary(t.s, end)
	}
	text := t.s[s:]
	if b.window >= 0 && len(text) > b.window {
		text = text[:b.window]
	}
	loc := b.re.FindStringIndex(text)
	if loc == nil {
		return 0, false
	}
	return s + loc[1], true
}

func (b *kwBranch) hasPrefix(t foldedText, s int) bool {
	if b.cased != nil {
		return hasAnyPrefix(t.s[s:], b.cased)
	}
	return hasAnyPrefix(t.folded[s:], b.prefixes)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// isWordBoundary is RE2's \b at s[i]: ASCII word characters on one side only.
func isWordBoundary(s string, i int) bool {
	before := i > 0 && isWordByte(s[i-1])
	after := i < len(s) && isWordByte(s[i])
	return before != after
}

func isWordByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

// newBranchScanner returns a scanner for the pattern
// flags + `(?:^|lead)(?:` + alternation + `)` + suffix, or for the plain
// flags + alternation when lead and suffix are "". It returns nil when the
// pattern is not one the scanner handles exactly.
func newBranchScanner(flags, lead, alternation, suffix string) *branchScanner {
	k := &branchScanner{}
	if lead != "" {
		k.lead = newLeadClass(flags, lead)
	}
	for _, src := range splitAlternation(alternation) {
		b, needles, ok := newKwBranch(flags, src, suffix, lead == "")
		switch {
		case !ok:
			return nil
		case b == nil && needles == nil:
			return nil // any text may need the regexp
		case b == nil:
			k.blockers = append(k.blockers, needles...)
		default:
			k.branches = append(k.branches, b)
		}
	}
	for _, b := range k.branches {
		if b.atStart {
			continue
		}
		for c := range 256 {
			for _, p := range b.prefixes {
				if p[0] == byte(c) {
					k.byFirst[c] = append(k.byFirst[c], b)
					break
				}
			}
		}
		for _, p := range b.prefixes {
			if k.second[p[0]] == nil {
				k.second[p[0]] = &byteSet{}
			}
			if len(p) == 1 {
				k.second[p[0]].addAll()
			} else {
				k.second[p[0]].add(p[1])
			}
		}
	}
	return k
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) addAll()         { *s = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)} }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// newKwBranch analyses one branch, to be followed by suffix; a leading ^
// is allowed when atStartOK. A branch without a leading literal gives
// b == nil and its needles; ok is false for a branch the scanner cannot
// handle exactly.
func newKwBranch(flags, src, suffix string, atStartOK bool) (b *kwBranch, needles []string, ok bool) {
	tree := mustParse(flags + src)
	subs := []*syntax.Regexp{tree}
	if tree.Op == syntax.OpConcat {
		subs = tree.Sub
	}
	b = &kwBranch{}
	if atStartOK && subs[0].Op == syntax.OpBeginText {
		b.atStart, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpWordBoundary {
		if !strings.HasPrefix(src, `\b`) {
			return nil, nil, false
		}
		b.wordStart, subs, src = true, subs[1:], src[2:]
	}
	if suffix != "" {
		subs = append(subs, mustParse(flags+suffix))
	}
	if len(subs) == 0 || hasAnchor(subs) {
		return nil, nil, false
	}
	if b.prefixes, b.cased = literalPrefixes(subs[0]); b.prefixes == nil {
		return nil, requiredLiterals(tree), true
	}
	if lit, ok := wholeLiteral(subs); ok {
		b.literal, b.wordEnd = lit, subs[len(subs)-1].Op == syntax.OpWordBoundary
		return b, nil, true
	}
	b.re = regexp.MustCompile(flags + `\A(?:` + src + `)` + suffix)
	b.window = -1
	branch := &syntax.Regexp{Op: syntax.OpConcat, Sub: subs}
	if n, bounded := maxMatchLen(branch); bounded && !readsEnd(branch) {
		b.window = n + utf8.UTFMax // and the rune after, for a closing \b
	}
	return b, nil, true
}

// readsEnd reports whether re holds a $.
func readsEnd(re *syntax.Regexp) bool {
	if re.Op == syntax.OpEndText || re.Op == syntax.OpEndLine {
		return true
	}
	for _, sub := range re.Sub {
		if readsEnd(sub) {
			return true
		}
	}
	return false
}

func mustParse(pattern string) *syntax.Regexp {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	return tree
}

// hasAnchor reports whether subs, a branch past its leading ^ and \b,
// holds a ^ or \B, which the branch regexp anchored at the match start
// could read differently from the whole pattern.
func hasAnchor(subs []*syntax.Regexp) bool {
	for _, re := range subs {
		switch re.Op {
		case syntax.OpBeginText, syntax.OpBeginLine, syntax.OpNoWordBoundary:
			return true
		}
		if hasAnchor(re.Sub) {
			return true
		}
	}
	return false
}

// literalPrefixes returns the folded literals one of which every match of re
// starts with, or nil; and when all are case-sensitive, the same as written.
func literalPrefixes(re *syntax.Regexp) (folded, cased []string) {
	switch re.Op {
	case syntax.OpLiteral:
		lit := foldLiteral(re.Rune)
		if lit == "" {
			return nil, nil
		}
		if re.Flags&syntax.FoldCase == 0 {
			return []string{lit}, []string{string(re.Rune)}
		}
		return []string{lit}, nil
	case syntax.OpCapture, syntax.OpConcat:
		return literalPrefixes(re.Sub[0])
	case syntax.OpAlternate:
		allCased := true
		for _, sub := range re.Sub {
			f, c := literalPrefixes(sub)
			if f == nil {
				return nil, nil
			}
			folded, cased = append(folded, f...), append(cased, c...)
			allCased = allCased && c != nil
		}
		if !allCased {
			cased = nil
		}
		return folded, cased
	}
	return nil, nil
}

// wholeLiteral returns the folded literal when subs are just a
// case-insensitive literal, maybe followed by \b, that folds without loss.
func wholeLiteral(subs []*syntax.Regexp) (string, bool) {
	if n := len(subs); n > 1 && subs[n-1].Op == syntax.OpWordBoundary {
		subs = subs[:n-1]
	}
	if len(subs) != 1 || subs[0].Op != syntax.OpLiteral {
		return "", false
	}
	lit := subs[0]
	folded := foldLiteral(lit.Rune)
	if utf8.RuneCountInString(folded) != len(lit.Rune) {
		return "", false // cut at a rune foldText does not fold
	}
	for _, r := range lit.Rune {
		if lit.Flags&syntax.FoldCase == 0 && unicode.SimpleFold(r) != r {
			return "", false // case-sensitive: the folded text cannot tell
		}
	}
	return folded, true
}

// maxMatchLen returns the most bytes a match of re can take; bounded is
// false when there is no bound.
func maxMatchLen(re *syntax.Regexp) (n int, bounded bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpBeginLine, syntax.OpEndText, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			n += maxRuneLen(r, re.Flags&syntax.FoldCase != 0)
		}
		return n, true
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0, true
		}
		return maxRuneLen(re.Rune[len(re.Rune)-1], re.Flags&syntax.FoldCase != 0), true
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax, true
	case syntax.OpCapture, syntax.OpQuest:
		return maxMatchLen(re.Sub[0])
	case syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			m, ok := maxMatchLen(sub)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				n += m
			} else {
				n = max(n, m)
			}
		}
		return n, true
	case syntax.OpRepeat:
		m, ok := maxMatchLen(re.Sub[0])
		if !ok || re.Max < 0 {
			return 0, m == 0 && ok
		}
		return m * re.Max, true
	case syntax.OpStar, syntax.OpPlus:
		m, ok := maxMatchLen(re.Sub[0])
		return 0, ok && m == 0
	}
	return 0, false // anything new
}

// maxRuneLen is the UTF-8 length of r or, with fold, of its longest case
// variant.
func maxRuneLen(r rune, fold bool) int {
	n := runeLen(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			n = max(n, runeLen(f))
		}
	}
	return n
}

func runeLen(r rune) int {
	switch {
	case r < 0x80:
		return 1
	case r < 0x800:
		return 2
	case r < 0x10000:
		return 3
	}
	return 4
}

// splitFlags splits a leading flag group such as (?i) off a pattern.
func splitFlags(pattern string) (flags, rest string) {
	if strings.HasPrefix(pattern, "(?") {
		if end := strings.IndexByte(pattern, ')'); end > 0 && !strings.ContainsAny(pattern[2:end], ":|(") {
			return pattern[:end+1], pattern[end+1:]
		}
	}
	return "", pattern
}

// splitAlternation splits a pattern at its top-level |.
func splitAlternation(pattern string) []string {
	var branches []string
	depth, inClass, start := 0, false, 0
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\':
			i++ // an escaped byte is never structure
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
			if strings.HasPrefix(pattern[i+1:], "]") || strings.HasPrefix(pattern[i+1:], "^]") {
				i += strings.IndexByte(pattern[i+1:], ']') + 1 // "[]…]": the ] is a member
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			branches = append(branches, pattern[start:i])
			start = i + 1
		}
	}
	return append(branches, pattern[start:])
}

// tailRe is a regexp that ends in $ and has a bounded match length, so
// that only the end of a text can match.
type tailRe struct {
	re   *regexp.Regexp
	tail int // bytes of text to give it: more than any match takes
}

func mustTail(pattern string) tailRe {
	tree := mustParse(pattern)
	n, bounded := maxMatchLen(tree)
	if !bounded || tree.Op != syntax.OpConcat || tree.Sub[len(tree.Sub)-1].Op != syntax.OpEndText {
		panic("rules: " + pattern + " is no bounded pattern ending in $")
	}
	return tailRe{re: regexp.MustCompile(pattern), tail: n + 1}
}

// MatchString is re.MatchString(s), run on the last bytes of s: every match
// lies in them, and as they are longer than any match, a ^ can only match
// where it would in s, at its start.
func (r tailRe) MatchString(s string) bool {
	if cut := len(s) - r.tail; cut > 0 {
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[cut:]
	}
	return r.re.MatchString(s)
}
