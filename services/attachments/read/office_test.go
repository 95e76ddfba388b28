package read_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
)

func TestDOCXParagraphsTablesAndHeader(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	body := para("Sehr geehrte Damen und Herren,") +
		para("unsere Forderung gegen ", "Frau Müller", " beträgt:") +
		statementTable() +
		// A text box: Word writes it twice, once for old readers in mc:Fallback.
		`<w:p><w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">` +
		`<mc:Choice Requires="wps"><w:t>Textfeld</w:t></mc:Choice><mc:Fallback><w:t>Textfeld</w:t></mc:Fallback>` +
		`</mc:AlternateContent></w:r></w:p>` +
		`<w:p><w:r><w:t>Saldo</w:t></w:r><w:r><w:tab/><w:t>1.212,40 €</w:t></w:r>` +
		`<w:del><w:r><w:delText>999,99 €</w:delText></w:r></w:del></w:p>` +
		`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r></w:p>`
	res, err := readFile(t, d, "brief.docx", zipBytes(t, docxFiles(body)...))
	require.NoError(t, err)
	require.Equal(t, read.ReaderOffice, res.Reader)
	require.Equal(t, "application/zip", res.Type)
	require.Zero(t, res.Usage, "read in-process")
	require.Equal(t, strings.Join([]string{
		"Ihr Zeichen 417_26",
		"",
		"Sehr geehrte Damen und Herren,",
		"unsere Forderung gegen Frau Müller beträgt:",
		"Hauptforderung | 1.000,00 €",
		"Zinsen | 150,40 €",
		"Kosten | 62,00 €",
		"Gesamtforderung | 1.212,40 €",
		"Textfeld",
		"Saldo\t1.212,40 €",
	}, "\n"), res.Text)
}

func TestDOCXNestedTableStaysInItsCell(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	inner := "<w:tbl><w:tr><w:tc>" + para("Zinsen") + "</w:tc><w:tc>" + para("150,40") + "</w:tc></w:tr></w:tbl>"
	body := "<w:tbl><w:tr><w:tc>" + para("Aufstellung") + inner + "</w:tc><w:tc>" + para("Summe 1.212,40") + "</w:tc></w:tr></w:tbl>"
	res, err := readBytes(t, d, "brief.docx", zipBytes(t, docxFiles(body)...))
	require.NoError(t, err)
	requireLine(t, res.Text, `^Aufstellung Zinsen \| 150,40 \| Summe 1\.212,40$`)
}

// xlsxFiles is a workbook written by hand the way Excel writes it: shared
// strings, a custom currency format, a date, an inline string, a boolean,
// a formula with its cached value, and a second sheet.
func xlsxFiles() []zipFile {
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	return []zipFile{
		{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<?xml version="1.0"?><Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0"?><workbook ` + ns + ` xmlns:r="` + nsRel + `"><workbookPr/><sheets>` +
			`<sheet name="Forderung" sheetId="1" r:id="rId1"/><sheet name="Zahlungen" sheetId="2" r:id="rId2"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships xmlns="` + nsPkgRels + `">` +
			`<Relationship Id="rId1" Type="` + nsRel + `/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + nsRel + `/worksheet" Target="/xl/worksheets/sheet2.xml"/>` +
			`<Relationship Id="rId3" Type="` + nsRel + `/sharedStrings" Target="sharedStrings.xml"/>` +
			`<Relationship Id="rId4" Type="` + nsRel + `/styles" Target="styles.xml"/></Relationships>`},
		{"xl/sharedStrings.xml", `<?xml version="1.0"?><sst ` + ns + `>` +
			`<si><t>Hauptforderung</t></si><si><t>Zinsen</t></si><si><t>Kosten</t></si>` +
			`<si><r><t>Gesamt</t></r><r><t>forderung</t></r><rPh><t>ignored</t></rPh></si><si><t>Stand</t></si></sst>`},
		{"xl/styles.xml", `<?xml version="1.0"?><styleSheet ` + ns + `>` +
			`<numFmts><numFmt numFmtId="164" formatCode="#,##0.00\ &quot;€&quot;"/></numFmts>` +
			`<cellStyleXfs><xf numFmtId="0"/></cellStyleXfs>` +
			`<cellXfs><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="14"/><xf numFmtId="4"/></cellXfs></styleSheet>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0"?><worksheet ` + ns + `><sheetData>` +
			`<row r="1"><c r="A1" t="s"><v>4</v></c><c r="C1" s="2"><v>45657</v></c></row>` +
			`<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3" s="1"><v>1000</v></c></row>` +
			`<row r="4"><c r="A4" t="s"><v>1</v></c><c r="B4" s="1"><v>150.4</v></c></row>` +
			`<row r="5"><c r="A5" t="s"><v>2</v></c><c r="B5" s="1"><v>62</v></c></row>` +
			`<row r="6"><c r="A6" t="s"><v>3</v></c><c r="B6" s="1"><f>SUM(B3:B5)</f><v>1212.4</v></c></row>` +
			`<row r="8"><c r="A8" t="inlineStr"><is><t>Bezahlt</t></is></c><c r="B8" t="b"><v>0</v></c><c r="C8"><v>0.1</v></c></row>` +
			`</sheetData></worksheet>`},
		{"xl/worksheets/sheet2.xml", `<?xml version="1.0"?><worksheet ` + ns + `><sheetData>` +
			`<row r="1"><c r="A1" t="str"><v>Rate Januar</v></c><c r="B1" s="3"><v>-1234.5</v></c></row>` +
			`</sheetData></worksheet>`},
	}
}

