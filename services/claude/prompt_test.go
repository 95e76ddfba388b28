package claude

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTruncateMiddle(t *testing.T) {
	t.Parallel()
	require.Equal(t, "kurz\ntext", truncateMiddle("kurz\ntext", 100))

	var lines []string
	for i := range 400 {
		lines = append(lines, strings.Repeat(string(rune('a'+i%26)), 20)+"ß")
	}
	long := strings.Join(lines, "\n")
	for _, limit := range []int{100, 500, 1000, 3000} {
		got := truncateMiddle(long, limit)
		require.LessOrEqual(t, utf8.RuneCountInString(got), limit, limit)
		require.True(t, strings.HasPrefix(got, lines[0]), limit)
		require.True(t, strings.HasSuffix(got, lines[len(lines)-1]), limit)
		before, after, found := strings.Cut(got, "\n[… ")
		require.True(t, found, limit)
		require.True(t, strings.HasSuffix(before, "ß"), "head ends at a whole line")
		_, tail, _ := strings.Cut(after, " Zeichen ausgelassen …]\n")
		require.Contains(t, lines, strings.SplitN(tail, "\n", 2)[0], "tail starts at a whole line")
	}

	// No line breaks at all: a hard cut, still bounded and marked.
	got := truncateMiddle(strings.Repeat("x", 5000), 300)
	require.LessOrEqual(t, utf8.RuneCountInString(got), 300)
	require.Contains(t, got, "Zeichen ausgelassen")

	// A limit too small for the marker still bounds the text.
	require.Equal(t, "xxxxx", truncateMiddle(strings.Repeat("x", 5000), 5))
}

func TestCleanBlockAndSingleLine(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a\nb\n\tc", cleanBlock("a\r\nb\r\tc\x00\u202e\x1b"))
	require.Equal(t, "a b c", singleLine(" a\r\n b\t\tc\u200b\x07 "))
	require.Equal(t, "\uFFFDok", singleLine("\xffok"))
	require.Equal(t, "äöü", capRunes("äöüß", 3))
	require.Equal(t, "ab", capRunes("ab", 3))
}

func TestNeutralizeTags(t *testing.T) {
	t.Parallel()
	require.Equal(t, "‹/email> ‹ / TEXT> ‹betreff>", neutralizeTags("</email> < / TEXT> <betreff>"))
	require.Equal(t, "<b>fett</b> <textbaustein> a < b <emails", neutralizeTags("<b>fett</b> <textbaustein> a < b <emails"))
	// Case folding may shrink a rune (Kelvin sign → "k"); only the tag and
	// the rune after it decide.
	require.Equal(t, "‹\u212aopfzeilen> <text\u212a ‹TEXT", neutralizeTags("<\u212aopfzeilen> <text\u212a <TEXT"))
	many := strings.Repeat("< ", 50000) + "</email>"
	require.Equal(t, strings.Repeat("< ", 50000)+"‹/email>", neutralizeTags(many))
}

func TestHeaderLinesOnlySignalHeaders(t *testing.T) {
	t.Parallel()
	got := headerLines(map[string]string{
		"Precedence":     "bulk",
		"Auto-Submitted": "auto-replied\r\nX-Injected: 1",
		"Received":       "from somewhere",
	})
	require.Equal(t, "Auto-Submitted: auto-replied X-Injected: 1\nPrecedence: bulk\n", got)
	require.Empty(t, headerLines(nil))
}
