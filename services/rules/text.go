package rules

import (
	"strings"
	"unicode/utf8"
)

// maxScanBytes caps how much of a body the rules look at, so hostile or
// enormous input stays cheap. It covers the parser's whole output
// (parser.MaxCleanRunes runes); creditor replies carry their figures early.
const maxScanBytes = 100 << 10

// prepareText makes s safe and uniform to scan: valid UTF-8, at most
// maxScanBytes, Unix newlines and plain spaces instead of the no-break and
// thin spaces HTML mail uses inside amounts ("1.234,56&nbsp;€").
func prepareText(s string) string { return prepareTextN(s, maxScanBytes) }

// prepareTextN is prepareText with at most n bytes.
func prepareTextN(s string, n int) string {
	s = strings.ToValidUTF8(prefixBytes(s, n), "\uFFFD")
	// The replacer copies even a text it leaves alone, which most are.
	for i := 0; i < len(spaceReplacements); i += 2 {
		if strings.Contains(s, spaceReplacements[i]) {
			return spaceReplacer.Replace(s)
		}
	}
	return s
}

// prefixBytes returns at most n bytes of s, cut at a rune boundary.
func prefixBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// spaceReplacements are the old, new pairs prepareText replaces.
var spaceReplacements = []string{
	"\r\n", "\n",
	"\r", "\n",
	"\f", "\n\n", // pdftotext's page break
	"\u00a0", " ",
	"\u202f", " ",
	"\u2009", " ",
	"\u2007", " ",
	"\u200b", "",
	"\u00ad", "", // soft hyphen
	"\ufeff", "",
}

var spaceReplacer = strings.NewReplacer(spaceReplacements...)

// splitLines returns the lines of s with surrounding blanks trimmed.
func splitLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

// abbreviations end in a dot without ending a sentence; seen lowercased.
var abbreviations = map[string]bool{
	"az": true, "nr": true, "inkl": true, "zzgl": true, "zzgl.": true, "einschl": true,
	"abzgl": true, "bzw": true, "ca": true, "evtl": true, "ggf": true, "gem": true,
	"lt": true, "vgl": true, "str": true, "tel": true, "dr": true, "prof": true,
	"geb": true, "max": true, "min": true, "mtl": true, "zuzügl": true, "monatl": true,
	"hr": true, "fr": true, "herrn": false, "z": true, "b": true, "u": true, "a": true,
	"i": true, "v": true, "d": true, "s": true, "ff": true, "abs": true, "kd": true,
	"re": true, "rg": true, "vers": true, "std": true, "incl": true, "approx": true,
	"no": true, "mr": true, "mrs": true, "ms": true, "co": true, "st": true, "vs": true,
	"eur": true, "akt": true, "zt": true, "usw": true, "etc": false, "gmbh": false,
}

// sentenceStart returns the index where the sentence containing pos begins,
// looking back at most limit bytes. Blank lines and sentence-ending
// punctuation end a sentence; dots in numbers and abbreviations do not.
func sentenceStart(s string, pos, limit int) int {
	lo := max(pos-limit, 0)
	for i := pos - 1; i >= lo; i-- {
		switch s[i] {
		case '\n':
			if i > 0 && s[i-1] == '\n' || i > 1 && s[i-1] == ' ' && s[i-2] == '\n' {
				return i + 1
			}
		case '!', '?', ';':
			return i + 1
		case '.':
			if endsSentence(s, i) {
				return i + 1
			}
		}
	}
	if lo > 0 {
		// Start on a rune boundary.
		for lo < pos && !utf8.RuneStart(s[lo]) {
			lo++
		}
	}
	return lo
}

// sentenceEnd returns the index just past the end of the sentence that
// contains pos, looking ahead at most limit bytes.
func sentenceEnd(s string, pos, limit int) int {
	hi := min(pos+limit, len(s))
	for i := pos; i < hi; i++ {
		switch s[i] {
		case '\n':
			if i+1 < len(s) && s[i+1] == '\n' {
				return i
			}
		case '!', '?', ';':
			return i
		case '.':
			if endsSentence(s, i) {
				return i
			}
		}
	}
	for hi > pos && hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi--
	}
	return hi
}

// endsSentence reports whether the dot at s[i] ends a sentence: it must be
// followed by whitespace or the end, follow a word, and not close a number
// or abbreviation.
func endsSentence(s string, i int) bool {
	if i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\n' && s[i+1] != '\t' {
		return false
	}
	if i > 0 && (s[i-1] == ' ' || s[i-1] == '.') {
		return false // dot leaders ("Gesamtforderung . . . . 1.212,40") or an ellipsis
	}
	j := i
	for j > 0 && isASCIIAlnum(s[j-1]) || j > 0 && s[j-1] >= 0x80 {
		j--
	}
	word := strings.ToLower(s[j:i])
	if word == "" {
		return true
	}
	if isDigits(word) {
		// "am 31.12.2024. Danach" ends a sentence; "Ihr Schreiben vom 3. März" does not matter.
		return len(word) >= 4
	}
	return !abbreviations[word]
}

func isASCIIAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
