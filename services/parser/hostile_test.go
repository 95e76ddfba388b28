package parser

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestParseHostileIsFast feeds inputs shaped to trip super-linear code
// paths, each filling the whole input cap, and bounds the time taken. Each
// takes well under 0.2 s without -race; the bound is loose for loaded
// machines and the race detector, a quadratic step would take minutes.
func TestParseHostileIsFast(t *testing.T) {
	t.Parallel()
	fill := func(unit string) string { return strings.Repeat(unit, MaxInputBytes/len(unit)) }
	cases := map[string][2]string{
		"nested divs":            {fill("<div>"), ""},
		"nested quotes":          {fill("<div class=gmail_quote><blockquote>"), ""},
		"unclosed cells":         {fill("<td><p>1,00 €"), ""},
		"nested tables":          {fill("<table><tr><td>x"), ""},
		"outlook cut markers":    {fill("<div id=divRplyFwdMsg>Von: a<br>"), ""},
		"attributes":             {"<div " + fill("class=gmail_quote ") + ">", ""},
		"one long line":          {"", fill("Forderung 1.234,56 € ")},
		"digits":                 {"", fill("1,1.1'1 ")},
		"quote lines":            {"", fill(">\n\n")},
		"header lines":           {"", fill("Von: a\nGesendet: b\n")},
		"attribution lines":      {"", fill("Am 1.1.2025 schrieb a@b.de:\n> x\n")},
		"wrapped attributions":   {"", fill("On 1 Jan\nwrote:\n")},
		"forward markers":        {"", fill("--- Forwarded message ---\nFrom: a\n")},
		"disclaimer lines":       {"", fill("vertraulich\n")},
		"disclaimer paragraphs":  {"", fill("Diese E-Mail enthält vertrauliche Informationen irrtümlich\n")},
		"footer lines":           {"", fill("Geschäftsführer: X\n")},
		"separators":             {"", fill("----------\n")},
		"zendesk markers":        {"", fill("----------\nA, 3. März 2025, 10:15\n")},
		"blank lines":            {"", fill("\r\n")},
		"entities":               {fill("&euro;&nbsp;&#8364;"), ""},
		"comments":               {fill("<!--x-->"), ""},
		"unterminated comment":   {"<!--" + fill("x"), ""},
		"pre newlines":           {"<pre>" + fill("\n"), ""},
		"brs":                    {fill("<br>"), ""},
		"invalid utf-8":          {"", fill("\xff")},
		"windows-1252":           {"", fill("Gr\xfc\xdfe \x80 ")},
		"nul bytes":              {fill("\x00"), fill("\x00")},
		"five megabytes of html": {strings.Repeat("<p>Forderung 1,00 €</p>", 5<<20/23), ""},
	}
	for name, in := range cases {
		start := time.Now()
		r := Parse(in[0], in[1])
		require.Less(t, time.Since(start), 10*time.Second, name)
		require.LessOrEqual(t, len([]rune(r.Text)), MaxCleanRunes, name)
	}
}
