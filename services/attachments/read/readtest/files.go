// Package readtest makes the real files the attachment readers are tested
// and measured with: German statements as text PDFs, scans and photos of a
// letter, and an XLSX account statement. Each is made in memory with Go
// code (fpdf, excelize, Go's own font), so no test data is stored.
package readtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"sync"

	"codeberg.org/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/tiff"
)

// StatementRows is the table of the German Forderungsaufstellung the files show.
var StatementRows = [][2]string{
	{"Hauptforderung", "1.000,00 €"},
	{"Zinsen", "150,40 €"},
	{"Kosten", "62,00 €"},
	{"Gesamtforderung", "1.212,40 €"},
}

// StatementPDF makes a text PDF of pages pages: a letter head and the
// statement table on page 1, 30 bookings of a running account on each
// other page.
func StatementPDF(pages int) ([]byte, error) {
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
			for _, row := range StatementRows {
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
	return output(pdf)
}

// EncryptedPDF is a one-line statement encrypted with an owner password
// and userPass ("" opens without a password, with copying "not allowed").
func EncryptedPDF(userPass string) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetProtection(fpdf.CnProtectPrint, userPass, "owner-secret")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 12)
	pdf.CellFormat(0, 8, "Gesamtforderung 1.212,40 EUR", "", 1, "L", false, 0, "")
	return output(pdf)
}

// ScannedPDF puts the letter's JPEG on each of pages A4 pages, with no
// text layer: what a scanner's "scan to PDF" makes.
func ScannedPDF(pages int) ([]byte, error) {
	scan, err := LetterJPEG()
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	opt := fpdf.ImageOptions{ImageType: "JPG"}
	pdf.RegisterImageOptionsReader("scan", opt, bytes.NewReader(scan))
	for range pages {
		pdf.AddPage()
		pdf.ImageOptions("scan", 0, 0, 210, 297, false, opt, 0, "")
	}
	return output(pdf)
}

func output(pdf *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	err := pdf.Output(&buf)
	return buf.Bytes(), err
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

// LetterImage is the letter as a page image (1654×2339, A4 at 200 dpi)
// in Go's own font at 48 px (a 17-point print at that resolution), dark
// text on paper-grey: what a scanner or a phone makes of a letter. It is
// drawn once per process (font rendering is slow under -race); do not
// draw on it.
var LetterImage = sync.OnceValues(func() (image.Image, error) {
	ttf, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	face, err := opentype.NewFace(ttf, &opentype.FaceOptions{Size: 48, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
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
	return img, nil
})

// LetterJPEG is the letter as a JPEG photo (quality 80), encoded once.
var LetterJPEG = sync.OnceValues(func() ([]byte, error) {
	return encodeLetter(func(buf *bytes.Buffer, img image.Image) error {
		return jpeg.Encode(buf, img, &jpeg.Options{Quality: 80})
	})
})

// LetterPNG is the letter as a PNG.
func LetterPNG() ([]byte, error) {
	return encodeLetter(func(buf *bytes.Buffer, img image.Image) error { return png.Encode(buf, img) })
}

// LetterTIFF is the letter as a deflate-compressed TIFF, as fax software writes.
func LetterTIFF() ([]byte, error) {
	return encodeLetter(func(buf *bytes.Buffer, img image.Image) error {
		return tiff.Encode(buf, img, &tiff.Options{Compression: tiff.Deflate})
	})
}

func encodeLetter(encode func(*bytes.Buffer, image.Image) error) ([]byte, error) {
	img, err := LetterImage()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = encode(&buf, img)
	return buf.Bytes(), err
}

// StatementXLSX is an account statement workbook written by excelize:
// rows bookings (date, text, amount in a euro format) on sheet "Konto",
// then the statement table and its total.
func StatementXLSX(rows int) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	euro := `#,##0.00 "€"`
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &euro})
	if err != nil {
		return nil, err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return nil, err
	}
	if err := f.SetSheetName("Sheet1", "Konto"); err != nil {
		return nil, err
	}
	put := func(row int, values ...any) error {
		return f.SetSheetRow("Konto", fmt.Sprintf("A%d", row), &values)
	}
	if err := put(1, "Datum", "Buchung", "Betrag"); err != nil {
		return nil, err
	}
	for i := range rows {
		if err := put(i+2, 45658+i, fmt.Sprintf("Rate %d, Az. 512344_71020", i+1), 10.5+float64(i)); err != nil {
			return nil, err
		}
	}
	total := []any{"Gesamtforderung", "", 1212.4}
	if err := put(rows+3, total...); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		from, to string
		style    int
	}{{"A2", fmt.Sprintf("A%d", rows+1), date}, {"C2", fmt.Sprintf("C%d", rows+3), money}} {
		if err := f.SetCellStyle("Konto", s.from, s.to, s.style); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	err = f.Write(&buf)
	return buf.Bytes(), err
}
