package read

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Byte-order marks.
var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16LE = []byte{0xff, 0xfe}
	bomUTF16BE = []byte{0xfe, 0xff}
)

// looksLikeText reports whether head is text: UTF-16 with a byte-order
// mark, or bytes without control characters (tab, newlines, form feed and
// DOS's end-of-file mark aside) that are UTF-8 or plausibly Windows-1252:
// binary data has control bytes in any 4 KB, and rarely mostly high bytes.
func looksLikeText(head []byte) bool {
	if bytes.HasPrefix(head, bomUTF16LE) || bytes.HasPrefix(head, bomUTF16BE) {
		return true
	}
	high := 0
	for _, c := range head {
		switch {
		case c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x1a:
		case c < 0x20 || c == 0x7f:
			return false
		case c >= 0x80:
			high++
		}
	}
	if validUTF8Prefix(head) {
		return true
	}
	return high*10 < len(head)*3 // Windows-1252: umlauts and signs, under 30 %
}

// validUTF8Prefix is utf8.Valid, allowing the head to end inside a rune.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// readText decodes a text file: UTF-16 by its mark, UTF-8 when valid,
// Windows-1252 otherwise (what German Windows programs write). Only as many
// bytes are read as can become TextMaxChars runes.
func (d *Dispatcher) readText(src *source) (Result, error) {
	raw, err := src.prefix(int64(d.cfg.TextMaxChars)*4 + 4)
	if err != nil {
		return Result{}, err
	}
	cut := int64(len(raw)) < src.size
	var text string
	switch {
	case bytes.HasPrefix(raw, bomUTF16LE), bytes.HasPrefix(raw, bomUTF16BE):
		text = decodeUTF16(raw)
	case validUTF8Prefix(raw):
		text = string(bytes.TrimPrefix(raw, bomUTF8))
	default:
		decoded, err := charmap.Windows1252.NewDecoder().Bytes(raw)
		if err != nil {
			return Result{}, unreadable("text in an unknown encoding")
		}
		text = string(decoded)
	}
	return Result{Reader: ReaderText, Text: tidy([]byte(text)), Truncated: cut}, nil
}

// decodeUTF16 decodes UTF-16 with its byte-order mark.
func decodeUTF16(raw []byte) string {
	big := raw[0] == 0xfe
	raw = raw[2 : len(raw)-len(raw)%2]
	units := make([]uint16, len(raw)/2)
	for i := range units {
		if big {
			units[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
		} else {
			units[i] = uint16(raw[2*i+1])<<8 | uint16(raw[2*i])
		}
	}
	return string(utf16.Decode(units))
}
