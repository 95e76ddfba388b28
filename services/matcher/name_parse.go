package matcher

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameRunes bounds the work on hostile input; real names are far shorter.
const maxNameRunes = 200

// parseName folds s and splits it into words, dropping legal forms and
// honorifics unless nothing else would remain.
func parseName(s string) name {
	words := strings.FieldsFunc(blankAbbreviations(foldName(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	kept := slices.DeleteFunc(slices.Clone(words), func(w string) bool { return nameNoise[w] })
	if len(kept) == 0 {
		kept = words
	}
	n := name{words: make([][]rune, len(kept))}
	for i, w := range kept {
		n.words[i] = []rune(w)
		n.joined = append(n.joined, n.words[i]...)
	}
	return n
}

// foldName lowercases the first maxNameRunes runes of s and spells umlauts
// and accents in plain ASCII the way Germans do when a keyboard lacks them
// (ü → ue, ß → ss, é → e). An umlaut may be one rune or a vowel followed
// by a combining diaeresis; other combining accents are dropped.
func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, n := 0, 0; i < len(s) && n < maxNameRunes; n++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if strings.ContainsRune("aouAOU", r) && n+1 < maxNameRunes {
			if next, w := utf8.DecodeRuneInString(s[i:]); next == '\u0308' {
				b.WriteRune(unicode.ToLower(r))
				b.WriteByte('e')
				i += w
				n++
				continue
			}
		}
		r = unicode.ToLower(r)
		switch {
		case r == 'ä' || r == 'ö' || r == 'ü':
			b.WriteString(umlautFold[r])
		case r == 'ß':
			b.WriteString("ss")
		case unicode.Is(unicode.Mn, r):
			// a combining accent left after the umlaut pairs
		default:
			if rep, ok := accentFold[r]; ok {
				b.WriteString(rep)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

var umlautFold = map[rune]string{'ä': "ae", 'ö': "oe", 'ü': "ue"}

// blankAbbreviations replaces "e.V." / "e. V." (eingetragener Verein) and
// "e.K." (Kaufmann) in folded s by a blank before punctuation is dropped,
// when their letters would look like initials: an "e" not preceded by a
// word character, a dot, optional blanks, "v" or "k" not followed by a word
// character, and an optional dot.
func blankAbbreviations(s string) string {
	var b []byte
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != 'e' || (i > 0 && isWordByte(s[i-1])) || i+1 >= len(s) || s[i+1] != '.' {
			continue
		}
		j := i + 2
		for j < len(s) && strings.IndexByte(" \t\n\f\r", s[j]) >= 0 {
			j++
		}
		if j >= len(s) || (s[j] != 'v' && s[j] != 'k') || (j+1 < len(s) && isWordByte(s[j+1])) {
			continue
		}
		end := j + 1
		if end < len(s) && s[end] == '.' {
			end++
		}
		b = append(append(b, s[last:i]...), ' ')
		last = end
		i = end - 1
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// isWordByte reports an ASCII word character, as regexp's \b sees them.
func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// nameNoise are words that say nothing about who is meant: legal forms,
// their fragments once punctuation is gone, and honorifics.
var nameNoise = map[string]bool{
	"gmbh": true, "mbh": true, "ag": true, "kg": true, "kgaa": true, "ohg": true,
	"gbr": true, "ug": true, "haftungsbeschraenkt": true, "se": true, "eg": true,
	"ev": true, "co": true, "und": true, "partg": true, "vvag": true, "aoer": true,
	"ltd": true, "limited": true, "inc": true, "llc": true, "plc": true, "corp": true,
	"bv": true, "nv": true, "sa": true, "sarl": true, "srl": true, "spa": true,
	"herr": true, "herrn": true, "frau": true, "hr": true, "fr": true, "dr": true,
	"prof": true, "dipl": true, "ing": true, "mr": true, "mrs": true, "ms": true,
}

var accentFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'å': "a", 'ą': "a", 'æ': "ae",
	'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ę': "e", 'ě': "e", 'ğ': "g",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'ł': "l", 'ľ': "l",
	'ñ': "n", 'ń': "n", 'ň': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o",
	'ø': "o", 'ő': "o", 'œ': "oe", 'ř': "r", 'ś': "s", 'š': "s", 'ş': "s",
	'ť': "t", 'ù': "u", 'ú': "u", 'û': "u", 'ů': "u", 'ű': "u", 'ý': "y",
	'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}
