package rules

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// numberPattern matches the number shapes creditors write, most specific
// first (RE2 alternation is leftmost-first): German thousands with optional
// decimals or a ",-" dash, English thousands, a plain English decimal, and a
// plain integer with optional German decimals.
const numberPattern = `\d{1,3}(?:\.\d{3})+(?:,(?:\d{1,2}|--?|–))?|\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+\.\d{1,2}|\d+(?:,(?:\d{1,2}|--?|–))?`

// numberAtRe is numberPattern anchored, for findNumbers.
var numberAtRe = regexp.MustCompile(`\A(?:` + numberPattern + `)`)

// findNumbers returns what FindAllStringIndex(text, -1) of numberPattern
// would (see nextNumber).
func findNumbers(text string) [][2]int {
	var out [][2]int
	for i := 0; ; {
		start, end, ok := nextNumber(text, i)
		if !ok {
			return out
		}
		out = append(out, [2]int{start, end})
		i = end
	}
}

// nextNumber returns the next match of numberPattern at or after i without
// an unanchored search: every match starts at a digit (the last branch,
// \d+, matches any), so the next match starts at the next digit. A match
// holds only digits, '.', ',', '-' and '–', so the regexp anchored there
// needs no more than that run of bytes, and a run of digits alone is the
// match.
func nextNumber(text string, i int) (start, end int, ok bool) {
	d := strings.IndexAny(text[i:], "0123456789")
	if d < 0 {
		return 0, 0, false
	}
	start, end = i+d, i+d
	digitsOnly := true
	for ; end < len(text) && isNumberByte(text[end]); end++ {
		digitsOnly = digitsOnly && isDigit(text[end])
	}
	if !digitsOnly {
		end = start + numberAtRe.FindStringIndex(text[start:end])[1]
	}
	return start, end, true
}

