package rules

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ocrMoneyRe: a German or English money amount with cents, and nothing else.
var ocrMoneyRe = regexp.MustCompile(`^(?:\d{1,3}(?:\.\d{3})*,\d{2}|\d{1,3}(?:,\d{3})*\.\d{2}|\d+[.,]\d{2})$`)

// repairOCR undoes OCR's usual confusions where the rules need the text
// right: l and I read for 1, O and o for 0 inside amounts ("1.2l2,40",
// "l.O00,00"), and l for I at the start of "Ihr", "Ihre", "Ihnen" ("lhre
// Mandantin"). In amounts it changes only a token that stands alone, holds
// a digit and a separator, and becomes a German or English money amount
// with cents once repaired. Every replacement is one byte for one, so
// offsets stay; text without anything to repair is returned as it is.
func repairOCR(s string) string {
	var b []byte // a copy, made at the first repair
	for i := 0; i < len(s); {
		if s[i] == 'l' && (strings.HasPrefix(s[i+1:], "hr") || strings.HasPrefix(s[i+1:], "hn")) && !gluedBefore(s, i) {
			if b == nil {
				b = []byte(s)
			}
			b[i] = 'I'
			i += 3
			continue
		}
		if !isOCRDigit(s[i]) || gluedBefore(s, i) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isOCRDigit(s[j]) || s[j] == '.' || s[j] == ',') {
			j++
		}
		tok := strings.TrimRight(s[i:j], ".,")
		end := i + len(tok)
		if gluedAfter(s, end) || !needsOCRRepair(tok) {
			i = max(j, i+1)
			continue
		}
		if b == nil {
			b = []byte(s)
		}
		for k := i; k < end; k++ {
			b[k] = ocrDigit(s[k])
		}
		i = j
	}
	if b == nil {
		return s
	}
	return string(b)
}

// isOCRDigit: a digit or a letter OCR reads for one.
func isOCRDigit(c byte) bool {
	return isDigit(c) || c == 'l' || c == 'I' || c == 'O' || c == 'o'
}

func ocrDigit(c byte) byte {
	switch c {
	case 'l', 'I':
		return '1'
	case 'O', 'o':
		return '0'
	}
	return c
}

// gluedBefore and gluedAfter report a letter or digit right before s[i] or
// at s[i]: the token is part of a word or code.
func gluedBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func gluedAfter(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return i < len(s) && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// needsOCRRepair reports whether tok holds a confused letter next to real
// digits and, repaired, is money with cents: "1.2l2,40", "l23,45", "1,2O0.00".
func needsOCRRepair(tok string) bool {
	digits, letters := 0, 0
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case isDigit(c):
			digits++
		case c != '.' && c != ',':
			letters++
		}
	}
	if letters == 0 || digits < 2 || digits <= letters {
		return false
	}
	repaired := make([]byte, len(tok))
	for i := 0; i < len(tok); i++ {
		repaired[i] = ocrDigit(tok[i])
	}
	return ocrMoneyRe.Match(repaired)
}
