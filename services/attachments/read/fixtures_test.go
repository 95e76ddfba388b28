package read_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"image"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/tiff"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
)

// The readtest files, failing the test on an error.

func statementPDF(t testing.TB, pages int) []byte   { return must(t)(readtest.StatementPDF(pages)) }
func encryptedPDF(t testing.TB, user string) []byte { return must(t)(readtest.EncryptedPDF(user)) }
func scannedPDF(t testing.TB, pages int) []byte     { return must(t)(readtest.ScannedPDF(pages)) }
func letterJPEG(t testing.TB) []byte                { return must(t)(readtest.LetterJPEG()) }
func letterPNG(t testing.TB) []byte                 { return must(t)(readtest.LetterPNG()) }
func letterTIFF(t testing.TB) []byte                { return must(t)(readtest.LetterTIFF()) }

func must(t testing.TB) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		require.NoError(t, err)
		return b
	}
}

func tiffBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate}))
	return buf.Bytes()
}

// zipFile is one entry of a test archive.
type zipFile struct {
	name, body string
}

func zipBytes(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

const (
	nsW       = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`
	nsRel     = `http://schemas.openxmlformats.org/officeDocument/2006/relationships`
	nsPkgRels = `http://schemas.openxmlformats.org/package/2006/relationships`
)

// docxFiles are the parts of a DOCX whose body is body (WordprocessingML
// inside <w:body>), with a header part.
func docxFiles(body string) []zipFile {
	return []zipFile{
		{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/_rels/document.xml.rels", `<?xml version="1.0"?><Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId7" Type="` + nsRel + `/header" Target="header1.xml"/></Relationships>`},
		{"word/header1.xml", `<?xml version="1.0"?><w:hdr ` + nsW + `><w:p><w:r><w:t>Ihr Zeichen 417_26</w:t></w:r></w:p></w:hdr>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + nsW + `><w:body>` + body + `</w:body></w:document>`},
	}
}

// para is a paragraph of runs.
func para(runs ...string) string {
	s := "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"4000\"/></w:tabs></w:pPr>"
	for _, r := range runs {
		s += "<w:r><w:t xml:space=\"preserve\">" + r + "</w:t></w:r>"
	}
	return s + "</w:p>"
}

// statementTable is the Forderungsaufstellung as a Word table, with an
// empty middle column.
func statementTable() string {
	s := "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr>"
	for _, row := range readtest.StatementRows {
		s += "<w:tr><w:tc>" + para(row[0]) + "</w:tc><w:tc>" + para("") + "</w:tc><w:tc>" + para(row[1]) + "</w:tc></w:tr>"
	}
	return s + "</w:tbl>"
}

// multiFrameTIFF is a TIFF of frames images: a real one-frame TIFF whose
// first image directory is chained frames times (each copy points at the
// same pixels, which is all a frame count looks at).
func multiFrameTIFF(t testing.TB, frames int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	data := tiffBytes(t, img)
	require.Equal(t, "II*\x00", string(data[:4]))
	first := binary.LittleEndian.Uint32(data[4:8])
	n := binary.LittleEndian.Uint16(data[first:])
	ifd := append([]byte(nil), data[first:first+2+12*uint32(n)+4]...)
	nextAt := first + 2 + 12*uint32(n) // offset of "next IFD" in the first directory
	for range frames - 1 {
		if len(data)%2 == 1 {
			data = append(data, 0)
		}
		binary.LittleEndian.PutUint32(data[nextAt:], uint32(len(data)))
		nextAt = uint32(len(data)) + 2 + 12*uint32(n)
		data = append(data, ifd...)
		binary.LittleEndian.PutUint32(data[nextAt:], 0)
	}
	return data
}