// isNumberByte: digits, '.', ',', '-' and the bytes of '–' (E2 80 93).
func isNumberByte(c byte) bool {
	return isDigit(c) || c == '.' || c == ',' || c == '-' || c == 0xE2 || c == 0x80 || c == 0x93
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// maxAmountHits bounds the candidates considered in one body;
// maxAttachmentAmountHits in one attachment, where statements list many
// bookings.
const (
	maxAmountHits           = 300
	maxAttachmentAmountHits = 1000
)

// amountHit is one number in the text that may be money.
type amountHit struct {
	start, end int // byte span of the digits
	value      float64
	currency   bool // a €, EUR or Euro sits right before or after it
	formatted  bool // has cents, a ",-" dash or thousands groups
	negative   bool // a minus sign precedes it
}

// findAmountHits returns numbers that look like money: not part of a date,
// phone number, IBAN, postcode, percentage or case number. A hit without a
// currency marker is kept only when money-formatted or alone in a table
// cell; the classifier decides whether its label makes it an amount. Past
// limit hits it keeps the first and the last limit/2: a long statement ends
// with its total.
func findAmountHits(text string, limit int) []amountHit {
	var head, tail []amountHit
	headCap, tailCap := limit-limit/2, limit/2
	next := 0 // where the oldest hit of a full tail is
	for i := 0; ; {
		start, end, ok := nextNumber(text, i)
		if !ok {
			break
		}
		i = end
		h, ok := readHit(text, start, end)
		switch {
		case !ok:
		case len(head) < headCap:
			head = append(head, h)
		case len(tail) < tailCap:
			tail = append(tail, h)
		case tailCap > 0:
			tail[next] = h
			next = (next + 1) % tailCap
		}
	}
	if len(tail) == 0 {
		return head
	}
	hits := append(head, tail[next:]...)
	return append(hits, tail[:next]...)
}

func readHit(text string, start, end int) (amountHit, bool) {
	raw := text[start:end]
	h := amountHit{start: start, end: end}
	negative, ok := checkBefore(text, start)
	if !ok || !checkAfter(text, end) {
		return h, false
	}
	h.negative = negative
	v, formatted, ok := parseNumber(raw)
	if !ok {
		return h, false
	}
	h.value, h.formatted = v, formatted
	h.currency = currencyAfter(text, end) || currencyBefore(text, start)
	if !h.currency && !h.formatted && !aloneInCell(text, start, end) {
		return h, false
	}
	return h, true
}

// aloneInCell reports whether text[start:end] is all of a " | " table cell
// ("Gesamt | 1212", as spreadsheet rows are written): the number follows a
// bar and ends the line or the cell.
func aloneInCell(text string, start, end int) bool {
	i := start
	for i > 0 && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	if i == 0 || text[i-1] != '|' {
		return false
	}
	j := end
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	return j == len(text) || text[j] == '\n' || text[j] == '|'
}

// checkBefore rejects numbers glued to letters, digits or reference
// punctuation, and detects a leading minus sign.
func checkBefore(text string, start int) (negative, ok bool) {
	if start == 0 {
		return false, true
	}
	r, size := utf8.DecodeLastRuneInString(text[:start])
	switch {
	case r == '-' || r == '−':
		if start-size == 0 {
			return true, true
		}
		p, _ := utf8.DecodeLastRuneInString(text[:start-size])
		if unicode.IsLetter(p) || unicode.IsDigit(p) || p == '/' || p == '.' {
			return false, false
		}
		return true, true
	case unicode.IsLetter(r), unicode.IsDigit(r):
		return false, false
	case strings.ContainsRune("./,_#+:&=", r):
		// "Tel.:0221…", "+49 …", "Nr.#123", "a=1": not money. A colon right
		// before digits without a space is a label glued to a code.
		if r == ':' {
			return false, true
		}
		return false, false
	}
	return false, true
}

// checkAfter rejects numbers that continue as a date, time, case number,
// percentage or identifier.
func checkAfter(text string, end int) bool {
	if end >= len(text) {
		return true
	}
	r, size := utf8.DecodeRuneInString(text[end:])
	next := func() rune {
		if end+size >= len(text) {
			return 0
		}
		n, _ := utf8.DecodeRuneInString(text[end+size:])
		return n
	}
	switch {
	case unicode.IsDigit(r), r == '_', r == '%', r == '‰':
		return false
	case r == '.' || r == ',' || r == '/' || r == ':' || r == '-':
		return !unicode.IsDigit(next())
	case unicode.IsLetter(r):
		return hasCurrencyPrefix(text[end:])
	}
	rest := strings.TrimLeft(text[end:min(end+16, len(text))], " ")
	lower := strings.ToLower(rest)
	return !strings.HasPrefix(rest, "%") && !strings.HasPrefix(lower, "prozent") && !strings.HasPrefix(lower, "percent")
}

// parseNumber turns a matched number into a value. formatted reports cents,
// a dash or thousands groups — shapes that do not occur in phone numbers.
func parseNumber(raw string) (value float64, formatted bool, ok bool) {
	s := raw
	for _, dash := range []string{",--", ",-", ",–"} {
		if strings.HasSuffix(s, dash) {
			s = strings.TrimSuffix(s, dash)
			formatted = true
			break
		}
	}
	switch {
	case strings.Contains(s, ".") && strings.Contains(s, ","):
		if strings.LastIndexByte(s, ',') > strings.LastIndexByte(s, '.') {
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else {
			s = strings.ReplaceAll(s, ",", "")
		}
		formatted = true
	case strings.Contains(s, ","):
		i := strings.LastIndexByte(s, ',')
		if len(s)-i-1 == 3 {
			s = strings.ReplaceAll(s, ",", "") // 1,234 (English thousands)
		} else {
			s = strings.Replace(s, ",", ".", 1)
		}
		formatted = true
	case strings.Contains(s, "."):
		i := strings.LastIndexByte(s, '.')
		if len(s)-i-1 == 3 {
			s = strings.ReplaceAll(s, ".", "") // 2.500 (German thousands)
		}
		formatted = true
	}
	if len(s) > 15 {
		return 0, false, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, false
	}
	return v, formatted, true
}

// hasCurrencyPrefix reports whether s starts with €, EUR or Euro as a word.
func hasCurrencyPrefix(s string) bool {
	if strings.HasPrefix(s, "€") {
		return true
	}
	for _, c := range []string{"euro", "eur"} {
		if len(s) >= len(c) && strings.EqualFold(s[:len(c)], c) {
			rest := s[len(c):]
			r, _ := utf8.DecodeRuneInString(rest)
			if rest == "" || !unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}

func currencyAfter(text string, end int) bool {
	rest := text[end:min(end+12, len(text))]
	rest = strings.TrimLeft(rest, " \t")
	return hasCurrencyPrefix(rest)
}

func currencyBefore(text string, start int) bool {
	lo := max(start-12, 0)
	before := strings.TrimRight(text[lo:start], " \t:-−")
	if strings.HasSuffix(before, "€") {
		return true
	}
	for _, c := range []string{"eur", "euro"} {
		if len(before) < len(c) || !strings.EqualFold(before[len(before)-len(c):], c) {
			continue
		}
		head := before[:len(before)-len(c)]
		r, _ := utf8.DecodeLastRuneInString(head)
		if head == "" || !unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// plausible reports whether v may be written into a client's file.
func plausible(v float64) bool {
	return v > 0 && v <= models.MaxPlausibleAmount
}

// roundCents rounds v to whole cents.
func roundCents(v float64) float64 {
	return math.Round(v*100) / 100
}
