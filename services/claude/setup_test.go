package claude

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

const testAPIKey = "sk-test-key"

// api is the fake Messages API a test talks to.
type api struct{ *claudetest.Server }

// recordedRequest is a request the fake saw, its body decoded.
type recordedRequest struct {
	method string
	path   string
	header http.Header
	body   map[string]any
}

// setup starts a fake API (recording every request) and an Extractor
// pointed at it, with a Limiter of its own.
func setup(t *testing.T, opts claudetest.Options, tweak ...func(*Config)) (*Extractor, api) {
	t.Helper()
	opts.Record = true
	opts.APIKey = testAPIKey
	srv := claudetest.New(opts)
	t.Cleanup(srv.Close)
	cfg := Config{APIKey: testAPIKey, BaseURL: srv.URL(), Timeout: 5 * time.Second, HTTPClient: srv.Client()}
	for _, fn := range tweak {
		fn(&cfg)
	}
	e, err := New(cfg)
	require.NoError(t, err)
	return e, api{srv}
}

func (a api) requests(t *testing.T) []recordedRequest {
	t.Helper()
	var out []recordedRequest
	for _, r := range a.Requests() {
		var body map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &body))
		out = append(out, recordedRequest{method: r.Method, path: r.Path, header: r.Header, body: body})
	}
	return out
}

// only returns the single request the fake saw, failing if there were more:
// the SDK must not retry behind the job queue's back.
func (a api) only(t *testing.T) recordedRequest {
	t.Helper()
	reqs := a.requests(t)
	require.Len(t, reqs, 1, "exactly one HTTP request per Extract")
	return reqs[0]
}

// toolUse answers with one tool_use block carrying input.
func toolUse(input any) claudetest.Options {
	return claudetest.Options{Answer: func(claudetest.Request) claudetest.Answer {
		return claudetest.Answer{ToolInput: input}
	}}
}

// message answers with the given content blocks and stop reason.
func message(stopReason string, content []any) claudetest.Options {
	return claudetest.Options{Answer: func(claudetest.Request) claudetest.Answer {
		return claudetest.Answer{Content: content, StopReason: stopReason}
	}}
}

// goodAnswer is a complete, valid tool input; tests copy and modify it.
func goodAnswer() map[string]any {
	return map[string]any{
		"is_creditor_reply":   true,
		"client_name":         "Müller, Anna",
		"creditor_name":       "Stadtwerke Beispielstadt GmbH",
		"debt_amount":         1234.56,
		"reference_numbers":   []any{"KD-4711", "RE-2026-0815"},
		"client_aktenzeichen": "SB-2026-0042",
		"confidence":          0.92,
		"summary":             "Die Stadtwerke beziffern die Gesamtforderung auf 1.234,56 EUR.",
	}
}
