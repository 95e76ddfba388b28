package parser

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxParseTime is far above what any input within the caps needs; hitting
// it means some step has gone super-linear.
const maxParseTime = 2 * time.Second

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add(tc.html, tc.text)
	}
	f.Add(benchmarkMail(), "")
	f.Add("<div class=gmail_quote><blockquote><div id=divRplyFwdMsg>", "> a\n>\n")
	f.Add("<table><tr><td><table><tr><td>x</td><td>1,00 €</td></tr></table></td><td>y</td></tr></table>", "")
	f.Add("<pre>a\n\n\nb</pre><script>", "Am 1 schrieb\nx:")
	f.Add("\xff\xfe<\x00p>\x80", "\xc3\x28 \x00")
	f.Fuzz(func(t *testing.T, html, text string) {
		start := time.Now()
		r := Parse(html, text)
		if d := time.Since(start); d > maxParseTime {
			t.Fatalf("Parse took %v", d)
		}
		if !utf8.ValidString(r.Text) {
			t.Fatalf("invalid UTF-8 output %q", r.Text)
		}
		if strings.IndexByte(r.Text, 0) >= 0 {
			t.Fatalf("NUL in output %q", r.Text)
		}
		if n := utf8.RuneCountInString(r.Text); n > MaxCleanRunes {
			t.Fatalf("output has %d runes", n)
		}
		if r.Text != strings.TrimSpace(r.Text) || strings.Contains(r.Text, "\n\n\n") {
			t.Fatalf("untidy white space in %q", r.Text)
		}
		if r.TokensAfter != EstimateTokens(r.Text) || r.TokensBefore < 0 {
			t.Fatalf("bad token counts %d/%d", r.TokensBefore, r.TokensAfter)
		}
		if lines, _ := bodyLines(html, text); linesHaveAmount(lines) && !hasAmount(r.Text) && len(html)+len(text) < MaxCleanRunes {
			t.Fatalf("the amount was cut: %q", r.Text)
		}
	})
}

// linesHaveAmount reports whether any line mentions a money amount.
func linesHaveAmount(lines []line) bool {
	for i := range lines {
		if hasAmount(lines[i].text) {
			return true
		}
	}
	return false
}
