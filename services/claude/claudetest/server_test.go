package claudetest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, srv *claudetest.Server, body any, header map[string]string) reply {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL()+"/v1/messages", bytes.NewReader(raw))
	require.NoError(t, err)
	req.Header.Set("x-api-key", "sk-test")
	req.Header.Set("anthropic-version", "2026-10-21")
	req.Header.Set("content-type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return reply{status: res.StatusCode, header: res.Header, body: out}
}

// prompt is a request like the extractor's: a forced tool, a long system
// prompt ending the cached prefix, and one email.
func prompt(systemRunes int, email string) map[string]any {
	return map[string]any{
		"model":      "claude-sonnet-5",
		"max_tokens": 1024,
		"system": []any{map[string]any{
			"type": "text", "text": strings.Repeat("Regeln für Gläubigerantworten. ", systemRunes/31+1),
			"cache_control": map[string]any{"type": "ephemeral", "ttl": "1h"},
		}},
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": email}}}},
		"tools": []any{map[string]any{
			"name": "record_creditor_reply", "strict": true,
			"input_schema": map[string]any{"type": "object", "properties": map[string]any{"debt_amount": map[string]any{"type": "number"}}},
		}},
		"tool_choice": map[string]any{"type": "tool", "name": "record_creditor_reply"},
	}
}

const email = "<email>\n<absender>Stadtwerke Beispielstadt <forderungen@stadtwerke.example></absender>\n" +
	"<betreff>AW: Anfrage, Ihr Az. SB-2026-0042</betreff>\n<text>\nunsere Gesamtforderung beträgt 1.234,56 EUR.\nKundennummer KD-4711\n</text>\n</email>"

func usage(t *testing.T, r reply) (input, output, write, read int64) {
	t.Helper()
	u := r.body["usage"].(map[string]any)
	n := func(k string) int64 { return int64(u[k].(float64)) }
	return n("input_tokens"), n("output_tokens"), n("cache_creation_input_tokens"), n("cache_read_input_tokens")
}

func headerInt(t *testing.T, h http.Header, name string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(h.Get(name), 10, 64)
	require.NoError(t, err, name)
	return v
}

func requireAPIError(t *testing.T, r reply, status int, errType string) {
	t.Helper()
	require.Equal(t, status, r.status)
	require.Equal(t, "error", r.body["type"])
	require.Equal(t, errType, r.body["error"].(map[string]any)["type"])
	require.NotEmpty(t, r.body["error"].(map[string]any)["message"])
	require.Equal(t, r.header.Get("request-id"), r.body["request_id"])
	require.True(t, strings.HasPrefix(r.header.Get("request-id"), "req_"))
}

func TestValidatesLikeTheAPI(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{})
	t.Cleanup(srv.Close)

	requireAPIError(t, post(t, srv, prompt(100, email), map[string]string{"x-api-key": ""}), 401, "authentication_error")
	requireAPIError(t, post(t, srv, prompt(100, email), map[string]string{"anthropic-version": ""}), 400, "invalid_request_error")
	bad := map[string]func(map[string]any){
		"no model":        func(b map[string]any) { delete(b, "model") },
		"max_tokens 0":    func(b map[string]any) { b["max_tokens"] = 0 },
		"no max_tokens":   func(b map[string]any) { delete(b, "max_tokens") },
		"no messages":     func(b map[string]any) { b["messages"] = []any{} },
		"assistant first": func(b map[string]any) { b["messages"] = []any{map[string]any{"role": "assistant", "content": "x"}} },
		"unknown forced":  func(b map[string]any) { b["tool_choice"] = map[string]any{"type": "tool", "name": "nope"} },
		"schema not object": func(b map[string]any) {
			b["tools"].([]any)[0].(map[string]any)["input_schema"] = map[string]any{"type": "array"}
		},
		"temperature": func(b map[string]any) { b["temperature"] = 0 },
		"bad ttl": func(b map[string]any) {
			b["system"].([]any)[0].(map[string]any)["cache_control"] = map[string]any{"type": "ephemeral", "ttl": "2h"}
		},
		"five breakpoints": func(b map[string]any) {
			var blocks []any
			for range 5 {
				blocks = append(blocks, map[string]any{"type": "text", "text": "x", "cache_control": map[string]any{"type": "ephemeral"}})
			}
			b["system"] = blocks
		},
	}
	for name, mutate := range bad {
		body := prompt(100, email)
		mutate(body)
		r := post(t, srv, body, nil)
		require.Equal(t, 400, r.status, name)
		requireAPIError(t, r, 400, "invalid_request_error")
	}
	require.Equal(t, int64(len(bad)+2), srv.Stats().Invalid)
	require.Zero(t, srv.Stats().Succeeded)
}

