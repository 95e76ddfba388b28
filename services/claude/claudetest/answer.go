package claudetest

import (
	"regexp"
	"strconv"
	"strings"
)

// Answer is what the fake model says to one request.
type Answer struct {
	// ToolInput is the input of a tool_use block for the request's forced
	// tool (tool_choice "tool" or "any"); a request without one gets a text
	// block instead. Ignored when Content is set.
	ToolInput any
	// Content, when not nil, is sent as the response's content blocks as is.
	Content []any
	// StopReason defaults to "tool_use" for a tool call and "end_turn" otherwise.
	StopReason string
	// OutputTokens defaults to an estimate from the content. An answer longer
	// than max_tokens is cut: stop_reason max_tokens, output = max_tokens.
	OutputTokens int64
}

// ExtractionAnswer answers like a model filling the extractor's
// record_creditor_reply tool: it reads the first amount written with "€" or
// "EUR" (German notation), the sender's name, an Aktenzeichen after "Az." or
// "Zeichen", and reference numbers such as "KD-4711". An email whose headers
// say it was sent automatically is not a creditor reply.
func ExtractionAnswer(r Request) Answer {
	text := r.UserText()
	amount := firstAmount(text)
	auto := strings.Contains(strings.ToLower(text), "auto-submitted: auto-")
	aktenzeichen := ""
	if m := aktenzeichenPattern.FindStringSubmatch(text); m != nil {
		aktenzeichen = m[1]
	}
	refs := []any{}
	for _, ref := range referencePattern.FindAllString(text, 20) {
		if ref != aktenzeichen && !containsString(refs, ref) {
			refs = append(refs, ref)
		}
	}
	creditor := ""
	if m := senderPattern.FindStringSubmatch(text); m != nil {
		creditor = strings.TrimSpace(m[1])
	}
	sources := map[string]any{"debt_amount": "", "client_name": "", "creditor_name": "", "client_aktenzeichen": "", "reference_numbers": ""}
	evidence := ""
	if amount != nil && !auto {
		at := amountPattern.FindStringIndex(text)
		sources["debt_amount"] = sourceAt(text, at[0])
		evidence = lineAt(text, at[0])
	}
	if aktenzeichen != "" {
		sources["client_aktenzeichen"] = sourceAt(text, strings.Index(text, aktenzeichen))
	}
	if len(refs) > 0 {
		sources["reference_numbers"] = sourceAt(text, strings.Index(text, refs[0].(string)))
	}
	if creditor != "" {
		sources["creditor_name"] = "sender"
	}
	input := map[string]any{
		"sources":             sources,
		"amount_evidence":     evidence,
		"labelled_totals":     []any{},
		"is_creditor_reply":   amount != nil && !auto,
		"client_name":         "",
		"creditor_name":       creditor,
		"debt_amount":         nil,
		"reference_numbers":   refs,
		"client_aktenzeichen": aktenzeichen,
		"confidence":          0.4,
		"summary":             "Die E-Mail nennt keine Gesamtforderung.",
	}
	if amount != nil && !auto {
		input["debt_amount"] = *amount
		input["amount_evidence"] = evidence
		input["confidence"] = 0.9
		input["summary"] = "Der Gläubiger beziffert die offene Gesamtforderung."
	}
	return Answer{ToolInput: input}
}

var (
	amountPattern       = regexp.MustCompile(`(?:€|EUR)\s*(\d{1,3}(?:\.\d{3})*(?:,\d{1,2})?|\d+(?:,\d{1,2})?)|(\d{1,3}(?:\.\d{3})*(?:,\d{1,2})?|\d+(?:,\d{1,2})?)\s*(?:€|EUR)`)
	aktenzeichenPattern = regexp.MustCompile(`(?:Az\.|Aktenzeichen|Zeichen)[:\s]*([A-Z]{1,4}-\d{4}-\d{1,6})`)
	referencePattern    = regexp.MustCompile(`\b[A-Z]{2,4}-\d[\d-]*\d\b`)
	senderPattern       = regexp.MustCompile(`<absender>([^<]*)`)
)

// firstAmount parses the first euro amount of text, German notation.
func firstAmount(text string) *float64 {
	m := amountPattern.FindStringSubmatch(text)
	if m == nil {
		return nil
	}
	s := m[1]
	if s == "" {
		s = m[2]
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return nil
	}
	return &v
}

func containsString(items []any, s string) bool {
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}

// sourceAt names the part of the extractor's user message that holds
// position i: "subject" in <betreff>, "attachment:N" in an
// <anhang quelle="attachment:N"> section, else "body".
func sourceAt(text string, i int) string {
	if i < 0 {
		return ""
	}
	before := text[:i]
	if b := strings.LastIndex(before, "<betreff>"); b >= 0 && !strings.Contains(before[b:], "</betreff>") {
		return "subject"
	}
	if a := strings.LastIndex(before, `<anhang quelle="`); a >= 0 && !strings.Contains(before[a:], "</anhang>") {
		rest := before[a+len(`<anhang quelle="`):]
		if end := strings.IndexByte(rest, '"'); end > 0 {
			return rest[:end]
		}
	}
	return "body"
}

// lineAt returns the line of text around position i, trimmed.
func lineAt(text string, i int) string {
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		end = len(text) - i
	}
	return strings.TrimSpace(text[start : i+end])
}

// Transcribing answers a request carrying a document or image block (a
// transcription) with a text block of what read says the first file holds,
// and any other request with next (ExtractionAnswer when nil).
func Transcribing(read func(Media) string, next func(Request) Answer) func(Request) Answer {
	if next == nil {
		next = ExtractionAnswer
	}
	return func(r Request) Answer {
		media := r.Media()
		if len(media) == 0 {
			return next(r)
		}
		return Answer{Content: []any{map[string]any{"type": "text", "text": read(media[0])}}}
	}
}
