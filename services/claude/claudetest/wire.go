package claudetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Request is a POST /v1/messages body as the fake understood it, handed to
// Options.Answer. Only the fields the fake checks or uses are decoded.
type Request struct {
	Model      string      `json:"model"`
	MaxTokens  int64       `json:"max_tokens"`
	System     []Block     `json:"-"`
	Messages   []Message   `json:"messages"`
	Tools      []Tool      `json:"tools"`
	ToolChoice *ToolChoice `json:"tool_choice"`
	// CacheControl is the top-level (automatic) breakpoint, if any.
	CacheControl *CacheControl `json:"cache_control"`
}

// Block is one content block of the system prompt or of a message.
type Block struct {
	Type         string        `json:"type"`
	Text         string        `json:"text"`
	CacheControl *CacheControl `json:"cache_control"`
	// Source is the file of a document or image block.
	Source *Source `json:"source"`
	raw    json.RawMessage
}

// Source is a document's or an image's content, as sent.
type Source struct {
	Type      string `json:"type"`       // "base64" (others are not checked)
	MediaType string `json:"media_type"` // application/pdf, image/png, …
	Data      string `json:"data"`       // base64
}

// Media is a file a request carried in a document or image block.
type Media struct {
	Block     string // "document" or "image"
	MediaType string
	Data      []byte // decoded
}

// Media returns the files of the user turns' document and image blocks.
func (r Request) Media() []Media {
	var out []Media
	for _, m := range r.Messages {
		for _, b := range m.Content {
			if (b.Type == "document" || b.Type == "image") && b.Source != nil && b.Source.Type == "base64" {
				data, _ := base64.StdEncoding.DecodeString(b.Source.Data)
				out = append(out, Media{Block: b.Type, MediaType: b.Source.MediaType, Data: data})
			}
		}
	}
	return out
}

// imageMaxBase64 is the API's limit on one image's base64 data.
const imageMaxBase64 = 5 << 20

// checkMedia holds document and image blocks to the API's rules: a base64
// document is a PDF, a base64 image is JPEG, PNG, GIF or WebP of at most
// 5 MB of base64, and the data decodes.
func checkMedia(r Request) error {
	for i, m := range r.Messages {
		for j, b := range m.Content {
			if b.Type != "document" && b.Type != "image" {
				continue
			}
			where := fmt.Sprintf("messages.%d.content.%d.source", i, j)
			if b.Source == nil || b.Source.Type == "" {
				return fmt.Errorf("%s: field required", where)
			}
			if b.Source.Type != "base64" {
				continue
			}
			switch {
			case b.Type == "document" && b.Source.MediaType != "application/pdf":
				return fmt.Errorf("%s.media_type: must be application/pdf", where)
			case b.Type == "image" && !slices.Contains([]string{"image/jpeg", "image/png", "image/gif", "image/webp"}, b.Source.MediaType):
				return fmt.Errorf("%s.media_type: must be image/jpeg, image/png, image/gif or image/webp", where)
			case b.Type == "image" && len(b.Source.Data) > imageMaxBase64:
				return fmt.Errorf("%s.base64: image exceeds 5 MB maximum", where)
			}
			if _, err := base64.StdEncoding.DecodeString(b.Source.Data); err != nil {
				return fmt.Errorf("%s.data: invalid base64", where)
			}
		}
	}
	return nil
}

// Message is one turn of the conversation.
type Message struct {
	Role    string  `json:"role"`
	Content []Block `json:"-"`
}