func TestAnswersWithTheForcedToolAndHonestUsage(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{Limits: claudetest.Limits{RequestsPerMinute: 600, InputTokensPerMinute: 600_000, OutputTokensPerMinute: 60_000}})
	t.Cleanup(srv.Close)

	r := post(t, srv, prompt(100, email), nil)
	require.Equal(t, 200, r.status)
	require.Equal(t, "message", r.body["type"])
	require.Equal(t, "tool_use", r.body["stop_reason"])
	content := r.body["content"].([]any)
	require.Len(t, content, 1)
	block := content[0].(map[string]any)
	require.Equal(t, "tool_use", block["type"])
	require.Equal(t, "record_creditor_reply", block["name"])
	input := block["input"].(map[string]any)
	require.InDelta(t, 1234.56, input["debt_amount"], 0.001, "the first EUR amount, German notation")
	require.Equal(t, true, input["is_creditor_reply"])
	require.Equal(t, "Stadtwerke Beispielstadt", input["creditor_name"])
	require.Equal(t, "SB-2026-0042", input["client_aktenzeichen"])
	require.Equal(t, []any{"KD-4711"}, input["reference_numbers"])

	in, out, write, read := usage(t, r)
	require.Zero(t, write, "a prefix below the minimum is not cached")
	require.Zero(t, read)
	require.Greater(t, in, int64(313), "the tool prompt and the text")
	require.Greater(t, out, int64(20))
	require.Less(t, out, int64(1024))

	require.NotEmpty(t, r.header.Get("request-id"))
	for _, family := range []string{"requests", "input-tokens", "output-tokens", "tokens"} {
		limit := headerInt(t, r.header, "anthropic-ratelimit-"+family+"-limit")
		remaining := headerInt(t, r.header, "anthropic-ratelimit-"+family+"-remaining")
		require.LessOrEqual(t, remaining, limit, family)
		reset, err := time.Parse(time.RFC3339, r.header.Get("anthropic-ratelimit-"+family+"-reset"))
		require.NoError(t, err, family)
		require.WithinDuration(t, time.Now(), reset, time.Minute)
	}
	require.Equal(t, int64(599), headerInt(t, r.header, "anthropic-ratelimit-requests-remaining"))
	// Remaining, give or take what refilled (10,000 input tokens a second)
	// between the request's admission and its answer.
	require.InDelta(t, 600_000-in, headerInt(t, r.header, "anthropic-ratelimit-input-tokens-remaining"), 200)
	require.InDelta(t, 60_000-out, headerInt(t, r.header, "anthropic-ratelimit-output-tokens-remaining"), 20,
		"max_tokens is reserved at the start and settled to the real output at the end")

	s := srv.Stats()
	require.Equal(t, claudetest.Stats{Requests: 1, Succeeded: 1, InputTokens: in, OutputTokens: out, PeakInFlight: 1}, s)
}

func TestAutoReplyIsNotACreditorReply(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{})
	t.Cleanup(srv.Close)
	r := post(t, srv, prompt(100, "<kopfzeilen>\nAuto-Submitted: auto-replied\n</kopfzeilen>\nIch bin nicht im Büro. Forderungen ab 5.000 € …"), nil)
	input := r.body["content"].([]any)[0].(map[string]any)["input"].(map[string]any)
	require.Equal(t, false, input["is_creditor_reply"])
	require.Nil(t, input["debt_amount"])
}

func TestPromptCacheWritesOncePerTTLAndReadsAfter(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{Latency: claudetest.FixedLatency(100 * time.Millisecond)})
	t.Cleanup(srv.Close)
	long := prompt(6000, email) // about 2,000 tokens: above Sonnet 5's 1,024

	// Two requests sent together both write: an entry is usable only once
	// the response that wrote it has begun.
	var wg sync.WaitGroup
	first := make([]reply, 2)
	for i := range first {
		wg.Go(func() { first[i] = post(t, srv, long, nil) })
	}
	wg.Wait()
	var written int64
	for _, r := range first {
		in, _, write, read := usage(t, r)
		require.Greater(t, write, int64(1024))
		require.Zero(t, read)
		require.Equal(t, int64(313)+perEmail(t, srv, email), in, "only the tool prompt and the email are uncached")
		written = write
	}

	in, _, write, read := usage(t, post(t, srv, long, nil))
	require.Zero(t, write)
	require.Equal(t, written, read, "the whole prefix is read")
	require.Equal(t, int64(313)+perEmail(t, srv, email), in)

	// Another email after the same prefix still reads it.
	_, _, write, read = usage(t, post(t, srv, prompt(6000, "Eine andere E-Mail ohne Betrag."), nil))
	require.Zero(t, write)
	require.Equal(t, written, read)

	// A different model has its own cache and, for Haiku 4.5, a minimum of
	// 4,096 tokens this prefix does not reach.
	haiku := prompt(6000, email)
	haiku["model"] = "claude-haiku-4-5"
	_, _, write, read = usage(t, post(t, srv, haiku, nil))
	require.Zero(t, write+read)

	s := srv.Stats()
	require.Equal(t, 2*written, s.CacheCreationTokens)
	require.Equal(t, 2*written, s.CacheReadTokens)
	require.Equal(t, int64(2), s.PeakInFlight)
}

