// Package parser turns a creditor's email body (HTML and/or plain text) into
// short, readable plain text for the extractor: markup, quoted history,
// forwarded headers, Zendesk separators and legal boilerplate are removed,
// while the reply, the signature (it names the creditor) and any money
// amount are kept.
//
// Everything here is pure, allocation-conscious string work that runs in
// time linear in the (capped) input, so hostile bodies cannot stall a worker.
package parser

import "unicode/utf8"

// MaxInputBytes is how much of each raw body (HTML or text) is processed;
// the rest is ignored. Real replies are far smaller; the cap bounds work
// and memory for hostile 5 MB bodies.
const MaxInputBytes = 1 << 20

// MaxCleanRunes bounds the length of Result.Text (about 5,000 LLM tokens).
const MaxCleanRunes = 20000

// Result is a cleaned email body.
type Result struct {
	Text         string // cleaned, readable plain text, normalised whitespace, at most MaxCleanRunes runes
	TokensBefore int    // estimated LLM tokens of the raw input (html text or plain)
	TokensAfter  int    // estimated tokens of Text
}

// Parse cleans an email given its HTML and/or plain-text body (either may be
// empty; prefer HTML when it has text, else plain).
func Parse(html, text string) Result {
	lines, raw := bodyLines(html, text)
	c := cleaner{lines: lines}
	c.markHistory()
	c.markBoilerplate()
	out := c.render(MaxCleanRunes)
	return Result{
		Text:         out,
		TokensBefore: EstimateTokens(raw),
		TokensAfter:  EstimateTokens(out),
	}
}

// EstimateTokens estimates LLM tokens for s (about 4 chars per token,
// rounded up; 0 for empty).
func EstimateTokens(s string) int {
	return (utf8.RuneCountInString(s) + 3) / 4
}

// bodyLines picks the body to clean and returns it as normalised lines,
// together with the raw input the token estimate is based on.
func bodyLines(html, text string) ([]line, string) {
	if hasNonSpace(html) {
		h := sanitize(html)
		var lines []line
		if looksLikeHTML(h) {
			lines = htmlLines(h)
		} else {
			lines = textLines(h)
		}
		if linesHaveText(lines) {
			return lines, html
		}
	}
	raw := text
	if raw == "" {
		raw = html
	}
	return textLines(sanitize(text)), raw
}
