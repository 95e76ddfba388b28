package read

import (
	"context"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxSharedText bounds the shared-string table held in memory. Strings
// past it read as empty and mark the text truncated: they are numbered in
// order of first use, so they belong to rows past the text cap anyway.
const maxSharedText = 8 << 20

// workbook is what xl/workbook.xml says.
type workbook struct {
	sheets   []sheetRef
	date1904 bool
}

type sheetRef struct{ name, relID string }

// xlsxReader holds what the sheets refer to.
type xlsxReader struct {
	wb      workbook
	formats []string // number format code per cell style (cellXfs index)
	strs    []string
	cut     bool // shared strings were dropped
}

// readXLSX reads every worksheet in workbook order: a "=== name ===" line,
// then one line per row with the non-empty cells joined by " | ", values
// as a German Excel displays them ("1.212,40 €", "31.12.2025").
func (d *Dispatcher) readXLSX(ctx context.Context, p *pkg, main string) (Result, error) {
	rels, err := p.rels(ctx, main)
	if err != nil {
		return Result{}, err
	}
	x := &xlsxReader{}
	if x.wb, err = readWorkbook(ctx, p, main); err != nil {
		return Result{}, err
	}
	if name := rels.first(relStyles); name != "" {
		if x.formats, err = readStyles(ctx, p, name); err != nil {
			return Result{}, err
		}
	}
	if name := rels.first(relSharedStrings); name != "" {
		if x.strs, x.cut, err = readSharedStrings(ctx, p, name); err != nil {
			return Result{}, err
		}
	}
	out := &textBuilder{max: d.cfg.TextMaxChars}
	sheets := 0
	for _, s := range x.wb.sheets {
		target := rels.byID[s.relID]
		if out.full() || !slices.Contains(rels.byType[relWorksheet], target) {
			continue // chart sheets hold no cells
		}
		sheets++
		out.WriteString("=== " + s.name + " ===\n")
		if err := p.decode(ctx, target, x.sheetWriter(out)); err != nil {
			return Result{}, err
		}
		out.WriteString("\n")
	}
	return Result{Reader: ReaderOffice, Text: tidy([]byte(out.String())), Pages: sheets, Truncated: out.full() || x.cut}, nil
}

func readWorkbook(ctx context.Context, p *pkg, name string) (workbook, error) {
	var wb workbook
	err := p.decode(ctx, name, func(tok xml.Token) bool {
		el, ok := tok.(xml.StartElement)
		switch {
		case !ok:
		case el.Name.Local == "workbookPr":
			v := attr(el, "date1904")
			wb.date1904 = v == "1" || v == "true"
		case el.Name.Local == "sheet":
			wb.sheets = append(wb.sheets, sheetRef{name: attr(el, "name"), relID: attr(el, "id")})
		}
		return true
	})
	return wb, err
}

// readStyles returns the number format code of each cell style.
func readStyles(ctx context.Context, p *pkg, name string) ([]string, error) {
	custom := map[int]string{}
	var ids []int
	inCellXfs := false
	err := p.decode(ctx, name, func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "numFmt":
				if id, err := strconv.Atoi(attr(t, "numFmtId")); err == nil {
					custom[id] = attr(t, "formatCode")
				}
			case "cellXfs":
				inCellXfs = true
			case "xf":
				if inCellXfs {
					id, _ := strconv.Atoi(attr(t, "numFmtId"))
					ids = append(ids, id)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "cellXfs" {
				inCellXfs = false
			}
		}
		return true
	})
	codes := make([]string, len(ids))
	for i, id := range ids {
		if code, ok := custom[id]; ok {
			codes[i] = code
		} else {
			codes[i] = builtinFormats[id]
		}
	}
	return codes, err
}

// readSharedStrings reads the string table, up to maxSharedText bytes.
// Phonetic runs (rPh) are left out.
func readSharedStrings(ctx context.Context, p *pkg, name string) ([]string, bool, error) {
	var strs []string
	var cur strings.Builder
	total, inT, phonetic, cut := 0, false, 0, false
	err := p.decode(ctx, name, func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				cur.Reset()
			case "t":
				inT = true
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if total += cur.Len(); total > maxSharedText {
					cut = true
					return false
				}
				strs = append(strs, cur.String())
			case "t":
				inT = false
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			if inT && phonetic == 0 {
				cur.Write(t)
			}
		}
		return true
	})
	return strs, cut, err
}

// sheetWriter returns the token handler that writes a worksheet's rows.
func (x *xlsxReader) sheetWriter(out *textBuilder) func(xml.Token) bool {
	var row []string
	var val strings.Builder
	var typ, style string
	inVal, inRPh := false, false
	return func(tok xml.Token) bool {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				row = row[:0]
			case "c":
				typ, style = attr(t, "t"), attr(t, "s")
				val.Reset()
			case "v", "t":
				inVal = true
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inVal = false
			case "rPh":
				inRPh = false
			case "c":
				if cell := strings.Join(strings.Fields(x.display(typ, style, val.String())), " "); cell != "" {
					row = append(row, cell)
				}
			case "row":
				if len(row) > 0 {
					out.WriteString(strings.Join(row, " | ") + "\n")
				}
			}
		case xml.CharData:
			if inVal && !inRPh {
				val.Write(t)
			}
		}
		return !out.full()
	}
}

// display renders one cell's value as Excel shows it.
func (x *xlsxReader) display(typ, style, v string) string {
	switch typ {
	case "s":
		if i, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && i >= 0 && i < len(x.strs) {
			return x.strs[i]
		}
		return ""
	case "inlineStr", "str", "e":
		return v
	case "b":
		if strings.TrimSpace(v) == "1" {
			return "WAHR"
		}
		return "FALSCH"
	case "d":
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.Format("02.01.2006")
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			return t.Format("02.01.2006")
		}
		return v
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return v
	}
	code := "General"
	if i, err := strconv.Atoi(style); err == nil && i >= 0 && i < len(x.formats) && x.formats[i] != "" {
		code = x.formats[i]
	}
	return formatNumber(f, code, x.wb.date1904)
}
