package read

import (
	"strings"
	"unicode/utf8"
)

// capText cuts s to at most max runes, at a rune boundary, and reports
// whether it was cut (or already had been: cut in).
func capText(s string, max int, cut bool) (string, bool) {
	if len(s) <= max { // bytes ≥ runes: nothing to cut
		return s, cut
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i], true
		}
		n++
	}
	return s, cut
}

// tidy makes a reader program's output storable: valid UTF-8, no NUL or
// other control characters except tab and newline, pages (form feeds)
// as a blank line, no trailing blanks, at most one empty line in a row.
func tidy(raw []byte) string {
	s := strings.ToValidUTF8(string(raw), "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	for line := range strings.SplitSeq(strings.ReplaceAll(s, "\f", "\n\n"), "\n") {
		line = strings.TrimRight(strings.Map(dropControl, line), " \t\u00a0")
		if line == "" {
			blank++
			if blank > 1 || b.Len() == 0 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// dropControl removes control characters other than tab.
func dropControl(r rune) rune {
	if r == '\t' || (r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0)) {
		return r
	}
	if r == '\r' {
		return -1
	}
	return ' '
}

// textBuilder collects a reader's text up to max runes and then refuses
// more, so in-process readers stop early instead of building what would
// be cut anyway.
type textBuilder struct {
	b     strings.Builder
	runes int
	max   int
	cut   bool
}

// WriteString appends s, or as much of it as fits.
func (t *textBuilder) WriteString(s string) {
	if t.cut {
		return
	}
	n := utf8.RuneCountInString(s)
	if t.runes+n <= t.max {
		t.b.WriteString(s)
		t.runes += n
		return
	}
	s, _ = capText(s, t.max-t.runes, true)
	t.b.WriteString(s)
	t.runes, t.cut = t.max, true
}

// full reports whether more text would be cut.
func (t *textBuilder) full() bool { return t.cut }

func (t *textBuilder) String() string { return t.b.String() }
