package parser

import (
	"bytes"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// startTag handles a start (or self-closing) tag.
func (w *htmlWalker) startTag(z *html.Tokenizer, selfClosing bool) {
	name, hasAttr := z.TagName()
	a := atom.Lookup(name)
	if w.skipRaw != 0 {
		return // the tokenizer only hands out raw text here, but be safe
	}
	if w.inHead && !headElement(a) {
		w.inHead = false
	}
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Noscript, atom.Iframe, atom.Noembed, atom.Noframes, atom.Template:
		if a != atom.Template || !selfClosing {
			w.skipRaw = a
		}
	case atom.Head:
		w.inHead = !selfClosing
	case atom.Body:
		w.inHead = false
	case atom.Br:
		w.hardBreak()
	case atom.Pre:
		w.softBreak()
		if !selfClosing {
			w.pre++
		}
	case atom.Div, atom.Blockquote:
		w.openBlock(z, a, hasAttr, selfClosing)
	case atom.Hr:
		w.softBreak()
		if hasAttr && attrsCut(z) {
			w.addMark(markCut)
		}
	case atom.Table:
		w.openTable()
	case atom.Tr:
		w.openRow()
	case atom.Td, atom.Th:
		w.openCell()
	default:
		if blockElement(a) {
			w.softBreak()
		}
	}
}

// endTag handles an end tag.
func (w *htmlWalker) endTag(a atom.Atom) {
	if w.skipRaw != 0 {
		if a == w.skipRaw {
			w.skipRaw = 0
		}
		return
	}
	switch a {
	case atom.Head:
		w.inHead = false
	case atom.Br: // </br> is treated as <br> by browsers
		w.hardBreak()
	case atom.Pre:
		if w.pre > 0 {
			w.pre--
		}
		w.softBreak()
	case atom.Div, atom.Blockquote:
		w.closeBlock(a)
	case atom.Table:
		w.closeTable()
	case atom.Tr:
		if t := w.table(); t != nil {
			t.cell, t.inCell, t.rowHasText = 0, false, false
		}
		w.pendingCell = false
		w.pendingBreak = true
	case atom.Td, atom.Th:
		if t := w.table(); t != nil {
			t.inCell = false
		}
	default:
		if blockElement(a) {
			w.softBreak()
		}
	}
}

// openBlock handles <div> and <blockquote>: quote containers open a quoted
// region, Outlook header containers mark where history may start.
func (w *htmlWalker) openBlock(z *html.Tokenizer, a atom.Atom, hasAttr, selfClosing bool) {
	w.softBreak()
	quote := a == atom.Blockquote
	if hasAttr {
		switch attrsRole(z, a) {
		case roleQuote:
			quote = true
		case roleCut:
			w.addMark(markCut)
		}
	}
	if selfClosing || len(w.blocks) >= maxBlockDepth {
		return
	}
	w.blocks = append(w.blocks, blockEntry{tag: a, quote: quote})
	if quote {
		w.addMark(markQuoteStart)
	}
}

// closeBlock pops the block stack down to the nearest open element of the
// same kind. Stray end tags that match nothing close enough are ignored.
func (w *htmlWalker) closeBlock(a atom.Atom) {
	w.softBreak()
	for i := len(w.blocks) - 1; i >= 0 && len(w.blocks)-i <= maxEndSearch; i-- {
		if w.blocks[i].tag == a {
			w.closeBlocks(i)
			return
		}
	}
}

// openTable starts a table; its rows become lines.
func (w *htmlWalker) openTable() {
	w.pendingBreak = true
	w.pendingCell = false
	if w.tableExtra > 0 || len(w.tables) >= maxTableDepth {
		w.tableExtra++
		return
	}
	w.tables = append(w.tables, tableState{})
}

