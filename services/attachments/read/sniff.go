package read

import (
	"bytes"
	"encoding/binary"
)

// Types the dispatcher routes, as sniffed from the bytes.
const (
	typePDF   = "application/pdf"
	typeZip   = "application/zip"
	typeDOCX  = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	typeXLSX  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	typePNG   = "image/png"
	typeJPEG  = "image/jpeg"
	typeGIF   = "image/gif"
	typeWebP  = "image/webp"
	typeTIFF  = "image/tiff"
	typeText  = "text/plain"
	typeOLE   = "application/x-ole-storage" // legacy .doc/.xls/.msg, or an encrypted OOXML file
	sniffSize = 4096                        // bytes of the head that sniff looks at
)

// magic is one file signature: prefix at offset.
type magic struct {
	offset int
	prefix string
	typ    string // sniffed type, routed by the dispatcher; or
	reason string // why such a file is unreadable
	binary bool   // a short signature: only trusted when the head holds a NUL byte
}

// magics are checked in order; the first match wins. Signatures of types
// we do not read are here so that the reason names the type rather than
// "unrecognised", and so that no archive or program is taken for text.
var magics = []magic{
	{0, "\x89PNG\r\n\x1a\n", typePNG, "", false},
	{0, "\xff\xd8\xff", typeJPEG, "", false},
	{0, "GIF87a", typeGIF, "", false},
	{0, "GIF89a", typeGIF, "", false},
	{0, "II*\x00", typeTIFF, "", false},
	{0, "MM\x00*", typeTIFF, "", false},
	{0, "II+\x00", "", "unsupported type image/tiff (BigTIFF)", false},
	{0, "MM\x00+", "", "unsupported type image/tiff (BigTIFF)", false},
	{0, "PK\x03\x04", typeZip, "", false},
	{0, "PK\x05\x06", "", "ZIP archive (empty)", false},
	{0, "PK\x07\x08", "", "ZIP archive (split)", false},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", typeOLE, "", false},
	{0, "Rar!\x1a\x07", "", "RAR archive", false},
	{0, "7z\xbc\xaf\x27\x1c", "", "7-Zip archive", false},
	{0, "\xfd7zXZ\x00", "", "XZ archive", false},
	{0, "\x1f\x8b", "", "gzip archive", true},
	{0, "BZh", "", "bzip2 archive", true},
	{257, "ustar", "", "TAR archive", false},
	{0, "MSCF\x00\x00\x00\x00", "", "CAB archive", false},
	{0, "\x7fELF", "", "executable program", false},
	{0, "MZ", "", "executable program", true},
	{0, "\xca\xfe\xba\xbe", "", "executable program", false},
	{0, "\xcf\xfa\xed\xfe", "", "executable program", false},
	{0, "{\\rtf", "", "unsupported type application/rtf", false},
	{0, "%!PS", "", "unsupported type application/postscript", false},
	{0, "\x00\x00\x01\x00", "", "unsupported type image/x-icon", true},
	{4, "ftypheic", "", "unsupported type image/heic", false},
	{4, "ftypheix", "", "unsupported type image/heic", false},
	{4, "ftypmif1", "", "unsupported type image/heif", false},
	{4, "ftypavif", "", "unsupported type image/avif", false},
	{4, "ftyp", "", "unsupported type video/mp4", false},
	{0, "OggS", "", "unsupported type audio/ogg", false},
	{0, "ID3", "", "unsupported type audio/mpeg", true},
}

// sniff names the real type of a file from its first bytes (head, at
// least sniffSize of them when the file is that long). The declared type
// and the filename are not consulted: a creditor's "scan.pdf" may be
// anything. It returns the type to route or an unreadable error.
func sniff(head []byte) (string, error) {
	if len(head) == 0 {
		return "", unreadable("empty file")
	}
	// PDF readers accept the header anywhere in the first 1024 bytes.
	if i := bytes.Index(head[:min(len(head), 1024)], []byte("%PDF-")); i >= 0 {
		return typePDF, nil
	}
	if bytes.HasPrefix(head, []byte("RIFF")) && len(head) >= 12 && string(head[8:12]) == "WEBP" {
		return typeWebP, nil
	}
	if isBMP(head) {
		return "", unreadable("unsupported type image/bmp")
	}
	hasNUL := bytes.IndexByte(head, 0) >= 0
	for _, m := range magics {
		end := m.offset + len(m.prefix)
		if len(head) < end || string(head[m.offset:end]) != m.prefix || (m.binary && !hasNUL) {
			continue
		}
		if m.typ != "" {
			return m.typ, nil
		}
		return "", unreadable("%s", m.reason)
	}
	if markup := markupReason(head); markup != "" {
		return "", unreadable("%s", markup)
	}
	if looksLikeText(head) {
		return typeText, nil
	}
	return "", unreadable("unrecognised file type")
}

// isBMP checks "BM" and a known DIB header size, so that a text starting
// with "BM" is not taken for a bitmap.
func isBMP(head []byte) bool {
	if len(head) < 18 || !bytes.HasPrefix(head, []byte("BM")) {
		return false
	}
	switch binary.LittleEndian.Uint32(head[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// markupReason names HTML and SVG, which are text but not read here: the
// markup would come out as noise, and a creditor's statement never is one.
func markupReason(head []byte) string {
	start := bytes.ToLower(bytes.TrimLeft(head[:min(len(head), 512)], "\ufeff \t\r\n"))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body"} {
		if bytes.HasPrefix(start, []byte(p)) {
			return "unsupported type text/html"
		}
	}
	if bytes.Contains(start, []byte("<svg")) {
		return "unsupported type image/svg+xml"
	}
	return ""
}

// oleScanBytes is how much of an OLE2 file oleUnreadable searches: the
// directory of an encrypted OOXML file sits near its start.
const oleScanBytes = 1 << 20

// oleUnreadable names an OLE2 compound file: an Office file encrypted with
// a password (its "EncryptedPackage" stream), or a legacy binary .doc,
// .xls, .ppt or Outlook .msg, none of which is read here.
func oleUnreadable(src *source) error {
	head, err := src.prefix(oleScanBytes)
	if err != nil {
		return err
	}
	if bytes.Contains(head, utf16le("EncryptedPackage")) {
		return unreadable("encrypted Office document")
	}
	return unreadable("legacy Office format (.doc, .xls, .ppt or .msg)")
}

// utf16le encodes ASCII s as UTF-16LE, the way OLE2 stores stream names.
func utf16le(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := range len(s) {
		out = append(out, s[i], 0)
	}
	return out
}
