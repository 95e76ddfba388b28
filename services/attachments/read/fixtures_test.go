package read_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/tiff"
)

// statementRows is the table of a German Forderungsaufstellung.
var statementRows = [][2]string{
	{"Hauptforderung", "1.000,00 €"},
	{"Zinsen", "150,40 €"},
	{"Kosten", "62,00 €"},
	{"Gesamtforderung", "1.212,40 €"},
}

// statementPDF makes a text PDF of pages pages: a letter head, the table
// on page 1, and a running account on the others.
func statementPDF(t testing.TB, pages int) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: umlauts and €
	for page := 1; page <= pages; page++ {
		pdf.AddPage()
		pdf.SetFont("Helvetica", "", 11)
		pdf.CellFormat(0, 6, tr("Inkasso Süd GmbH · Hauptstraße 1 · 80331 München"), "", 1, "L", false, 0, "")
		pdf.Ln(8)
		if page == 1 {
			pdf.SetFont("Helvetica", "B", 14)
			pdf.CellFormat(0, 8, "Forderungsaufstellung", "", 1, "L", false, 0, "")
			pdf.SetFont("Helvetica", "", 11)
			pdf.CellFormat(0, 6, "Aktenzeichen: 512344_71020", "", 1, "L", false, 0, "")
			pdf.Ln(6)
			for _, row := range statementRows {
				pdf.CellFormat(90, 7, tr(row[0]), "1", 0, "L", false, 0, "")
				pdf.CellFormat(50, 7, tr(row[1]), "1", 1, "R", false, 0, "")
			}
			continue
		}
		pdf.CellFormat(0, 6, fmt.Sprintf("Kontoauszug, Seite %d", page), "", 1, "L", false, 0, "")
		for i := range 30 {
			pdf.CellFormat(90, 6, fmt.Sprintf("Buchung %d.%d vom 0%d.03.2025", page, i, 1+i%9), "", 0, "L", false, 0, "")
			pdf.CellFormat(50, 6, tr(fmt.Sprintf("%d,%02d €", 10+i, i)), "", 1, "R", false, 0, "")
		}
	}
	return pdfBytes(t, pdf)
}

func pdfBytes(t testing.TB, pdf *fpdf.Fpdf) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, pdf.Output(&buf))
	return buf.Bytes()
}

// encryptedPDF is a statement that needs a user password to open.
func encryptedPDF(t testing.TB) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetProtection(fpdf.CnProtectPrint, "geheim", "owner-secret")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.CellFormat(0, 8, "Gesamtforderung 1.212,40 EUR", "", 1, "L", false, 0, "")
	return pdfBytes(t, pdf)
}

// letterLines is the text of the scanned letter: a table whose label and
// amount columns are far apart, as in a printed statement.
var letterLines = [][2]string{
	{"Inkasso Sued GmbH", ""},
	{"Forderungsaufstellung", ""},
	{"Aktenzeichen: 512344_71020", ""},
	{"", ""},
	{"Hauptforderung", "1.000,00 EUR"},
	{"Zinsen", "150,40 EUR"},
	{"Kosten", "62,00 EUR"},
	{"Gesamtforderung", "1.212,40 EUR"},
}

// letterImage renders the letter as a page image (1654×2339, A4 at 200
// dpi) with Go's own font at 48 px (a 17-point print at that resolution),
// dark text on paper-grey: what a scanner or a phone makes of a letter.
func letterImage(t testing.TB) image.Image {
	t.Helper()
	ttf, err := opentype.Parse(goregular.TTF)
	require.NoError(t, err)
	face, err := opentype.NewFace(ttf, &opentype.FaceOptions{Size: 48, DPI: 72, Hinting: font.HintingFull})
	require.NoError(t, err)
	defer face.Close()
	img := image.NewGray(image.Rect(0, 0, 1654, 2339))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{Y: 240}), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: 25}), Face: face}
	for i, line := range letterLines {
		y := fixed.I(250 + 90*i)
		d.Dot = fixed.Point26_6{X: fixed.I(160), Y: y}
		d.DrawString(line[0])
		if line[1] != "" {
			d.Dot = fixed.Point26_6{X: fixed.I(1450) - d.MeasureString(line[1]), Y: y}
			d.DrawString(line[1])
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}))
	return buf.Bytes()
}

func tiffBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate}))
	return buf.Bytes()
}

// scannedPDF puts the letter image on each of pages A4 pages, with no
// text layer: what a scanner's "scan to PDF" makes.
func scannedPDF(t testing.TB, pages int) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.RegisterImageOptionsReader("scan", fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(jpegBytes(t, letterImage(t))))
	for range pages {
		pdf.AddPage()
		pdf.ImageOptions("scan", 0, 0, 210, 297, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
	}
	return pdfBytes(t, pdf)
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
	for _, row := range statementRows {
		s += "<w:tr><w:tc>" + para(row[0]) + "</w:tc><w:tc>" + para("") + "</w:tc><w:tc>" + para(row[1]) + "</w:tc></w:tr>"
	}
	return s + "</w:tbl>"
}