func TestXLSXRowsCellsAndDisplayedValues(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readFile(t, d, "konto.xlsx", zipBytes(t, xlsxFiles()...))
	require.NoError(t, err)
	require.Equal(t, read.ReaderOffice, res.Reader)
	require.Equal(t, 2, res.Pages)
	require.Equal(t, strings.Join([]string{
		"=== Forderung ===",
		"Stand | 31.12.2024",
		"Hauptforderung | 1.000,00 €",
		"Zinsen | 150,40 €",
		"Kosten | 62,00 €",
		"Gesamtforderung | 1.212,40 €",
		"Bezahlt | FALSCH | 0,1",
		"",
		"=== Zahlungen ===",
		"Rate Januar | -1.234,50",
	}, "\n"), res.Text)
}

func TestXLSXWrittenByExcelize(t *testing.T) {
	t.Parallel()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetName("Sheet1", "Aufstellung"))
	euro := `#,##0.00 "€"`
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &euro})
	require.NoError(t, err)
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	require.NoError(t, err)
	rows := [][]any{{"Datum", 45992}, {"Hauptforderung", 1000}, {"Zinsen", 150.4}, {"Kosten", 62}, {"Gesamt", 1212.4}}
	for i, row := range rows {
		require.NoError(t, f.SetSheetRow("Aufstellung", fmt.Sprintf("A%d", i+1), &row))
	}
	require.NoError(t, f.SetCellStyle("Aufstellung", "B1", "B1", date))
	require.NoError(t, f.SetCellStyle("Aufstellung", "B2", "B5", money))
	_, err = f.NewSheet("Notizen")
	require.NoError(t, err)
	require.NoError(t, f.SetCellValue("Notizen", "C3", "Ihr Zeichen 417_26"))
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))

	d := newReader(t, read.Config{})
	res, err := readBytes(t, d, "aufstellung.xlsx", buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, read.ReaderOffice, res.Reader)
	require.Equal(t, 2, res.Pages)
	requireLine(t, res.Text, `^=== Aufstellung ===$`)
	requireLine(t, res.Text, `^Datum \| 01\.12\.2025$`)
	requireLine(t, res.Text, `^Gesamt \| 1\.212,40 €$`)
	requireLine(t, res.Text, `^Hauptforderung \| 1\.000,00 €$`)
	requireLine(t, res.Text, `^=== Notizen ===$`)
	requireLine(t, res.Text, `^Ihr Zeichen 417_26$`)
}

func TestMacroDocumentsAreUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	docm := append(docxFiles(para("Gesamtforderung 1.212,40 €")), zipFile{"word/vbaProject.bin", "\xd0\xcf\x11\xe0 macro"})
	_, err := readBytes(t, d, "brief.docm", zipBytes(t, docm...))
	requireUnreadable(t, err, "macro-enabled document")

	xlsm := append(xlsxFiles(), zipFile{"xl/vbaProject.bin", "\xd0\xcf\x11\xe0 macro"})
	_, err = readBytes(t, d, "konto.xlsx", zipBytes(t, xlsm...))
	requireUnreadable(t, err, "macro-enabled document")
}

