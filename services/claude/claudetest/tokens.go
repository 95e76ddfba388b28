package claudetest

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"regexp"
	"strings"
)

// The fake counts tokens approximately, from the request's bytes. The ratios
// come from counting the extractor's own German system prompt and tool schema
// with Anthropic's published (pre-Claude-3) tokenizer: about 3.1 bytes per
// token for German prose and 3.4 for the JSON of a tool definition. They are
// deliberately not the client's estimator (services/claude rounds the other
// way and learns a correction from usage), so tests see estimation error.
const (
	textBytesPerToken = 3.1
	toolBytesPerToken = 3.4
	// perMessageTokens is the framing of one turn.
	perMessageTokens = 4
)

// toolPromptTokens is the system prompt the API adds when tools are present,
// as the tool use docs list it for current models: 346 tokens with
// tool_choice auto or none, 313 with any or tool. It is counted as input but
// never as part of a cacheable prefix, which keeps the fake's cache hits on
// the conservative side.
func toolPromptTokens(r Request) int64 {
	if len(r.Tools) == 0 {
		return 0
	}
	if r.ToolChoice != nil && (r.ToolChoice.Type == "any" || r.ToolChoice.Type == "tool") {
		return 313
	}
	return 346
}

func textTokens(s string) int64 {
	if s == "" {
		return 0
	}
	return int64(math.Ceil(float64(len(s)) / textBytesPerToken))
}

// segment is one piece of the prompt in the order the API renders it (tools,
// then system, then messages), the unit a cache breakpoint can end on.
type segment struct {
	tokens int64
	raw    []byte
	cc     *CacheControl
}

// segments renders r into its prompt pieces.
func segments(r Request) []segment {
	var out []segment
	for _, t := range r.Tools {
		out = append(out, segment{
			tokens: int64(math.Ceil(float64(len(t.raw)) / toolBytesPerToken)),
			raw:    t.raw, cc: t.CacheControl,
		})
	}
	for _, b := range r.System {
		out = append(out, segment{tokens: blockTokens(b), raw: b.raw, cc: b.CacheControl})
	}
	for _, m := range r.Messages {
		for i, b := range m.Content {
			tokens := blockTokens(b)
			if i == 0 {
				tokens += perMessageTokens
			}
			out = append(out, segment{tokens: tokens, raw: append([]byte(m.Role+":"), b.raw...), cc: b.CacheControl})
		}
	}
	return out
}

// blockTokens counts a text block by its text and anything else by its JSON.
func blockTokens(b Block) int64 {
	switch {
	case b.Type == "text":
		return textTokens(b.Text)
	case b.Type == "image" && b.Source != nil:
		return imageTokens
	case b.Type == "document" && b.Source != nil && b.Source.MediaType == "application/pdf":
		data, _ := base64.StdEncoding.DecodeString(b.Source.Data)
		return pageTokens * int64(max(1, len(pdfPagePattern.FindAll(data, -1))))
	}
	return textTokens(string(b.raw))
}

// A file's tokens as the vision docs put them: an image about
// width×height/750, at most about 1,600 once scaled to 1568 pixels; a PDF
// page its text plus an image of the page, 1,500 to 3,000.
const (
	imageTokens = 1600
	pageTokens  = 3000
)

// pdfPagePattern counts a PDF's page objects (not the /Pages tree).
var pdfPagePattern = regexp.MustCompile(`/Type\s*/Page[^s]`)

// outputTokens estimates what generating the given content blocks costs.
func outputTokens(content []any) int64 {
	raw, err := json.Marshal(content)
	if err != nil {
		return 1
	}
	// The tool_use framing (id, name) is the API's, not generated text.
	s := strings.TrimSpace(string(raw))
	return max(1, textTokens(s)-10)
}
