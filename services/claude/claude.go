// Package claude is the Claude extractor: it asks Claude's Messages API, through
// the official Anthropic Go SDK, to read one cleaned creditor email and fill in a
// forced tool call whose input schema is models.ExtractedData, then validates
// that answer before anyone may use it.
//
// Decisions, each also explained where it is implemented:
//
//   - One retry layer. The SDK retries 429, 5xx, 408, 409 and connection errors
//     itself (twice by default, sleeping for whatever retry-after says). The
//     client is built with option.WithMaxRetries(0), so every Extract makes
//     exactly one HTTP request and the job-level retry (exponential backoff in
//     Redis, visible to staff as status retrying, honouring retry-after) is the
//     only retry layer. Hidden SDK retries would hold a worker slot and the
//     email's lease for minutes while nothing shows why, and would multiply the
//     job's retry budget by three.
//   - Classification. Errors come back wrapped in models.Transient (429, 529,
//     5xx, 408, 409, timeouts, connection errors, malformed model output, with
//     RetryAfter from retry-after-ms / retry-after, seconds or HTTP date, capped
//     at 10 minutes) or models.Permanent (400, 401, 403, 404 and other 4xx).
//   - Malformed output is transient. A response without our tool_use block, one
//     cut off at max_tokens, a refusal, wrong types, missing keys or an
//     implausible amount is an extraction error, never "not a creditor reply".
//     It is transient because the model may answer correctly next time; the
//     job's bounded retry budget turns a persistent failure into status failed
//     (and an alert) instead of silently dropping the email.
//   - No temperature. The issue asked for temperature 0, but SDK v2 speaks API
//     version 2026-10-21, which rejects temperature, top_p and top_k with a 400
//     on every model, even at their default values. Determinism comes from the
//     forced tool call, the strict schema and local validation instead.
//   - Model. The default is claude-sonnet-5, a current model that accepts a
//     forced tool_choice. Claude Sonnet 5.5 rejects forced tool use with a 400,
//     so ANTHROPIC_MODEL must name a model that accepts it.
//   - Untrusted text. The email is sent as delimited data that the system prompt
//     says never to obey; every string the model returns is trimmed, stripped of
//     control and format characters and capped in length.
//   - Nothing from the email or the answer is logged here, and the SDK's
//     OpenTelemetry spans are pinned to metadata only; errors carry status
//     codes, API error types and request ids, never bodies or extracted fields.
package claude

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Defaults applied by New for zero Config fields.
const (
	defaultModel         = anthropic.ModelClaudeSonnet5
	defaultTimeout       = 60 * time.Second
	defaultMaxInputRunes = 12000
)

// maxOutputTokens bounds the answer: the tool input is a few hundred tokens, the
// rest is headroom for models that think before they answer.
const maxOutputTokens = 4096

// Config configures the extractor.
type Config struct {
	APIKey  string
	Model   string        // e.g. "claude-sonnet-5" (the default when empty)
	BaseURL string        // empty = SDK default (https://api.anthropic.com/)
	Timeout time.Duration // per request, 60s when zero
	// MaxInputRunes bounds the email body sent to the model (12000
	// when zero); longer bodies keep their head and tail and are cut in the
	// middle at a line boundary, with a marker saying how much was left out.
	MaxInputRunes int
	HTTPClient    *http.Client // optional (tests)
}

// Extractor calls Claude's Messages API with a forced tool call and validates the answer.
type Extractor struct {
	client        anthropic.Client
	model         string
	maxInputRunes int
}

// New returns an Extractor for cfg. The SDK is told not to read credentials,
// base URL or headers from the environment (config/ owns ANTHROPIC_*), not to
// retry (see the package doc), and to give up on a request after cfg.Timeout.
func New(cfg Config) (*Extractor, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("claude: api key is required")
	}
	if cfg.Timeout < 0 || cfg.MaxInputRunes < 0 {
		return nil, errors.New("claude: timeout and max input runes must not be negative")
	}
	if cfg.Model == "" {
		cfg.Model = defaultModel
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.MaxInputRunes == 0 {
		cfg.MaxInputRunes = defaultMaxInputRunes
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(cfg.Timeout),
		// Pinned so ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content cannot put
		// email bodies and extracted fields into trace spans.
		option.WithOpenTelemetryTracesContentMode(option.OpenTelemetryContentModeMetadataOnly),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	return &Extractor{
		client:        anthropic.NewClient(opts...),
		model:         cfg.Model,
		maxInputRunes: cfg.MaxInputRunes,
	}, nil
}

// Extract returns models.ExtractedData with Extractor = models.ExtractorClaude.
// Every error is a *models.TransientError or a *models.PermanentError.
func (e *Extractor) Extract(ctx context.Context, in models.EmailInput) (models.ExtractedData, error) {
	msg, err := e.client.Messages.New(ctx, e.params(in))
	if err != nil {
		return models.ExtractedData{}, classify(ctx, err)
	}
	input, err := toolInput(msg)
	if err != nil {
		return models.ExtractedData{}, models.Transient(fmt.Errorf("claude: %w", err), 0)
	}
	data, err := decodeAnswer(input)
	if err != nil {
		return models.ExtractedData{}, models.Transient(fmt.Errorf("claude: %w", err), 0)
	}
	return data, nil
}

// params builds the request: system prompt, the email as delimited data, and one
// strict tool the model must call.
func (e *Extractor) params(in models.EmailInput) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     e.model,
		MaxTokens: maxOutputTokens,
		System:    []anthropic.TextBlockParam{{Text: systemPrompt}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock(userMessage(in, e.maxInputRunes))),
		},
		Tools: []anthropic.ToolUnionParam{{OfTool: extractionTool()}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{
			Name:                   toolName,
			DisableParallelToolUse: anthropic.Bool(true),
		}},
	}
}

// toolInput returns the raw input of our tool call, or why there is none.
func toolInput(msg *anthropic.Message) ([]byte, error) {
	switch msg.StopReason {
	case anthropic.StopReasonMaxTokens, anthropic.StopReasonRefusal,
		anthropic.StopReasonModelContextWindowExceeded, anthropic.StopReasonPauseTurn:
		return nil, fmt.Errorf("%w: stop reason %q", errMalformed, msg.StopReason)
	}
	for _, block := range msg.Content {
		if block.Type == "tool_use" && block.Name == toolName {
			return block.Input, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s tool call in the response", errMalformed, toolName)
}
