package parser

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on the element stacks kept while walking HTML; deeper (hostile)
// nesting is still read as text, only its structure is no longer tracked.
const (
	maxBlockDepth = 4096
	maxTableDepth = 64
	maxEndSearch  = 64 // how far down the block stack an end tag may close
)

// htmlLines renders an HTML body as normalised lines. It streams tokens
// through the x/net/html tokenizer instead of building a DOM, which keeps
// the work linear and the memory small for deeply nested or huge bodies;
// the little structure needed (quote containers, table rows) is tracked on
// bounded stacks.
func htmlLines(s string) []line {
	w := htmlWalker{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			w.finish()
			return w.sink.lines
		case html.TextToken:
			w.text(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken:
			w.startTag(z, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			w.endTag(atom.Lookup(name))
		}
	}
}

// blockEntry is an open <div> or <blockquote>; quote marks the ones that
// opened a quoted region.
type blockEntry struct {
	tag   atom.Atom
	quote bool
}

// tableState is the layout state of one open table.
type tableState struct {
	cell        int  // cells opened in the current row
	inCell      bool // inside a <td>/<th>
	cellHasText bool
	rowHasText  bool
}

// htmlWalker turns the token stream into lines.
type htmlWalker struct {
	sink         lineSink
	cur          strings.Builder
	pendingBreak bool      // a block boundary was seen; break before more text
	pendingCell  bool      // a new table cell started; separate it before more text
	skipRaw      atom.Atom // inside script/style/title: drop the text
	inHead       bool
	pre          int
	blocks       []blockEntry
	tables       []tableState
	tableExtra   int // tables nested beyond maxTableDepth
}

// text appends a text token to the current line.
func (w *htmlWalker) text(b []byte) {
	if w.skipRaw != 0 {
		return
	}
	if w.inHead {
		if len(bytes.TrimSpace(b)) == 0 {
			return
		}
		w.inHead = false
	}
	if w.pre > 0 {
		for {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				break
			}
			w.write(b[:i])
			w.flush(true)
			b = b[i+1:]
		}
	}
	w.write(b)
}

// write appends text, first resolving pending block and cell boundaries.
// White space alone never starts a line or a cell.
func (w *htmlWalker) write(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		switch {
		case w.emptyBlock(b):
			// Outlook's <p>&nbsp;</p> is its way of writing a blank line.
			w.flush(false)
			w.pendingBreak = false
			w.flush(true)
		case len(b) > 0 && w.cur.Len() > 0 && !w.pendingBreak && !w.pendingCell:
			w.cur.WriteByte(' ')
		}
		return
	}
	if w.pendingBreak {
		w.flush(false)
		w.pendingBreak = false
	}
	if w.pendingCell {
		if w.cur.Len() > 0 {
			w.cur.WriteString(" | ")
		}
		w.pendingCell = false
	}
	w.cur.Write(b)
	if t := w.table(); t != nil && t.inCell {
		t.cellHasText = true
		t.rowHasText = true
	}
}

// emptyBlock reports a block holding nothing but a non-breaking space, at
// the start of a line and outside table cells.
func (w *htmlWalker) emptyBlock(b []byte) bool {
	if !bytes.Contains(b, []byte("\u00a0")) || (w.cur.Len() > 0 && !w.pendingBreak) {
		return false
	}
	t := w.table()
	return t == nil || !t.inCell
}

// flush ends the current line. An empty line is only emitted for a hard
// break (<br>, a newline in <pre>).
func (w *htmlWalker) flush(hard bool) {
	if w.cur.Len() > 0 || hard {
		w.sink.add(w.cur.String())
		w.cur.Reset()
	}
}

// softBreak notes a block boundary. At the very start of a table cell it is
// ignored so that <td><p>label</p></td><td><p>value</p></td> stays one row.
func (w *htmlWalker) softBreak() {
	if t := w.table(); t != nil && t.inCell && !t.cellHasText {
		return
	}
	w.pendingBreak = true
}

// hardBreak handles <br>.
func (w *htmlWalker) hardBreak() {
	if w.pendingBreak {
		w.flush(false)
		w.pendingBreak = false
	}
	w.pendingCell = false
	w.flush(true)
}

// addMark ends the current line and records a structural mark.
func (w *htmlWalker) addMark(m mark) {
	w.flush(false)
	w.pendingBreak = false
	w.pendingCell = false
	w.sink.addMark(m)
}

// table returns the innermost tracked table, or nil.
func (w *htmlWalker) table() *tableState {
	if len(w.tables) == 0 || w.tableExtra > 0 {
		return nil
	}
	return &w.tables[len(w.tables)-1]
}

// finish closes whatever the body left open.
func (w *htmlWalker) finish() {
	w.closeBlocks(0)
	w.flush(false)
}

// closeBlocks pops the block stack down to n entries, ending quoted regions.
func (w *htmlWalker) closeBlocks(n int) {
	for len(w.blocks) > n {
		top := w.blocks[len(w.blocks)-1]
		w.blocks = w.blocks[:len(w.blocks)-1]
		if top.quote {
			w.addMark(markQuoteEnd)
		}
	}
}
