package parser

import "strings"

// markHistory walks the lines once and assigns quoted history, earlier
// messages and forwarded-message headers to droppable spans.
func (c *cleaner) markHistory() {
	ls := c.lines
	for i := 0; i < len(ls); {
		l := &ls[i]
		switch {
		case l.mark == markQuoteStart:
			if c.forwardFollows(i + 1) {
				i++ // a forwarded message: keep its body, drop only its header
				continue
			}
			i = c.dropRegion(i, c.newSpan(spanHistory, i))
		case l.mark == markCut:
			if c.headerFollows(i+1) && !c.forwardFollows(i+1) {
				c.cutToEnd(i)
				return
			}
			i++
		case l.mark != markNone || l.text == "":
			i++
		case isQuoteLine(l.text):
			i = c.dropQuoteRun(i, c.newSpan(spanHistory, i))
		case isForwardMarker(l.text):
			i = c.dropForwardHeader(i)
		default:
			next, cut := c.historyAt(i)
			if cut {
				c.cutToEnd(i)
				return
			}
			i = next
		}
	}
}

// historyAt looks for the start of quoted history at text line i. It
// returns the next line to examine, or cut=true when everything from i on
// is an earlier message.
func (c *cleaner) historyAt(i int) (next int, cut bool) {
	ls := c.lines
	if n := attributionLines(ls, i); n > 0 {
		// Followed by the quote itself: drop both and keep reading, the
		// reply may continue below. Otherwise the rest is the old message.
		switch j := c.nextContent(i + n); {
		case j >= 0 && ls[j].mark == markQuoteStart:
			id := c.newSpan(spanHistory, i)
			c.assign(i, j, id)
			return c.dropRegion(j, id), false
		case j >= 0 && ls[j].mark == markNone && isQuoteLine(ls[j].text):
			id := c.newSpan(spanHistory, i)
			c.assign(i, j, id)
			return c.dropQuoteRun(j, id), false
		}
		return 0, true
	}
	t := ls[i].text
	switch {
	case isOriginalMessage(t), isZendeskMarker(t), isZendeskUpdate(t), c.headerBlockAt(i):
		return 0, true
	case isSeparator(t) && c.zendeskAuthorFollows(i+1):
		return 0, true
	}
	return i + 1, false
}

// nextContent returns the index of the first line within lookahead of i
// that is not blank (text or a mark); -1 if none.
func (c *cleaner) nextContent(i int) int {
	for end := min(len(c.lines), i+lookahead); i < end; i++ {
		if !c.lines[i].blank() {
			return i
		}
	}
	return -1
}

// dropRegion assigns the quoted region starting at the markQuoteStart line
// i, nested regions included, to span id and returns the line after it.
func (c *cleaner) dropRegion(i int, id spanID) int {
	depth := 0
	for j := i; j < len(c.lines); j++ {
		c.lines[j].span = id
		switch c.lines[j].mark {
		case markQuoteStart:
			depth++
		case markQuoteEnd:
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(c.lines)
}

// dropQuoteRun assigns the run of ">" lines starting at i (blank lines
// inside it included) to span id and returns the line after it.
func (c *cleaner) dropQuoteRun(i int, id spanID) int {
	ls := c.lines
	j := i
	for j < len(ls) {
		switch {
		case ls[j].mark == markNone && isQuoteLine(ls[j].text):
		case ls[j].blank() && j+1 < len(ls) && isQuoteLine(ls[j+1].text):
		default:
			c.assign(i, j, id)
			return j
		}
		j++
	}
	c.assign(i, j, id)
	return j
}

// dropForwardHeader drops a forward marker at i and the header lines after
// it (From/Date/Subject/To …), keeping the forwarded body. It returns the
// first line of the body.
func (c *cleaner) dropForwardHeader(i int) int {
	ls := c.lines
	id := c.newSpan(spanForward, i)
	j := i + 1
	if k := c.nextText(j); k >= 0 && headerField(ls[k].text) != fieldNone {
		j = k
	}
	for n := 0; j < len(ls) && n < 2*lookahead; n++ {
		l := &ls[j]
		if l.mark != markNone {
			j++
			continue
		}
		if headerField(l.text) == fieldNone {
			break
		}
		j++
	}
	c.assign(i, j, id)
	return j
}

// forwardFollows reports whether a forward marker is among the next lines.
func (c *cleaner) forwardFollows(i int) bool {
	return c.textFollows(i, 3, isForwardMarker)
}

// textFollows reports whether one of the next n text lines from i, each
// within lookahead of the one before, satisfies is.
func (c *cleaner) textFollows(i, n int, is func(string) bool) bool {
	for ; n > 0; n-- {
		j := c.nextText(i)
		if j < 0 {
			return false
		}
		if is(c.lines[j].text) {
			return true
		}
		i = j + 1
	}
	return false
}

// headerFollows reports whether the next text line is a mail header field.
func (c *cleaner) headerFollows(i int) bool {
	j := c.nextText(i)
	return j >= 0 && headerField(c.lines[j].text) != fieldNone
}

// zendeskAuthorFollows reports Zendesk's history layout after a separator:
// the author and a date line ("Max Muster", "3. März 2025, 10:15").
func (c *cleaner) zendeskAuthorFollows(i int) bool {
	return c.textFollows(i, 2, isDateLine)
}

// headerBlockAt reports a quoted mail header starting at line i: a
// From/Von (or Sent/Date) field followed by the other header fields, as
// Outlook, GMX, Lotus and others write above the previous message.
func (c *cleaner) headerBlockAt(i int) bool {
	t := c.lines[i].text
	k := headerField(t)
	if k != fieldFrom && k != fieldSent && k != fieldDate {
		return false
	}
	if lt := strings.ToLower(t); k == fieldFrom && (strings.Contains(lt, " gesendet:") || strings.Contains(lt, " sent:")) {
		return true // Outlook header squeezed onto one line
	}
	var seen [fieldOther + 1]bool
	seen[k] = true
	fields := 1
	for j, n := i+1, 0; j < len(c.lines) && n < lookahead; j, n = j+1, n+1 {
		l := &c.lines[j]
		if l.blank() {
			continue
		}
		kj := headerField(l.text)
		if l.mark != markNone || kj == fieldNone {
			break
		}
		seen[kj] = true
		fields++
	}
	dated := seen[fieldSent] || seen[fieldDate]
	return seen[fieldFrom] && dated && (fields >= 3 || seen[fieldSent])
}

// cutToEnd drops everything from line i on as earlier messages, one span
// per message so that the amount rule can bring back just the one it needs.
// Separator and blank lines right above i go with it.
func (c *cleaner) cutToEnd(i int) {
	for i > 0 && c.lines[i-1].span == 0 && (c.lines[i-1].blank() || c.lines[i-1].mark == markCut || isSeparator(c.lines[i-1].text)) {
		i--
	}
	id := c.newSpan(spanHistory, i)
	for j := i; j < len(c.lines); j++ {
		if j > i && c.startsMessage(j) {
			id = c.newSpan(spanHistory, j)
		}
		c.lines[j].span = id
	}
}

// startsMessage reports whether line j begins another earlier message.
func (c *cleaner) startsMessage(j int) bool {
	l := &c.lines[j]
	if l.mark == markCut {
		return true
	}
	if l.mark != markNone || l.text == "" || isQuoteLine(l.text) {
		return false
	}
	t := l.text
	return isOriginalMessage(t) || isZendeskMarker(t) || isZendeskUpdate(t) || isForwardMarker(t) ||
		attributionLines(c.lines, j) > 0 || c.headerBlockAt(j)
}
