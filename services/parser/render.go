package parser

import (
	"strings"
	"unicode/utf8"
)

// render applies the amount rule and writes the kept lines as text of at
// most maxRunes runes, one blank line at most between paragraphs.
func (c *cleaner) render(maxRunes int) string {
	c.restore()
	var b strings.Builder
	runes, gap := 0, 0
	for i := range c.lines {
		l := &c.lines[i]
		if l.mark != markNone || (l.span > 0 && !c.spans[l.span-1].restore) {
			continue
		}
		if l.text == "" || isSeparator(l.text) {
			if b.Len() > 0 {
				gap = 2
			}
			continue
		}
		if b.Len() > 0 && gap == 0 {
			gap = 1
		}
		n := utf8.RuneCountInString(l.text)
		if runes+gap+n > maxRunes {
			if room := maxRunes - runes - gap; room > 0 {
				b.WriteString(strings.Repeat("\n", gap))
				b.WriteString(strings.TrimSpace(truncateRunes(l.text, room)))
			}
			break
		}
		b.WriteString(strings.Repeat("\n", gap))
		b.WriteString(l.text)
		runes += gap + n
		gap = 0
	}
	return b.String()
}

// restore brings a dropped block back when dropping it would lose the
// point of the mail: if the kept text has no money amount, the first block
// that has one is kept; if nothing at all is left, the first block is kept.
func (c *cleaner) restore() {
	if len(c.spans) == 0 {
		return
	}
	keptText, keptAmount := false, false
	for i := range c.lines {
		l := &c.lines[i]
		if l.span != 0 || l.text == "" || isSeparator(l.text) {
			continue
		}
		keptText = true
		if hasAmount(l.text) {
			keptAmount = true
			break
		}
	}
	if !keptAmount && c.restoreFirstAmount() {
		return
	}
	if keptText {
		return
	}
	for i := range c.lines {
		if l := &c.lines[i]; l.span > 0 && l.text != "" && !isSeparator(l.text) {
			c.spans[l.span-1].restore = true
			return
		}
	}
}

// restoreFirstAmount keeps the first dropped block, in text order, that
// holds a money amount; it reports whether there was one.
func (c *cleaner) restoreFirstAmount() bool {
	best := spanID(-1)
	for i := range c.lines {
		l := &c.lines[i]
		if l.span == 0 || l.text == "" {
			continue
		}
		if id := l.span - 1; (best < 0 || c.spans[id].start < c.spans[best].start) && hasAmount(l.text) {
			best = id
		}
	}
	if best < 0 {
		return false
	}
	c.spans[best].restore = true
	return true
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
