package read

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// builtinFormats are Excel's implied number formats (ECMA-376 §18.8.30),
// with the currency and date ones as a German Excel shows them: a file
// stores only the id, and the reader's locale decides.
var builtinFormats = map[int]string{
	0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00",
	5: `#,##0 "€";-#,##0 "€"`, 6: `#,##0 "€";[Red]-#,##0 "€"`,
	7: `#,##0.00 "€";-#,##0.00 "€"`, 8: `#,##0.00 "€";[Red]-#,##0.00 "€"`,
	9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "General", 13: "General",
	14: "dd.mm.yyyy", 15: "dd. mmm yy", 16: "dd. mmm", 17: "mmm yy",
	18: "hh:mm", 19: "hh:mm:ss", 20: "hh:mm", 21: "hh:mm:ss", 22: "dd.mm.yyyy hh:mm",
	37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)", 39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)",
	41: `_-* #,##0_-;-* #,##0_-;_-* "-"_-;_-@_-`, 42: `_-* #,##0 "€"_-;-* #,##0 "€"_-;_-* "-" "€"_-;_-@_-`,
	43: `_-* #,##0.00_-;-* #,##0.00_-;_-* "-"??_-;_-@_-`, 44: `_-* #,##0.00 "€"_-;-* #,##0.00 "€"_-;_-* "-"?? "€"_-;_-@_-`,
	45: "mm:ss", 46: "[h]:mm:ss", 47: "mm:ss", 48: "##0.0E+0", 49: "@",
}

// numFormat is the part of one format section that decides the display.
// It covers what statements use (fixed decimals, thousands groups,
// currency text, percent, scientific, dates and times); fractions,
// conditions, colours and digit-grouping literals are read as plain
// numbers, and a date shows as dd.mm.yyyy whatever its pattern.
type numFormat struct {
	prefix, suffix   string
	digits           bool // has digit placeholders
	intZeros         int  // '0's before the decimal point: minimum integer digits
	decZeros, decMax int  // '0's, and all placeholders, after the point
	group            bool // thousands separators
	percent          int
	sci              bool
	general          bool
	date, time, secs bool
}

// formatNumber renders v with an Excel format code, with German
// separators ("1.212,40"), as Excel shows it to the creditor who made it.
func formatNumber(v float64, code string, date1904 bool) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	if code == "" {
		code = "General"
	}
	sec, neg := pickSection(splitSections(code), v)
	return strings.TrimSpace(render(v, sec, neg, date1904))
}

// render formats v with one section; neg adds the minus sign it lacks.
func render(v float64, sec string, neg, date1904 bool) string {
	f := parseSection(sec)
	switch {
	case f.date || f.time:
		return formatDateTime(v, f, date1904)
	case f.general || (!f.digits && f.prefix+f.suffix == "" && sec != ""):
		return signed(generalNumber(math.Abs(v)), neg)
	case !f.digits:
		return signed(f.prefix+f.suffix, neg)
	}
	x := math.Abs(v) * math.Pow(100, float64(f.percent))
	return signed(f.prefix+f.digitsOf(x)+f.suffix, neg)
}

func signed(s string, neg bool) string {
	if neg && s != "" {
		return "-" + s
	}
	return s
}

// splitSections splits a code at ';' outside quotes, brackets and escapes.
func splitSections(code string) []string {
	var out []string
	start, quoted, bracket := 0, false, false
	for i := 0; i < len(code); i++ {
		switch c := code[i]; {
		case c == '\\' && !quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '[' && !quoted:
			bracket = true
		case c == ']' && !quoted:
			bracket = false
		case c == ';' && !quoted && !bracket:
			out = append(out, code[start:i])
			start = i + 1
		}
	}
	return append(out, code[start:])
}

// pickSection chooses positive;negative;zero. A negative number shown with
// the first section gets a minus sign; with its own section it has none
// (the section writes it, or brackets).
func pickSection(secs []string, v float64) (string, bool) {
	switch {
	case v < 0 && len(secs) >= 2:
		return secs[1], false
	case v < 0:
		return secs[0], true
	case v == 0 && len(secs) >= 3:
		return secs[2], false
	}
	return secs[0], false
}