func TestZipArchivesAreUnreadable(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	for _, tc := range []struct {
		name   string
		files  []zipFile
		reason string
	}{
		{"plain ZIP", []zipFile{{"forderung.pdf", "%PDF-1.4"}, {"brief.txt", "Gesamt 1.212,40"}}, "ZIP archive"},
		{"OpenDocument", []zipFile{{"mimetype", "application/vnd.oasis.opendocument.text"}, {"content.xml", "<x/>"}}, "unsupported type OpenDocument"},
		{"escaping names", append(docxFiles(para("x")), zipFile{"../../etc/cron.d/x", "x"}), "ZIP with unsafe entry names"},
		{"no main part", docxFiles(para("x"))[:1], "unsupported Office document"},
		{"missing document", docxFiles(para("x"))[:2], "corrupt document (a part is missing)"},
		{"bad XML", docxFiles(`<w:p><w:r><w:t>offen</w:r></w:p>`), "corrupt document"},
		{"entity", docxFiles(para("&xxe;")), "corrupt document"},
		{"bad package rels", append(docxFiles(para("x"))[:1], zipFile{"_rels/.rels", "<Relationships><Relationship"}), "corrupt document"},
	} {
		_, err := readBytes(t, d, "anhang.zip", zipBytes(t, tc.files...))
		requireUnreadable(t, err, tc.reason)
	}
	_, err := readBytes(t, d, "anhang.zip", []byte("PK\x03\x04 not really a zip"))
	requireUnreadable(t, err, "corrupt ZIP archive")
}

// rawEntry is a ZIP entry written with chosen header sizes around raw
// deflate data, the way a bomb is built.
func zipWithRaw(t *testing.T, files []zipFile, name string, declared uint64, deflated []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if f.name == name {
			continue
		}
		w, err := zw.Create(f.name)
		require.NoError(t, err)
		_, err = w.Write([]byte(f.body))
		require.NoError(t, err)
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
		CompressedSize64: uint64(len(deflated)), UncompressedSize64: declared, CRC32: 0})
	require.NoError(t, err)
	_, err = w.Write(deflated)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// deflatedSpaces is XML inflating to n bytes and more: a document whose
// one paragraph holds n spaces.
func deflatedSpaces(n int) []byte {
	return readtest.DeflateFill(`<w:document `+nsW+`><w:body><w:p><w:r><w:t>`, ' ', n)
}

func TestDOCXZipBombsAreUnreadableQuickly(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{Timeout: 20 * time.Second})
	files := docxFiles("")
	bomb := deflatedSpaces(64 << 20) // 64 MiB of XML in 0.4 MB

	// Declared honestly: refused from the header, before inflating a byte.
	_, err := readBytes(t, d, "bombe.docx", zipWithRaw(t, files, "word/document.xml", 64<<20+200, bomb))
	requireUnreadable(t, err, "ZIP bomb (an entry inflates to 64 MiB, over 32 MiB)")

	// Declared small: archive/zip stops where the declared size ends.
	_, err = readBytes(t, d, "bombe.docx", zipWithRaw(t, files, "word/document.xml", 4096, bomb))
	requireUnreadable(t, err, "corrupt document")

	// Declared within the cap, but one text run of 30 MiB: stopped at the
	// token bound, not decoded into one giant string.
	_, err = readBytes(t, d, "bombe.docx", zipWithRaw(t, files, "word/document.xml", 30<<20+200, deflatedSpaces(30<<20)))
	requireUnreadable(t, err, "corrupt document (an XML token over 1 MiB)")
}

func TestDeflateFillInflates(t *testing.T) {
	t.Parallel()
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(readtest.DeflateFill("<a>", ' ', 1000))))
	require.NoError(t, err)
	require.Equal(t, "<a>"+strings.Repeat(" ", 1000), string(got))
}

func TestXLSXAccountStatementOfAHundredRows(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readBytes(t, d, "konto.xlsx", must(t)(readtest.StatementXLSX(100)))
	require.NoError(t, err)
	lines := strings.Split(res.Text, "\n")
	require.Equal(t, []string{"=== Konto ===", "Datum | Buchung | Betrag", "01.01.2025 | Rate 1, Az. 512344_71020 | 10,50 €"}, lines[:3])
	require.Equal(t, "10.04.2025 | Rate 100, Az. 512344_71020 | 109,50 €", lines[101])
	require.Equal(t, "Gesamtforderung | 1.212,40 €", lines[102])
	require.Len(t, lines, 103)
}

func TestReadtestDOCXFiles(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	res, err := readBytes(t, d, "forderung.docx", must(t)(readtest.StatementDOCX()))
	require.NoError(t, err)
	require.Equal(t, read.ReaderOffice, res.Reader)
	requireLine(t, res.Text, `^Gesamtforderung \| 1\.212,40 €$`)
	requireLine(t, res.Text, `^Forderungsaufstellung, Ihr Zeichen 417_26$`)

	_, err = readBytes(t, d, "bombe.docx", must(t)(readtest.DOCXBomb(64<<20)))
	requireUnreadable(t, err, "ZIP bomb (an entry inflates to 64 MiB, over 32 MiB)")
}
