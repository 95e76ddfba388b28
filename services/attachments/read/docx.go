package read

import (
	"context"
	"encoding/xml"
	"strings"
)

// readDOCX reads the main document part, with its headers first (a
// letterhead often carries the case number) and footers last, each header
// or footer text once however many sections repeat it.
func (d *Dispatcher) readDOCX(ctx context.Context, p *pkg, main string) (Result, error) {
	rels, err := p.rels(ctx, main)
	if err != nil {
		return Result{}, err
	}
	out := &textBuilder{max: d.cfg.TextMaxChars}
	seen := map[string]bool{}
	part := func(name string) error {
		w := &docxText{limit: d.cfg.TextMaxChars * 4}
		if err := p.decode(ctx, name, w.token); err != nil {
			return err
		}
		if text := strings.TrimSpace(w.text.String()); text != "" && !seen[text] {
			seen[text] = true
			out.WriteString(text + "\n\n")
		}
		return nil
	}
	parts := append(append(rels.byType[relHeader], main), rels.byType[relFooter]...)
	for _, name := range parts {
		if out.full() {
			break
		}
		if err := part(name); err != nil {
			return Result{}, err
		}
	}
	return Result{Reader: ReaderOffice, Text: tidy([]byte(out.String())), Truncated: out.full()}, nil
}

// docxText turns WordprocessingML into lines: a paragraph per line, a
// table row per line with its non-empty cells joined by " | " (a nested
// table's rows go into their cell). Text in property elements (*Pr, such
// as tab-stop lists) and in mc:Fallback (the duplicate of a text box for
// old readers) is skipped; deleted text (w:delText) and field codes
// (w:instrText) are never read.
type docxText struct {
	text   strings.Builder
	para   strings.Builder
	tables []*docxTable
	inT    bool
	skip   int // depth inside skipped elements
	limit  int // bytes of text after which the part is not read further
}

// docxTable is one open table: the current row's cells and cell.
type docxTable struct {
	row  []string
	cell strings.Builder
}

// maxTableDepth bounds nested tables; deeper ones are read as text.
const maxTableDepth = 16

func (w *docxText) token(tok xml.Token) bool {
	switch t := tok.(type) {
	case xml.StartElement:
		w.start(t.Name.Local)
	case xml.EndElement:
		w.end(t.Name.Local)
	case xml.CharData:
		if w.inT && w.skip == 0 {
			w.para.Write(t)
		}
	}
	return w.text.Len() < w.limit
}

func (w *docxText) start(local string) {
	if w.skip > 0 || local == "Fallback" || (strings.HasSuffix(local, "Pr") && local != "Pr") {
		w.skip++
		return
	}
	switch local {
	case "t":
		w.inT = true
	case "tab":
		w.para.WriteByte('\t')
	case "br", "cr":
		w.para.WriteByte('\n')
	case "noBreakHyphen":
		w.para.WriteByte('-')
	case "tbl":
		if len(w.tables) < maxTableDepth {
			w.tables = append(w.tables, &docxTable{})
		}
	case "tr":
		if tb := w.table(); tb != nil {
			tb.row = tb.row[:0]
		}
	case "tc":
		if tb := w.table(); tb != nil {
			tb.cell.Reset()
		}
	}
}

func (w *docxText) end(local string) {
	if w.skip > 0 {
		w.skip--
		return
	}
	switch local {
	case "t":
		w.inT = false
	case "p":
		w.emit(w.para.String())
		w.para.Reset()
	case "tc":
		if tb := w.table(); tb != nil {
			if cell := strings.Join(strings.Fields(tb.cell.String()), " "); cell != "" {
				tb.row = append(tb.row, cell)
			}
		}
	case "tr":
		if tb := w.table(); tb != nil && len(tb.row) > 0 {
			row := strings.Join(tb.row, " | ")
			w.tables = w.tables[:len(w.tables)-1] // emit the row into the enclosing context
			w.emit(row)
			w.tables = append(w.tables, tb)
		}
	case "tbl":
		if len(w.tables) > 0 {
			w.tables = w.tables[:len(w.tables)-1]
		}
	}
}

// emit adds a line to the current cell, or to the text outside tables.
func (w *docxText) emit(line string) {
	if tb := w.table(); tb != nil {
		if tb.cell.Len() > 0 {
			tb.cell.WriteByte(' ')
		}
		tb.cell.WriteString(line)
		return
	}
	w.text.WriteString(strings.TrimRight(line, " \t"))
	w.text.WriteByte('\n')
}

func (w *docxText) table() *docxTable {
	if len(w.tables) == 0 {
		return nil
	}
	return w.tables[len(w.tables)-1]
}