// parseSection reads one section's tokens.
func parseSection(sec string) numFormat {
	var f numFormat
	var lit strings.Builder
	flush := func() {
		if f.digits {
			f.suffix += lit.String()
		} else {
			f.prefix += lit.String()
		}
		lit.Reset()
	}
	rs := []rune(sec)
	seenDot, exp := false, false
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case c == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				j++
			}
			lit.WriteString(string(rs[i+1 : min(j, len(rs))]))
			i = j
		case c == '\\' && next != 0:
			lit.WriteRune(next)
			i++
		case c == '_' && next != 0:
			lit.WriteByte(' ')
			i++
		case c == '*' && next != 0:
			i++ // fill character: no width here
		case c == '[':
			j := i + 1
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			f.bracket(string(rs[i+1:min(j, len(rs))]), &lit)
			i = j
		case strings.EqualFold(string(rs[i:min(i+7, len(rs))]), "General"):
			f.general = true
			i += 6
		case strings.ContainsRune("0#?", c) && !exp:
			if !f.digits {
				flush()
			}
			f.digits = true
			f.placeholder(c, seenDot)
		case c == '.' && (f.digits || strings.ContainsRune("0#?", next)) && !seenDot && !exp:
			flush()
			f.digits, seenDot = true, true
		case c == ',' && f.digits && !seenDot && strings.ContainsRune("0#?", next):
			f.group = true
		case c == ',' && f.digits:
			// a trailing comma scales by 1000: rare in statements, shown unscaled
		case (c == 'E' || c == 'e') && (next == '+' || next == '-') && f.digits:
			f.sci, exp = true, true
			i++
		case exp && strings.ContainsRune("0#?", c):
			// exponent digits
		case c == '%':
			f.percent++
			lit.WriteByte('%')
		case strings.HasPrefix(strings.ToUpper(string(rs[i:])), "AM/PM"):
			f.time = true
			i += 4
		case strings.ContainsRune("yYdDmM", c):
			f.date = true
		case strings.ContainsRune("hHsS", c):
			f.time = true
			f.secs = f.secs || c == 's' || c == 'S'
		case c == '@':
			f.general = !f.digits
		default:
			lit.WriteRune(c)
		}
	}
	flush()
	if f.date && f.time && !strings.ContainsAny(sec, "yYdD") {
		f.date = false // "hh:mm": its 'm' is minutes
	}
	return f
}

// placeholder counts a digit placeholder before or after the point.
func (f *numFormat) placeholder(c rune, afterDot bool) {
	switch {
	case afterDot:
		f.decMax++
		if c == '0' {
			f.decZeros++
		}
	case c == '0':
		f.intZeros++
	}
}

// bracket reads "[…]": a currency "[$€-407]" is text, "[h]" elapsed time;
// colours, conditions and locales show nothing.
func (f *numFormat) bracket(in string, lit *strings.Builder) {
	switch {
	case strings.HasPrefix(in, "$"):
		cur, _, _ := strings.Cut(in[1:], "-")
		lit.WriteString(cur)
	case in != "" && strings.Trim(strings.ToLower(in), "hms") == "":
		f.time = true
		f.secs = f.secs || strings.ContainsAny(in, "sS")
	}
}

// digitsOf renders x ≥ 0 with the section's digits and German separators.
func (f *numFormat) digitsOf(x float64) string {
	if f.sci {
		s := strconv.FormatFloat(x, 'E', f.decMax, 64)
		return strings.Replace(s, ".", ",", 1)
	}
	s := strconv.FormatFloat(x, 'f', f.decMax, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	for len(frac) > f.decZeros && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1] // '#' and '?' decimals show no trailing zeros
	}
	if intPart == "0" && f.intZeros == 0 {
		intPart = ""
	}
	if pad := f.intZeros - len(intPart); pad > 0 {
		intPart = strings.Repeat("0", pad) + intPart
	}
	if f.group {
		intPart = groupThousands(intPart)
	}
	if frac != "" {
		return intPart + "," + frac
	}
	return intPart
}

// groupThousands puts a '.' between groups of three digits.
func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// generalNumber is Excel's General: up to ten significant digits, no
// trailing zeros, a decimal comma.
func generalNumber(x float64) string {
	if x == math.Trunc(x) && x < 1e15 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	s := strconv.FormatFloat(x, 'g', 10, 64)
	s = strings.Replace(strings.ToUpper(s), ".", ",", 1)
	return strings.TrimFunc(s, unicode.IsSpace)
}

// Serial day numbers Excel can show as a date: 1 January 1900 to 31
// December 9999.
const maxSerial = 2958465

// formatDateTime renders a serial date as a German Excel does by default.
func formatDateTime(v float64, f numFormat, date1904 bool) string {
	if v < 0 || v > maxSerial {
		return generalNumber(math.Abs(v))
	}
	t := serialTime(v, date1904)
	layout := ""
	if f.date {
		layout = "02.01.2006"
	}
	if f.time {
		clock := "15:04"
		if f.secs {
			clock += ":05"
		}
		layout = strings.TrimSpace(layout + " " + clock)
	}
	return t.Format(layout)
}

// serialTime converts an Excel serial to a time. The 1900 system counts a
// 29 February 1900 that never was (Lotus's bug), so serials before 61 are
// one day later than the arithmetic gives.
func serialTime(v float64, date1904 bool) time.Time {
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	switch {
	case date1904:
		base = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case v < 61:
		base = base.AddDate(0, 0, 1)
	}
	days := math.Floor(v)
	secs := math.Round((v - days) * 86400)
	return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
}
