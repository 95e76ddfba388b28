package parser

// spanKind says why a block of lines would be dropped.
type spanKind uint8

const (
	spanHistory     spanKind = iota + 1 // quoted or earlier messages of the thread
	spanForward                         // header lines of a forwarded message
	spanBoilerplate                     // disclaimers, register footers
)

// spanID is the 1-based id of a span; 0 means "not dropped".
type spanID int32

// span is one droppable block. Its lines carry its id.
type span struct {
	kind    spanKind
	start   int
	restore bool // kept after all: it holds the amount, or nothing else is left
}

// lookahead bounds how far the recognisers peek at following lines, which
// keeps the whole pass linear.
const lookahead = 8

// cleaner decides, line by line, what to drop, then renders the rest.
type cleaner struct {
	lines []line
	spans []span
}

// newSpan opens a droppable block starting at line start and returns its id.
func (c *cleaner) newSpan(kind spanKind, start int) spanID {
	c.spans = append(c.spans, span{kind: kind, start: start})
	return spanID(len(c.spans))
}

// assign puts lines [from, to) into span id.
func (c *cleaner) assign(from, to int, id spanID) {
	for i := from; i < to; i++ {
		c.lines[i].span = id
	}
}

// nextText returns the index of the first line with text at or after i,
// looking at no more than lookahead lines; -1 if there is none.
func (c *cleaner) nextText(i int) int {
	for end := min(len(c.lines), i+lookahead); i < end; i++ {
		if c.lines[i].text != "" {
			return i
		}
	}
	return -1
}
