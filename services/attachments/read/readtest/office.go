package readtest

import (
	"archive/zip"
	"bytes"
	"strings"
)

// The parts of a minimal real DOCX package.
const (
	nsW       = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	nsRel     = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	nsPkgRels = `http://schemas.openxmlformats.org/package/2006/relationships`

	docxContentTypes = `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`
	docxPackageRels = `<?xml version="1.0"?><Relationships xmlns="` + nsPkgRels + `">` +
		`<Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="word/document.xml"/></Relationships>`
	docxDocumentStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + nsW + `><w:body>`
)

// StatementDOCX is the Forderungsaufstellung as a Word document: a letter
// paragraph naming the case, then StatementRows as a two-column table.
func StatementDOCX() ([]byte, error) {
	var body strings.Builder
	body.WriteString(docxPara("Forderungsaufstellung, Ihr Zeichen 417_26"))
	body.WriteString("<w:tbl>")
	for _, row := range StatementRows {
		body.WriteString("<w:tr><w:tc>" + docxPara(row[0]) + "</w:tc><w:tc>" + docxPara(row[1]) + "</w:tc></w:tr>")
	}
	body.WriteString("</w:tbl>")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range [][2]string{
		{"[Content_Types].xml", docxContentTypes},
		{"_rels/.rels", docxPackageRels},
		{"word/document.xml", docxDocumentStart + body.String() + "</w:body></w:document>"},
	} {
		w, err := zw.Create(part[0])
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(part[1])); err != nil {
			return nil, err
		}
	}
	err := zw.Close()
	return buf.Bytes(), err
}

func docxPara(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// DOCXBomb is a DOCX whose document part inflates to inflated bytes (one
// paragraph of spaces) from a few hundred kilobytes, its size declared
// honestly in the ZIP header: the bomb a reader must refuse unopened.
func DOCXBomb(inflated int) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range [][2]string{{"[Content_Types].xml", docxContentTypes}, {"_rels/.rels", docxPackageRels}} {
		w, err := zw.Create(part[0])
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte(part[1])); err != nil {
			return nil, err
		}
	}
	prefix := `<w:document ` + nsW + `><w:body><w:p><w:r><w:t>`
	deflated := DeflateFill(prefix, ' ', inflated)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate,
		CompressedSize64: uint64(len(deflated)), UncompressedSize64: uint64(len(prefix) + inflated)})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(deflated); err != nil {
		return nil, err
	}
	err = zw.Close()
	return buf.Bytes(), err
}

// DeflateFill is a raw deflate stream of prefix followed by n copies of
// fill, written by hand with the fixed Huffman code: one literal, then
// back-references of 258 bytes at distance 1, 13 bits each. A 64 MiB
// bomb costs 0.4 MB and no compression time (flate under -race is slow).
func DeflateFill(prefix string, fill byte, n int) []byte {
	var w bitWriter
	w.bits(1, 1)                                          // BFINAL
	w.bits(1, 2)                                          // BTYPE 01: fixed Huffman
	literal := func(c byte) { w.code(0x30+uint32(c), 8) } // literals 0–143: 8-bit codes from 00110000
	for i := range len(prefix) {
		literal(prefix[i])
	}
	literal(fill)
	for left := n - 1; left > 0; {
		switch {
		case left >= 258:
			w.code(0xc5, 8) // length symbol 285: 258 bytes, code 11000101
			w.code(0, 5)    // distance symbol 0: distance 1
			left -= 258
		default:
			literal(fill)
			left--
		}
	}
	w.code(0, 7) // end of block, symbol 256: 0000000
	return w.flush()
}

// bitWriter packs deflate's LSB-first bit stream.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

// bits writes the n low bits of v, least significant first (header fields).
func (w *bitWriter) bits(v uint32, n uint) {
	w.acc |= uint64(v) << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes a Huffman code of n bits, most significant first.
func (w *bitWriter) code(c uint32, n uint) {
	var rev uint32
	for i := range n {
		rev |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(rev, n)
}

func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}
