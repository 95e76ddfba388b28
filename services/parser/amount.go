package parser

import "strings"

// hasAmount reports whether s mentions a money amount: a number next to a
// currency ("1.234,56 €", "EUR 500,00", "500,- Euro", "$ 1,200.00"), or a
// number written the way only money is written here ("1.234,56", "500,-").
// It scans s once.
func hasAmount(s string) bool {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		end := scanNumber(s, i)
		if isAmount(s, i, end) {
			return true
		}
		i = end
	}
	return false
}

// scanNumber returns the end of the number starting at s[i]: digit groups
// joined by '.', ',', '\” or a single space before exactly three digits,
// and an optional ",-" for whole amounts.
func scanNumber(s string, i int) int {
	j := digitsEnd(s, i)
	for j+1 < len(s) {
		switch c := s[j]; {
		case (c == '.' || c == ',' || c == '\'') && isDigit(s[j+1]):
			j = digitsEnd(s, j+1)
			continue
		case c == ' ' && digitsEnd(s, j+1)-(j+1) == 3:
			j = digitsEnd(s, j+1)
			continue
		case c == ',' && s[j+1] == '-':
			j += 2
			for j < len(s) && s[j] == '-' {
				j++
			}
		}
		break
	}
	return j
}

// digitsEnd returns the index after the run of digits starting at i.
func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// isAmount decides whether the number s[start:end] is money.
func isAmount(s string, start, end int) bool {
	tok := s[start:end]
	if currencyAfter(s, end) || currencyBefore(s, start) {
		return true
	}
	if strings.HasSuffix(tok, ",-") || strings.HasSuffix(tok, ",--") {
		return true
	}
	after := skipSpaces(s, end, 1)
	if after < len(s) && (s[after] == '%' || isDigit(s[after])) {
		return false
	}
	n := len(tok)
	// German decimals "1.234,56" / "89,90" or English "1,234.56".
	if n >= 4 && tok[n-3] == ',' && isDigit(tok[n-2]) && isDigit(tok[n-1]) {
		return true
	}
	return n >= 8 && tok[n-3] == '.' && strings.Contains(tok, ",") && isDigit(tok[n-1])
}

// currencyAfter reports a currency sign or code right after position i.
func currencyAfter(s string, i int) bool {
	i = skipSpaces(s, i, 2)
	rest := s[i:]
	for _, sign := range []string{"€", "£", "$"} {
		if strings.HasPrefix(rest, sign) {
			return true
		}
	}
	for _, code := range []string{"euro", "eur", "usd", "chf", "gbp"} {
		if hasPrefixFold(rest, code) {
			return len(rest) == len(code) || !isLetterAt(rest, len(code)) || hasPrefixFold(rest[len(code):], "s")
		}
	}
	return false
}

// currencyBefore reports a currency sign or code right before position i
// ("€ 500", "EUR 1.200,00", "EUR -500").
func currencyBefore(s string, i int) bool {
	if i > 0 && s[i-1] == '-' {
		i--
	}
	for n := 0; n < 2 && i > 0 && s[i-1] == ' '; n++ {
		i--
	}
	head := s[:i]
	for _, sign := range []string{"€", "£", "$"} {
		if strings.HasSuffix(head, sign) {
			return true
		}
	}
	for _, code := range []string{"euro", "eur", "usd", "chf", "gbp"} {
		if len(head) >= len(code) && strings.EqualFold(head[len(head)-len(code):], code) {
			k := len(head) - len(code)
			return k == 0 || !isLetterBefore(head, k)
		}
	}
	return false
}

// skipSpaces skips up to max spaces starting at i.
func skipSpaces(s string, i, max int) int {
	for n := 0; n < max && i < len(s) && s[i] == ' '; n++ {
		i++
	}
	return i
}
