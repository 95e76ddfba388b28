// Package claudetest is a fake of Anthropic's Messages API for tests and
// benchmarks: an httptest server speaking the real wire format of
// POST /v1/messages, with the account's rate limits, prompt caching, usage
// and latency modelled as the API documents them. It is a test helper: only
// tests and bench/ import it, never the service.
//
// What it does, per request:
//   - validates it like the API: x-api-key (or a Bearer token) and
//     anthropic-version present, model, max_tokens >= 1, messages starting with
//     a user turn, tools with object schemas, tool_choice naming a real tool,
//     at most four ephemeral cache breakpoints; no temperature/top_p/top_k;
//   - applies the account's rate limits (see Limits) and answers 429 with
//     retry-after and a rate_limit_error when a bucket is short;
//   - waits the latency Options.Latency draws (the request's context ends it);
//   - answers with a tool_use block for the forced tool (Options.Answer), with
//     usage counted from the request's bytes: a prefix that ends on a
//     cache_control breakpoint and reaches the model's minimum cacheable
//     length is written once per TTL (cache_creation_input_tokens) and read
//     afterwards (cache_read_input_tokens);
//   - sends request-id and the anthropic-ratelimit-* headers on every answer.
//
// FailNext makes it answer the next requests with an error (529 overloaded,
// 500 api_error, anything), Consume spends the account's budget as another
// process would, and Stats counts requests, 429s, tokens and the in-flight peak.
package claudetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a fake API.
type Options struct {
	// Limits are the account's rate limits; zero values are unlimited.
	Limits Limits
	// Latency draws how long the model takes to answer; nil answers at once.
	Latency func() time.Duration
	// Answer decides what the model says; nil uses ExtractionAnswer.
	Answer func(Request) Answer
	// APIKey, when set, is the only key accepted; otherwise any non-empty one.
	APIKey string
	// Record keeps every request (method, path, headers, body) for Requests.
	Record bool
}

// Failure is an error answer FailNext queues.
type Failure struct {
	Status  int    // e.g. 529, 500, 400
	Type    string // error.type, e.g. "overloaded_error"; derived from Status when empty
	Message string
	Header  map[string]string // extra headers, e.g. retry-after
}

// Recorded is a request the fake received (with Options.Record).
type Recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Stats are the fake's counters since it started.
type Stats struct {
	Requests     int64 // POST /v1/messages received
	Succeeded    int64 // answered 200
	RateLimited  int64 // answered 429
	Overloaded   int64 // answered 529
	ServerErrors int64 // answered 5xx other than 529
	Invalid      int64 // answered another 4xx
	// Usage summed over the 200 answers, as the usage objects said.
	InputTokens, OutputTokens, CacheCreationTokens, CacheReadTokens int64
	InFlight, PeakInFlight                                          int64
}

// Server is a running fake Messages API.
type Server struct {
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	acct     account
	cache    map[cacheKey]time.Time
	failures []Failure
	stats    Stats
	reqs     []Recorded
	seq      int64
}

// New starts a fake API; Close stops it.
func New(opts Options) *Server {
	if opts.Answer == nil {
		opts.Answer = ExtractionAnswer
	}
	s := &Server{opts: opts, acct: newAccount(opts.Limits, time.Now()), cache: map[cacheKey]time.Time{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL to give the SDK (option.WithBaseURL).
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server (waiting for requests in flight).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// FailNext queues failures: each answers one of the next requests, in order,
// before any rate limit or validation.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f...)
}

// SetLimits replaces the account's limits, with full buckets.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct = newAccount(l, time.Now())
}

// Consume spends the account's buckets as another process sharing the
// account would, without a request to this server.
func (s *Server) Consume(requests, inputTokens, outputTokens int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acct.refill(time.Now())
	s.acct.requests.take(float64(requests))
	s.acct.input.take(float64(inputTokens))
	s.acct.output.take(float64(outputTokens))
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns the recorded requests (Options.Record).
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	s.mu.Lock()
	s.seq++
	requestID := fmt.Sprintf("req_fake%08d", s.seq)
	if s.opts.Record {
		s.reqs = append(s.reqs, Recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: raw})
	}
	s.stats.Requests++
	s.stats.InFlight++
	s.stats.PeakInFlight = max(s.stats.PeakInFlight, s.stats.InFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.InFlight--
		s.mu.Unlock()
	}()
	w.Header().Set("request-id", requestID)
	w.Header().Set("Content-Type", "application/json")

	if f, ok := s.nextFailure(); ok {
		s.fail(w, requestID, f)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		s.fail(w, requestID, Failure{Status: http.StatusNotFound, Message: "not found"})
		return
	}
	if key := apiKey(r); key == "" || (s.opts.APIKey != "" && key != s.opts.APIKey) {
		s.fail(w, requestID, Failure{Status: http.StatusUnauthorized, Message: "invalid x-api-key"})
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		s.fail(w, requestID, Failure{Status: http.StatusBadRequest, Message: "anthropic-version: header is required"})
		return
	}
	req, perr := parseRequest(raw)
	if err != nil || perr != nil {
		s.fail(w, requestID, Failure{Status: http.StatusBadRequest, Message: fmt.Sprint(perr)})
		return
	}
	s.answer(w, r, requestID, req)
}

func apiKey(r *http.Request) string {
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (s *Server) nextFailure() (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return Failure{}, false
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return f, true
}

// errorTypes are the API's error.type values by status.
var errorTypes = map[int]string{
	400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
	404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
	500: "api_error", 529: "overloaded_error",
}

// fail answers with the API's error shape,
// {"type":"error","error":{"type":…,"message":…},"request_id":…}, and the
// rate limit headers the API sends with every answer.
func (s *Server) fail(w http.ResponseWriter, requestID string, f Failure) {
	if f.Type == "" {
		f.Type = errorTypes[f.Status]
		if f.Type == "" {
			f.Type = "api_error"
		}
	}
	s.mu.Lock()
	switch {
	case f.Status == http.StatusTooManyRequests:
		s.stats.RateLimited++
	case f.Status == 529:
		s.stats.Overloaded++
	case f.Status >= 500:
		s.stats.ServerErrors++
	default:
		s.stats.Invalid++
	}
	now := time.Now()
	s.acct.refill(now)
	s.acct.setHeaders(w.Header(), now)
	s.mu.Unlock()
	for k, v := range f.Header {
		w.Header().Set(k, v)
	}
	writeJSON(w, f.Status, map[string]any{
		"type":       "error",
		"error":      map[string]any{"type": f.Type, "message": f.Message},
		"request_id": requestID,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
