package parser

import "strings"

// mark tags a structural line that carries no text: where the HTML said a
// quoted region starts or ends, or where Outlook put its reply separator.
type mark uint8

const (
	markNone       mark = iota
	markQuoteStart      // start of a <blockquote> or Gmail/Yahoo quote container
	markQuoteEnd        // end of that region
	markCut             // Outlook reply/forward separator: history may follow
)

// line is one normalised line of the body. span is 0 while the line is
// kept, else the 1-based id of the droppable block it belongs to.
type line struct {
	text string
	mark mark
	span spanID
}

// blank reports whether l is an empty text line.
func (l *line) blank() bool { return l.mark == markNone && l.text == "" }

// lineSink collects normalised lines, folding runs of blank lines into one
// so that hostile bodies of empty lines stay small.
type lineSink struct {
	lines []line
}

// add appends a text line.
func (s *lineSink) add(text string) {
	text = normLine(text)
	if text == "" {
		n := len(s.lines)
		if n == 0 || s.lines[n-1].blank() {
			return
		}
	}
	s.lines = append(s.lines, line{text: text})
}

// addMark appends a structural line.
func (s *lineSink) addMark(m mark) {
	s.lines = append(s.lines, line{mark: m})
}

// textLines splits a plain-text body into normalised lines.
func textLines(s string) []line {
	var sink lineSink
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			sink.add(s)
			break
		}
		sink.add(s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return sink.lines
}

// linesHaveText reports whether any line holds text.
func linesHaveText(lines []line) bool {
	for i := range lines {
		if lines[i].text != "" {
			return true
		}
	}
	return false
}