// Tool is a client tool definition.
type Tool struct {
	Name         string          `json:"name"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl *CacheControl   `json:"cache_control"`
	raw          json.RawMessage
}

// ToolChoice is the request's tool_choice.
type ToolChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// CacheControl is a cache breakpoint.
type CacheControl struct {
	Type string `json:"type"`
	TTL  string `json:"ttl"`
}

// UserText returns the text of every user turn, joined by newlines.
func (r Request) UserText() string {
	var parts []string
	for _, m := range r.Messages {
		if m.Role != "user" {
			continue
		}
		for _, b := range m.Content {
			if b.Type == "text" {
				parts = append(parts, b.Text)
			}
		}
	}
	return strings.Join(parts, "\n")
}

// ForcedTool returns the tool the request forces (tool_choice "tool", or
// "any" with its first tool), or "".
func (r Request) ForcedTool() string {
	if r.ToolChoice == nil {
		return ""
	}
	switch r.ToolChoice.Type {
	case "tool":
		return r.ToolChoice.Name
	case "any":
		if len(r.Tools) > 0 {
			return r.Tools[0].Name
		}
	}
	return ""
}

// parseRequest decodes and validates a body the way the API does, returning
// a message for a 400 invalid_request_error when it is not acceptable.
func parseRequest(raw []byte) (Request, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return Request{}, fmt.Errorf("body: not a JSON object")
	}
	// API version 2026-10-21 rejects the sampling parameters on every model
	// (see the package doc of services/claude); the fake holds the client to it.
	for _, k := range []string{"temperature", "top_p", "top_k"} {
		if _, ok := top[k]; ok {
			return Request{}, fmt.Errorf("%s: not supported", k)
		}
	}
	var r Request
	if err := json.Unmarshal(raw, &r); err != nil {
		return Request{}, fmt.Errorf("body: %v", err)
	}
	if r.Model == "" {
		return Request{}, fmt.Errorf("model: field required")
	}
	if _, ok := top["max_tokens"]; !ok || r.MaxTokens < 1 {
		return Request{}, fmt.Errorf("max_tokens: must be at least 1")
	}
	var err error
	if r.System, err = parseSystem(top["system"]); err != nil {
		return Request{}, err
	}
	if err := parseMessages(top["messages"], &r); err != nil {
		return Request{}, err
	}
	if err := parseTools(top["tools"], &r); err != nil {
		return Request{}, err
	}
	if err := checkToolChoice(r); err != nil {
		return Request{}, err
	}
	if err := checkMedia(r); err != nil {
		return Request{}, err
	}
	return r, checkCacheControls(r)
}

func parseSystem(raw json.RawMessage) ([]Block, error) {
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Block{{Type: "text", Text: s, raw: raw}}, nil
	}
	blocks, err := parseBlocks(raw)
	if err != nil {
		return nil, fmt.Errorf("system: %v", err)
	}
	return blocks, nil
}

func parseMessages(raw json.RawMessage, r *Request) error {
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(raw, &msgs); err != nil || len(msgs) == 0 {
		return fmt.Errorf("messages: at least one message is required")
	}
	if msgs[0].Role != "user" {
		return fmt.Errorf("messages: first message must use the user role")
	}
	r.Messages = make([]Message, 0, len(msgs))
	for i, m := range msgs {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Errorf("messages.%d.role: must be user or assistant", i)
		}
		var s string
		var blocks []Block
		if json.Unmarshal(m.Content, &s) == nil {
			blocks = []Block{{Type: "text", Text: s, raw: m.Content}}
		} else {
			var err error
			if blocks, err = parseBlocks(m.Content); err != nil || len(blocks) == 0 {
				return fmt.Errorf("messages.%d.content: must be a string or a list of blocks", i)
			}
		}
		r.Messages = append(r.Messages, Message{Role: m.Role, Content: blocks})
	}
	return nil
}

func parseBlocks(raw json.RawMessage) ([]Block, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("must be a list of blocks")
	}
	blocks := make([]Block, 0, len(items))
	for i, item := range items {
		var b Block
		if err := json.Unmarshal(item, &b); err != nil || b.Type == "" {
			return nil, fmt.Errorf("%d: block needs a type", i)
		}
		b.raw = item
		blocks = append(blocks, b)
	}
	return blocks, nil
}

func parseTools(raw json.RawMessage, r *Request) error {
	if len(raw) == 0 || isNull(raw) {
		r.Tools = nil
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("tools: must be a list")
	}
	r.Tools = make([]Tool, 0, len(items))
	seen := map[string]bool{}
	for i, item := range items {
		var t Tool
		if err := json.Unmarshal(item, &t); err != nil || t.Name == "" {
			return fmt.Errorf("tools.%d.name: field required", i)
		}
		var schema struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(t.InputSchema, &schema) != nil || schema.Type != "object" {
			return fmt.Errorf("tools.%d.input_schema: type must be object", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("tools: tool names must be unique")
		}
		seen[t.Name] = true
		t.raw = item
		r.Tools = append(r.Tools, t)
	}
	return nil
}

func checkToolChoice(r Request) error {
	tc := r.ToolChoice
	if tc == nil {
		return nil
	}
	switch tc.Type {
	case "auto", "none":
		return nil
	case "any":
		if len(r.Tools) == 0 {
			return fmt.Errorf("tool_choice: any requires tools")
		}
		return nil
	case "tool":
		for _, t := range r.Tools {
			if t.Name == tc.Name {
				return nil
			}
		}
		return fmt.Errorf("tool_choice.name: no tool named %q", tc.Name)
	}
	return fmt.Errorf("tool_choice.type: must be auto, any, tool or none")
}

// maxBreakpoints is the number of cache_control markers a request may carry
// (prompt caching docs: "up to 4 cache breakpoints").
const maxBreakpoints = 4

func checkCacheControls(r Request) error {
	n := 0
	check := func(cc *CacheControl) error {
		if cc == nil {
			return nil
		}
		n++
		if cc.Type != "ephemeral" {
			return fmt.Errorf("cache_control.type: must be ephemeral")
		}
		if cc.TTL != "" && cc.TTL != "5m" && cc.TTL != "1h" {
			return fmt.Errorf("cache_control.ttl: must be 5m or 1h")
		}
		return nil
	}
	for _, t := range r.Tools {
		if err := check(t.CacheControl); err != nil {
			return err
		}
	}
	for _, b := range r.System {
		if err := check(b.CacheControl); err != nil {
			return err
		}
	}
	for _, m := range r.Messages {
		for _, b := range m.Content {
			if err := check(b.CacheControl); err != nil {
				return err
			}
		}
	}
	if err := check(r.CacheControl); err != nil {
		return err
	}
	if n > maxBreakpoints {
		return fmt.Errorf("cache_control: at most %d breakpoints", maxBreakpoints)
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
