package review

import (
	"math"
	"strconv"
	"strings"
)

// FindAmount reports whether text writes amount a, to the cent, the way
// amounts are written here: 1.234,56 / 1234,56 / 1234.56 / 1,234.56 /
// 1 234,56 / 1'234.56 / 500,- / 500.
func FindAmount(text string, a float64) bool {
	for i := 0; i < len(text); {
		if !isDigit(text[i]) || (i > 0 && isDigit(text[i-1])) {
			i++
			continue
		}
		end := numberEnd(text, i)
		for _, v := range readings(text[i:end]) {
			if math.Abs(v-a) < 0.005 {
				return true
			}
		}
		i = end
	}
	return false
}

// numberEnd returns the end of the number starting at text[i]: digits
// joined by '.', ',', '\” or one space before exactly three digits, and a
// trailing ",-".
func numberEnd(s string, i int) int {
	j := digitsEnd(s, i)
	for j+1 < len(s) {
		c := s[j]
		if (c == '.' || c == ',' || c == '\'') && isDigit(s[j+1]) {
			j = digitsEnd(s, j+1)
			continue
		}
		if c == ' ' && digitsEnd(s, j+1)-(j+1) == 3 {
			j = digitsEnd(s, j+1)
			continue
		}
		break
	}
	return j
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// readings are the values tok may mean: with a decimal comma (German) and
// with a decimal point (English), the other marks grouping thousands.
func readings(tok string) []float64 {
	var out []float64
	for _, decimal := range []string{",", "."} {
		group := "."
		if decimal == "." {
			group = ","
		}
		t := strings.NewReplacer(group, "", "'", "", " ", "").Replace(tok)
		if strings.Count(t, decimal) > 1 {
			continue
		}
		if v, err := strconv.ParseFloat(strings.Replace(t, decimal, ".", 1), 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}
