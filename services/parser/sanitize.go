package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// sanitize caps s at MaxInputBytes and returns valid UTF-8 without NUL bytes.
// A body without a single valid multi-byte sequence but with high bytes is
// almost always Windows-1252 (mislabelled Latin-1 mail); decoding it keeps
// "€" and umlauts instead of turning them into replacement characters.
func sanitize(s string) string {
	if len(s) > MaxInputBytes {
		cut := MaxInputBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) && MaxInputBytes-cut < utf8.UTFMax {
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = fixEncoding(s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// fixEncoding repairs invalid UTF-8: single-byte legacy text is decoded as
// Windows-1252, mixed text gets replacement characters.
func fixEncoding(s string) string {
	if !hasMultiByteRune(s) {
		if out, err := charmap.Windows1252.NewDecoder().String(s); err == nil && utf8.ValidString(out) {
			return out
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// hasMultiByteRune reports whether s holds at least one valid multi-byte
// UTF-8 sequence.
func hasMultiByteRune(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			return true
		}
		i++
	}
	return false
}

// hasNonSpace reports whether s holds anything but white space.
func hasNonSpace(s string) bool {
	return strings.TrimSpace(s) != ""
}

// looksLikeHTML reports whether s contains something that starts a tag,
// comment or entity; a "HTML" body without any is plain text whose line
// breaks must survive.
func looksLikeHTML(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return true
		}
		next := strings.IndexByte(s[i+1:], '<')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// normLine returns s as one tidy line: every kind of white space becomes a
// single space, invisible and control characters are dropped, and the ends
// are trimmed.
func normLine(s string) string {
	if isTidy(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case isInvisible(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// isTidy is the fast path of normLine: printable text without invisible
// characters and without leading, trailing or doubled spaces.
func isTidy(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || (c == ' ' && s[i+1] == ' ') {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isInvisible(r) || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
		i += size
	}
	return true
}

// isInvisible reports format characters that carry no text: zero-width
// spaces and joiners, the byte-order mark, soft hyphens.
func isInvisible(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u200e', '\u200f':
		return true
	}
	return false
}
