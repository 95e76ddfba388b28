// Package claude is the Claude extractor: it asks Claude's Messages API, through
// the official Anthropic Go SDK, to read one cleaned creditor email and fill in a
// forced tool call whose input schema is models.ExtractedData, then validates
// that answer before anyone may use it.
//
// Decisions, each also explained where it is implemented:
//
//   - One retry layer for failures, and waiting is not failing. The SDK retries
//     429, 5xx, 408, 409 and connection errors itself (twice by default,
//     sleeping for whatever retry-after says). The client is built with
//     option.WithMaxRetries(0), so every HTTP request is one the Limiter let
//     go, and failures (5xx, timeouts, malformed answers) go to the job-level
//     retry (exponential backoff in Redis, visible to staff as status
//     retrying, honouring retry-after). A 429 (rate limit) or 529 (overloaded)
//     is not a failure of the email: Extract waits it out through the
//     process-wide Limiter (which pauses every call until retry-after) and
//     sends again, bounded only by its context; if the context ends first it
//     returns a models.RateLimited error, which the pool requeues without
//     counting an attempt. See limiter.go for how calls are paced.
//   - Classification. Other errors come back wrapped in models.Transient (5xx,
//     408, 409, timeouts, connection errors, malformed model output, with
//     RetryAfter from retry-after-ms / retry-after, seconds or HTTP date, capped
//     at 10 minutes) or models.Permanent (400, 401, 403, 404 and other 4xx, and
//     a request that can never fit the account's per-minute limits).
//   - Malformed output is transient. A response without our tool_use block, one
//     cut off at max_tokens, a refusal, wrong types, missing keys or an
//     implausible amount is an extraction error, never "not a creditor reply".
//     It is transient because the model may answer correctly next time; the
//     job's bounded retry budget turns a persistent failure into status failed
//     (and an alert) instead of silently dropping the email.
//   - Cost. The tools and the system prompt are one cached prefix (see
//     prompt_cache.go); every call's usage is returned (ExtractWithUsage).
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
	"errors"
	"net/http"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// Defaults applied by New for zero Config fields.
const (
	defaultModel         = anthropic.ModelClaudeSonnet5
	defaultTimeout       = 60 * time.Second
	defaultMaxInputRunes = 12000
)

// maxOutputTokens bounds the answer. The tool input is one or two hundred
// tokens (a summary of one or two sentences, a few names and numbers), and
// nothing thinks first: thinking is not compatible with forced tool use
// (extended thinking docs, "Feature compatibility"), the API prefills the
// tool call. The bound matters for throughput: the API reserves max_tokens
// from the output-tokens-per-minute limit while a call runs ("OTPM rate
// limits are estimated based on max_tokens at the beginning of each
// request"), so 4096 would hold four times the output budget per call in
// flight that 1024 does.
const maxOutputTokens = 1024

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
	// Limiter paces every call; share one per process. New makes one with
	// default settings when nil.
	Limiter    *Limiter
	HTTPClient *http.Client // optional (tests)
}

// Extractor calls Claude's Messages API with a forced tool call and validates the answer.
type Extractor struct {
	client        anthropic.Client
	model         string
	maxInputRunes int
	limiter       *Limiter
	prefixRunes   int // runes of the cached prefix (tools + system prompt)
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
	if cfg.Limiter == nil {
		cfg.Limiter = NewLimiter(LimiterConfig{})
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = newHTTPClient(cfg.Limiter.maxInFlight)
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
		limiter:       cfg.Limiter,
		prefixRunes:   prefixRunes(),
	}, nil
}

// newHTTPClient keeps as many idle connections as calls may be in flight:
// Go's default of two per host would open (and TLS-handshake) a new
// connection for almost every call of a paced backlog.
func newHTTPClient(maxInFlight int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(t.MaxIdleConns, maxInFlight)
	t.MaxIdleConnsPerHost = maxInFlight
	return &http.Client{Transport: t}
}
