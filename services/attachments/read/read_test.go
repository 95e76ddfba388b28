package read_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
)

// newReader builds the real dispatcher (real poppler, real tesseract) with
// cfg over the defaults, its working directories under a test directory.
func newReader(t *testing.T, cfg read.Config) *read.Dispatcher {
	t.Helper()
	if cfg.TempDir == "" {
		cfg.TempDir = t.TempDir()
	}
	d, err := read.New(context.Background(), cfg)
	require.NoError(t, err)
	return d
}

// readBytes reads data as an attachment given as bytes.
func readBytes(t *testing.T, d read.Reader, name string, data []byte) (read.Result, error) {
	t.Helper()
	return d.Read(context.Background(), read.File{Name: name, ContentType: "application/octet-stream", Data: data})
}

// readFile writes data to a file and reads it by path, as the downloader hands files over.
func readFile(t *testing.T, d read.Reader, name string, data []byte) (read.Result, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return d.Read(context.Background(), read.File{Name: name, Path: path})
}

// requireUnreadable checks err is an unreadable error with reason.
func requireUnreadable(t *testing.T, err error, reason string) {
	t.Helper()
	require.ErrorIs(t, err, read.ErrUnreadable)
	require.NotErrorIs(t, err, read.ErrTransient)
	require.Equal(t, reason, read.Reason(err))
}

// requireLine checks that some line of text matches pattern.
func requireLine(t *testing.T, text, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for line := range strings.SplitSeq(text, "\n") {
		if re.MatchString(line) {
			return
		}
	}
	require.Failf(t, "no line matches", "%q in:\n%s", pattern, text)
}

// requireOCRStatement checks OCR output of the letter: the label, and the
// total on its line as 1.212,4x (OCR may misread the last digit: the test
// shows OCR ran and kept the row, not that tesseract is perfect).
func requireOCRStatement(t *testing.T, text string) {
	t.Helper()
	requireLine(t, text, `(?i)Forderungsaufstellung`)
	requireLine(t, text, `(?i)Gesamt\s?forderung\s+1[.,]\s?212[.,]4\d`)
}

func TestTextPDFKeepsTableRowsOnOneLine(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readFile(t, d, "forderung.pdf", statementPDF(t, 1))
	require.NoError(t, err)
	require.Equal(t, read.ReaderPDFText, res.Reader)
	require.Equal(t, "application/pdf", res.Type)
	require.Equal(t, 1, res.Pages)
	require.False(t, res.Truncated)
	require.Positive(t, res.Usage.PeakBytes, "pdfinfo's and pdftotext's memory")
	require.Less(t, res.Usage.PeakBytes, int64(512<<20))
	requireLine(t, res.Text, `^Hauptforderung\s+1\.000,00 €$`)
	requireLine(t, res.Text, `^Gesamtforderung\s+1\.212,40 €$`)
	requireLine(t, res.Text, `Inkasso Süd GmbH · Hauptstraße 1 · 80331 München`)
	requireLine(t, res.Text, `^Aktenzeichen: 512344_71020$`)
}

func TestTenPagePDF(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readBytes(t, d, "konto.pdf", statementPDF(t, 10))
	require.NoError(t, err)
	require.Equal(t, read.ReaderPDFText, res.Reader)
	require.Equal(t, 10, res.Pages)
	requireLine(t, res.Text, `^Gesamtforderung\s+1\.212,40 €$`)
	requireLine(t, res.Text, `^Kontoauszug, Seite 10$`)
	requireLine(t, res.Text, `^Buchung 10\.29 vom 03\.03\.2025\s+39,29 €$`)
	require.NotContains(t, res.Text, "\f")
}

func TestPDFOverThePageCapIsUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{MaxPages: 5})
	_, err := readFile(t, d, "konto.pdf", statementPDF(t, 10))
	requireUnreadable(t, err, "too many pages (10 > ATTACHMENT_MAX_PAGES 5)")
}

func TestEncryptedPDFIsUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	_, err := readFile(t, d, "forderung.pdf", encryptedPDF(t, "geheim"))
	requireUnreadable(t, err, "encrypted PDF")

	// Encrypted with an owner password only (copying "forbidden"): anyone
	// may open it, and so may we.
	res, err := readFile(t, d, "forderung.pdf", encryptedPDF(t, ""))
	require.NoError(t, err)
	require.Equal(t, read.ReaderPDFText, res.Reader)
	requireLine(t, res.Text, `^Gesamtforderung 1\.212,40 EUR$`)
}

func TestCorruptPDFIsUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	junk := append([]byte("%PDF-1.4\n"), []byte(strings.Repeat("\x00garbage obj stream <<>> endobj\n", 200))...)
	_, err := readBytes(t, d, "kaputt.pdf", junk)
	requireUnreadable(t, err, "corrupt PDF")

	// A PDF cut in half has lost its cross-reference table and trailer.
	whole := statementPDF(t, 10)
	_, err = readBytes(t, d, "halb.pdf", whole[:len(whole)/2])
	requireUnreadable(t, err, "corrupt PDF")
}

func TestScannedPDFIsReadByOCR(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readFile(t, d, "scan.pdf", scannedPDF(t, 1))
	require.NoError(t, err)
	require.Equal(t, read.ReaderOCR, res.Reader)
	require.Equal(t, "application/pdf", res.Type)
	require.Equal(t, 1, res.Pages)
	requireOCRStatement(t, res.Text)
}

func TestImagesAreReadByOCR(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	for _, tc := range []struct {
		name, typ string
		data      []byte
	}{
		{"foto.jpg", "image/jpeg", letterJPEG(t)},
		{"brief.png", "image/png", letterPNG(t)},
		// TIFF goes to OCR too (tesseract reads it natively; a model
		// Transcriber has to convert or refuse it).
		{"fax.tif", "image/tiff", letterTIFF(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := readBytes(t, d, tc.name, tc.data)
			require.NoError(t, err)
			require.Equal(t, read.ReaderOCR, res.Reader)
			require.Equal(t, tc.typ, res.Type)
			require.Equal(t, 1, res.Pages)
			requireOCRStatement(t, res.Text)
		})
	}
}

func TestTheRealTypeWinsOverNameAndDeclaredType(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := d.Read(context.Background(), read.File{Name: "foto.jpg", ContentType: "image/jpeg", Data: statementPDF(t, 1)})
	require.NoError(t, err)
	require.Equal(t, read.ReaderPDFText, res.Reader)
	require.Equal(t, "application/pdf", res.Type)

	_, err = d.Read(context.Background(), read.File{Name: "forderung.pdf", ContentType: "application/pdf", Data: zipBytes(t, zipFile{"a.txt", "x"})})
	requireUnreadable(t, err, "ZIP archive")
}

func TestTooLargeIsUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{MaxBytes: 1000})
	_, err := readFile(t, d, "forderung.pdf", statementPDF(t, 10))
	require.ErrorIs(t, err, read.ErrUnreadable)
	require.Contains(t, read.Reason(err), "too large (")
	require.Contains(t, read.Reason(err), "> ATTACHMENT_MAX_BYTES 1000)")
}

func TestTextIsCappedAtARuneBoundary(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{TextMaxChars: 60})
	pdf, err := readBytes(t, d, "forderung.pdf", statementPDF(t, 1))
	require.NoError(t, err)
	// The letter head's first line has ü, ß, · and ü within 60 runes.
	docx, err := readBytes(t, d, "brief.docx", zipBytes(t, docxFiles(para(strings.Repeat("Gebühr für Müßiggang. ", 20)))...))
	require.NoError(t, err)
	txt, err := readBytes(t, d, "brief.txt", []byte(strings.Repeat("Schön, süß und groß. ", 50)))
	require.NoError(t, err)
	for _, res := range []read.Result{pdf, docx, txt} {
		require.True(t, res.Truncated, res.Reader)
		require.True(t, utf8.ValidString(res.Text), res.Reader)
		require.Equal(t, 60, utf8.RuneCountInString(res.Text), res.Reader)
	}
	require.True(t, strings.HasPrefix(pdf.Text, "Inkasso Süd GmbH · Hauptstraße 1"))
}
