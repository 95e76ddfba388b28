package claude

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeAPI is an httptest server speaking the Messages API wire format; it
// records every request so tests can check what the SDK actually sent.
type fakeAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recordedRequest
	respond http.HandlerFunc
}

type recordedRequest struct {
	method string
	path   string
	header http.Header
	body   map[string]any
}

const testAPIKey = "sk-test-key"

// setup starts a fake API answering with respond and an Extractor pointed at it.
func setup(t *testing.T, respond http.HandlerFunc, tweak ...func(*Config)) (*Extractor, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recordedRequest{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
		f.mu.Unlock()
		f.respond(w, r)
	}))
	t.Cleanup(f.srv.Close)
	cfg := Config{APIKey: testAPIKey, BaseURL: f.srv.URL, Timeout: 5 * time.Second, HTTPClient: f.srv.Client()}
	for _, fn := range tweak {
		fn(&cfg)
	}
	e, err := New(cfg)
	require.NoError(t, err)
	return e, f
}

func (f *fakeAPI) requests() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.reqs...)
}

// only returns the single request the fake saw, failing if there were more:
// the SDK must not retry behind the job queue's back.
func (f *fakeAPI) only(t *testing.T) recordedRequest {
	t.Helper()
	reqs := f.requests()
	require.Len(t, reqs, 1, "exactly one HTTP request per Extract")
	return reqs[0]
}

// toolUse answers 200 with one tool_use block carrying input.
func toolUse(input any) http.HandlerFunc {
	return message("tool_use", []any{
		map[string]any{"type": "tool_use", "id": "toolu_01", "name": toolName, "input": input},
	})
}

// message answers 200 with the given content blocks and stop reason.
func message(stopReason string, content []any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
			"content": content, "stop_reason": stopReason, "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": 900, "output_tokens": 120},
		})
	}
}

// apiFailure answers with an API error body and status, plus extra headers.
func apiFailure(status int, errType, msg string, headers map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("request-id", "req_test_1")
		writeJSON(w, status, map[string]any{
			"type":  "error",
			"error": map[string]any{"type": errType, "message": msg},
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
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