// perEmail is what the fake counts for a user turn holding text.
func perEmail(t *testing.T, _ *claudetest.Server, text string) int64 {
	t.Helper()
	return int64((len(text)*10+30)/31) + 4 // ceil(bytes / 3.1) + the turn's framing
}

func TestRateLimitsAsTheAPIAppliesThem(t *testing.T) {
	t.Parallel()
	// 120 requests per minute with a one-second bucket: two at once, then
	// one every half second.
	srv := claudetest.New(claudetest.Options{Limits: claudetest.Limits{RequestsPerMinute: 120, Burst: time.Second}})
	t.Cleanup(srv.Close)
	body := prompt(100, email)
	require.Equal(t, 200, post(t, srv, body, nil).status)
	require.Equal(t, 200, post(t, srv, body, nil).status)
	r := post(t, srv, body, nil)
	requireAPIError(t, r, 429, "rate_limit_error")
	require.Contains(t, r.body["error"].(map[string]any)["message"], "120 requests per minute")
	retry := headerInt(t, r.header, "retry-after")
	require.GreaterOrEqual(t, retry, int64(1), "whole seconds, rounded up")
	require.LessOrEqual(t, retry, int64(1))
	require.Equal(t, int64(0), headerInt(t, r.header, "anthropic-ratelimit-requests-remaining"))
	require.Empty(t, r.header.Get("anthropic-ratelimit-input-tokens-limit"), "no header for a limit that is not set")
	s := srv.Stats()
	require.Equal(t, int64(2), s.Succeeded)
	require.Equal(t, int64(1), s.RateLimited)
}

func TestCacheReadsDoNotCountTowardsInputTokens(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{Limits: claudetest.Limits{InputTokensPerMinute: 60_000}})
	t.Cleanup(srv.Close)
	long := prompt(6000, email)
	r1 := post(t, srv, long, nil)
	in1, _, write, _ := usage(t, r1)
	after1 := headerInt(t, r1.header, "anthropic-ratelimit-input-tokens-remaining")
	require.InDelta(t, 60_000-in1-write, after1, 100, "uncached input and cache writes count, give or take a refill")

	r2 := post(t, srv, long, nil)
	in2, _, _, read := usage(t, r2)
	require.Positive(t, read)
	after2 := headerInt(t, r2.header, "anthropic-ratelimit-input-tokens-remaining")
	require.GreaterOrEqual(t, after2, after1-in2, "cache reads do not count")
	require.Less(t, after2, after1-in2+read/2, "what refilled meanwhile is small")
}

func TestRequestsThatCanNeverFit(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{Limits: claudetest.Limits{OutputTokensPerMinute: 1000}})
	t.Cleanup(srv.Close)
	r := post(t, srv, prompt(100, email), nil) // max_tokens 1024 > 1000 per minute
	requireAPIError(t, r, 429, "rate_limit_error")
	require.Contains(t, r.body["error"].(map[string]any)["message"], "1000 output tokens per minute")
}

func TestFailuresOnDemandAndConsumption(t *testing.T) {
	t.Parallel()
	srv := claudetest.New(claudetest.Options{Limits: claudetest.Limits{RequestsPerMinute: 100}})
	t.Cleanup(srv.Close)
	srv.FailNext(claudetest.Failure{Status: 529, Message: "Overloaded"}, claudetest.Failure{Status: 500, Message: "Internal server error"})
	requireAPIError(t, post(t, srv, prompt(100, email), nil), 529, "overloaded_error")
	r := post(t, srv, prompt(100, email), nil)
	requireAPIError(t, r, 500, "api_error")
	require.NotEmpty(t, r.header.Get("anthropic-ratelimit-requests-limit"), "error answers carry the headers too")

	srv.Consume(60, 0, 0) // another process on the account
	r = post(t, srv, prompt(100, email), nil)
	require.Equal(t, 200, r.status)
	require.LessOrEqual(t, headerInt(t, r.header, "anthropic-ratelimit-requests-remaining"), int64(40))
	s := srv.Stats()
	require.Equal(t, int64(1), s.Overloaded)
	require.Equal(t, int64(1), s.ServerErrors)
	require.Equal(t, int64(1), s.Succeeded)
}

func TestLogNormalLatency(t *testing.T) {
	t.Parallel()
	draw := claudetest.LogNormalLatency(1500*time.Millisecond, 4*time.Second, 42)
	samples := make([]time.Duration, 20000)
	for i := range samples {
		samples[i] = draw()
	}
	slices.Sort(samples)
	require.InDelta(t, 1.5, samples[len(samples)/2].Seconds(), 0.05)
	require.InDelta(t, 4.0, samples[len(samples)*9/10].Seconds(), 0.15)
	require.Equal(t, time.Second, claudetest.FixedLatency(time.Second)())
}