// closeTable ends a table; a nested table's text counts for its outer cell.
func (w *htmlWalker) closeTable() {
	w.pendingBreak = true
	w.pendingCell = false
	if w.tableExtra > 0 {
		w.tableExtra--
		return
	}
	if len(w.tables) == 0 {
		return
	}
	inner := w.tables[len(w.tables)-1]
	w.tables = w.tables[:len(w.tables)-1]
	if t := w.table(); t != nil && t.inCell && (inner.rowHasText || inner.cellHasText || inner.cell > 0) {
		t.cellHasText, t.rowHasText = true, true
	}
}

// openRow starts a table row on a new line.
func (w *htmlWalker) openRow() {
	w.pendingBreak = true
	w.pendingCell = false
	if t := w.table(); t != nil {
		t.cell, t.inCell, t.cellHasText, t.rowHasText = 0, false, false, false
	}
}

// openCell starts a cell; cells after the first are joined with " | ".
func (w *htmlWalker) openCell() {
	if len(w.tables) == 0 && w.tableExtra == 0 {
		w.tables = append(w.tables, tableState{}) // a cell outside any table
	}
	t := w.table()
	if t == nil {
		w.softBreak()
		return
	}
	if t.cell > 0 && t.rowHasText {
		w.pendingBreak = false
		w.pendingCell = true
	}
	t.cell++
	t.inCell, t.cellHasText = true, false
}

// role is what a container element means for quote handling.
type role uint8

const (
	roleNone  role = iota
	roleQuote      // its content is quoted history
	roleCut        // Outlook header block: what follows is history
)

// attrsRole classifies a <div> or <blockquote> by its class, id and style.
func attrsRole(z *html.Tokenizer, a atom.Atom) role {
	r := roleNone
	for {
		key, val, more := z.TagAttr()
		switch string(key) {
		case "class":
			for _, c := range bytes.Fields(val) {
				switch string(c) {
				case "gmail_quote", "yahoo_quoted", "gmail_quote_container":
					r = roleQuote
				case "OutlookMessageHeader":
					if r == roleNone {
						r = roleCut
					}
				}
			}
		case "id":
			switch string(val) {
			case "divRplyFwdMsg", "appendonsend", "divRplyFwdMsgContainer":
				if r == roleNone {
					r = roleCut
				}
			case "yahoo_quoted":
				r = roleQuote
			}
		case "style":
			if a == atom.Div && r == roleNone && outlookSeparatorStyle(val) {
				r = roleCut
			}
		}
		if !more {
			return r
		}
	}
}

// attrsCut reports whether an <hr> is Outlook.com's reply separator.
func attrsCut(z *html.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		if string(key) == "id" && string(val) == "stopSpelling" {
			return true
		}
		if !more {
			return false
		}
	}
}

// outlookSeparatorStyle recognises the style of the box Outlook draws above
// the quoted header ("border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm").
func outlookSeparatorStyle(style []byte) bool {
	if len(style) > 512 {
		return false
	}
	compact := bytes.ToLower(bytes.ReplaceAll(style, []byte(" "), nil))
	return bytes.Contains(compact, []byte("border-top:solid")) && bytes.Contains(compact, []byte("border:none")) &&
		(bytes.Contains(compact, []byte("#e1e1e1")) || bytes.Contains(compact, []byte("#b5c4df")) || bytes.Contains(compact, []byte("padding:3.0pt")))
}

// headElement reports elements that may appear in <head> without ending it.
func headElement(a atom.Atom) bool {
	switch a {
	case atom.Meta, atom.Link, atom.Title, atom.Style, atom.Script, atom.Base, atom.Noscript, atom.Template, atom.Head:
		return true
	}
	return false
}

// blockElement reports elements that start a new line.
func blockElement(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Li, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Nav, atom.Aside,
		atom.Address, atom.Center, atom.Form, atom.Fieldset, atom.Figure, atom.Figcaption,
		atom.Caption, atom.Thead, atom.Tbody, atom.Tfoot, atom.Body, atom.Html, atom.Details, atom.Summary,
		atom.Legend, atom.Option, atom.Hr:
		return true
	}
	return false
}
