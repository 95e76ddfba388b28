package read_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
)

func TestUnreadableTypesNameWhatTheyAre(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	utf16 := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
			b.WriteByte(0)
		}
		return b.String()
	}
	ole := "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + strings.Repeat("\x00", 500)
	bmp := "BM" + strings.Repeat("\x00", 12) + "\x28\x00\x00\x00" + strings.Repeat("\x00", 40)
	for _, tc := range []struct {
		data, reason string
	}{
		{"", "empty file"},
		{"Rar!\x1a\x07\x01\x00 rest", "RAR archive"},
		{"7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip archive"},
		{"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip archive"},
		{"\x7fELF\x02\x01\x01\x00", "executable program"},
		{"MZ\x90\x00\x03\x00\x00\x00", "executable program"},
		{"PK\x05\x06" + strings.Repeat("\x00", 18), "ZIP archive (empty)"},
		{ole + utf16("Workbook"), "legacy Office format (.doc, .xls, .ppt or .msg)"},
		{ole + utf16("EncryptedPackage"), "encrypted Office document"},
		{"{\\rtf1\\ansi Gesamt 1.212,40}", "unsupported type application/rtf"},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "unsupported type image/heic"},
		{bmp, "unsupported type image/bmp"},
		{"II+\x00\x08\x00\x00\x00", "unsupported type image/tiff (BigTIFF)"},
		{"<!DOCTYPE html><html><body>Gesamt 1.212,40</body></html>", "unsupported type text/html"},
		{"\n  <HTML><p>Gesamt</p>", "unsupported type text/html"},
		{"\x00\x01\x02\x03binary\x04\x05", "unrecognised file type"},
		{"\x89PNG\r\n\x1a\n broken", "corrupt image (image/png)"},
	} {
		_, err := readBytes(t, d, "anhang.bin", []byte(tc.data))
		requireUnreadable(t, err, tc.reason)
	}
}

func TestTextStartingLikeABinaryIsStillText(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	for _, text := range []string{"MZ-Bank: Gesamt 1.212,40 €", "BMW Bank GmbH, Saldo 1.212,40 €", "BZh? Saldo 1.212,40 €"} {
		res, err := readBytes(t, d, "brief.txt", []byte(text))
		require.NoError(t, err)
		require.Equal(t, read.ReaderText, res.Reader)
		require.Equal(t, text, res.Text)
	}
}

func TestPlainTextEncodings(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	want := "Gebühr für Müller: 1.212,40 €\nGrüße"
	utf16le := []byte{0xff, 0xfe}
	for _, r := range want {
		utf16le = binary.LittleEndian.AppendUint16(utf16le, uint16(r))
	}
	for name, data := range map[string][]byte{
		"utf-8":        []byte(want),
		"utf-8 BOM":    append([]byte{0xef, 0xbb, 0xbf}, want...),
		"windows-1252": []byte("Geb\xfchr f\xfcr M\xfcller: 1.212,40 \x80\r\nGr\xfc\xdfe"),
		"utf-16le":     utf16le,
		"crlf":         []byte(strings.ReplaceAll(want, "\n", "\r\n")),
	} {
		res, err := readFile(t, d, "brief.txt", data)
		require.NoError(t, err, name)
		require.Equal(t, read.ReaderText, res.Reader, name)
		require.Equal(t, "text/plain", res.Type, name)
		require.Equal(t, want, res.Text, name)
	}
}

func TestImageHeadersAreCheckedBeforeOCR(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{MaxPages: 3})
	// A PNG header claiming 20000×20000 pixels: refused without decoding.
	ihdr := append([]byte("IHDR"), binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 20000), 20000)...)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // 8-bit grey
	png := bytes.NewBufferString("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	png.Write(binary.BigEndian.AppendUint32(ihdr, crc32.ChecksumIEEE(ihdr)))
	_, err := readBytes(t, d, "riesig.png", png.Bytes())
	requireUnreadable(t, err, "image too large (20000×20000 pixels)")

	// A TIFF with more frames than ATTACHMENT_MAX_PAGES.
	_, err = readBytes(t, d, "fax.tif", multiFrameTIFF(t, 5))
	requireUnreadable(t, err, "too many pages (more than ATTACHMENT_MAX_PAGES 3)")

	// An empty GIF frame: read, but nothing in it.
	var g bytes.Buffer
	require.NoError(t, gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 200, 100), color.Palette{color.White}), nil))
	_, err = readBytes(t, d, "leer.gif", g.Bytes())
	requireUnreadable(t, err, "no text found in the image")
}
