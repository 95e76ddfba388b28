package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/services/intake"
)

// fuzzNow is the fuzz servers' fixed clock, so seeded timestamps stay valid.
var fuzzNow = time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC)

// fuzzAcceptor stands in for intake at the service boundary: it checks that
// what the handler hands over could be stored (PostgreSQL rejects NUL bytes
// and invalid UTF-8 in text, and \u0000 in jsonb), also as a failed email
// with its problems, warnings and raw payload, and answers a fixed result.
type fuzzAcceptor struct{ problem string }

func (a *fuzzAcceptor) Accept(_ context.Context, e intake.Email) (intake.Result, error) {
	a.problem = storableProblem(e)
	return intake.Result{ID: 42}, nil
}

func storableProblem(e intake.Email) string {
	texts := map[string]string{
		"ticket_id": e.TicketID, "webhook_id": e.WebhookID, "dedup_key": e.DedupKey, "from_email": e.FromEmail,
		"from_name": e.FromName, "subject": e.Subject, "body_html": e.BodyHTML, "body_text": e.BodyText,
	}
	for _, a := range e.Attachments {
		texts["attachment url"] += a.URL
		texts["attachment filename"] += a.Filename
		texts["attachment content_type"] += a.ContentType
		if u, err := url.Parse(a.URL); err != nil || u.Scheme != "https" {
			return "attachment url not https: " + a.URL
		}
	}
	for k, v := range e.Problems {
		texts["problem "+k] = k + v
	}
	for i, w := range e.Warnings {
		texts[fmt.Sprintf("warning %d", i)] = w
	}
	if e.DedupKey == "" {
		return "no dedup key"
	}
	if len(e.Problems) > 0 {
		// Kept failed with its raw body (intake); its fields may be empty.
		if len(e.RawPayload) == 0 {
			return "problems without the raw payload"
		}
	} else if e.TicketID == "" || e.FromEmail == "" {
		return "required field empty"
	}
	for name, s := range texts {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			return fmt.Sprintf("%s not storable: %q", name, s)
		}
	}
	if y := e.ReceivedAt.Year(); y < 2000 || y > 3000 {
		return fmt.Sprintf("received_at out of range: %v", e.ReceivedAt)
	}
	doc, err := json.Marshal(e.Attachments)
	if err != nil || bytes.Contains(doc, []byte(`\u0000`)) {
		return "attachments not storable as jsonb"
	}
	return ""
}

// fuzzServer returns the real router around a fuzzAcceptor.
func fuzzServer(secret string, a *fuzzAcceptor) http.Handler {
	reg := prometheus.NewRegistry()
	return NewServer(Deps{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(reg), Gatherer: reg,
		Intake: a, Now: func() time.Time { return fuzzNow },
		Webhook: WebhookConfig{Secret: secret, Tolerance: 5 * time.Minute, MaxBodyBytes: 1 << 20, Timeout: 5 * time.Second},
	})
}

// Fuzz modes: how the fuzzer's headers are used.
const (
	fuzzRawHeaders  = iota // as given, against a server with a secret
	fuzzSignValidly        // body signed correctly at ts (so decoding gets fuzzed)
	fuzzNoSecret           // server without a secret (development)
	fuzzModes
)

// FuzzWebhook drives the real gin handler with arbitrary bodies and headers:
// it must never panic or answer 5xx, and every 4xx carries the JSON error shape.
func FuzzWebhook(f *testing.F) {
	ts := fuzzNow.Format(time.RFC3339)
	valid := `{"ticket_id":"123","from_email":"a@b.de","subject":"AW: Forderung","body_text":"Betrag 10 EUR","received_at":"2026-03-25T05:00:00Z"}`
	seeds := []string{
		valid,
		`{"ticket_id":123,"from_email":"a@b.de","body_html":"<p>x</p>","webhook_id":"w1"}`,
		`{"ticket_id":-5,"from_email":"a@b.de","body_text":"x"}`,
		`{"ticket_id":1.5,"from_email":"a@b.de","body_text":"x"}`,
		`{"ticket_id":1e400,"from_email":"a@b.de","body_text":"x"}`,
		`{"from_email":"a@b.de","body_text":"x"}`,
		`{"ticket_id":"1","from_email":"not an email","body_text":"x"}`,
		`{"ticket_id":"1","from_email":"a@b.de","body_text":"x","received_at":"yesterday"}`,
		`{"ticket_id":"1","from_email":"a@b.de","body_text":"x","received_at":"Wed, 25 Mar 2026 06:09:27 +0100"}`,
		`{"ticket_id":"1","from_email":"a@b.de","body_text":"x","received_at":"0000-01-01T00:00:00Z"}`,
		`{"ticket_id":"1","from_email":"a@b.de","body_text":"x","received_at":"2026-03-25T05:09:27+23:59"}`,
		`{"ticket_id":"1","from_email":"a@b.de","attachments":[{"url":"http://x/a"}]}`,
		`{"ticket_id":"1","from_email":"a@b.de","attachments":[{"url":"https://x/a","filename":"a\u0000","size":-1}]}`,
		`{"ticket_id":"1","from_email":"a@b.de","attachments":[{"url":"https://x/a\u0000b"}]}`,
		`{"ticket_id":"1","from_email":"a@b.de","attachments":[{"url":"https://\u00ff\u0000/"}]}`,
		"{\"ticket_id\":\"\\u0000\",\"from_email\":\"a@b.de\",\"subject\":\"S\\u0000 \xff\xfe\",\"body_text\":\"B\\u0000\xc3\x28\"}",
		"{\"ticket_id\":\"1\",\"from_email\":\"a\\u0000@b.de\",\"from_name\":\"\\ud800\",\"body_text\":\"x\"}",
		`[]`, `"x"`, `42`, `null`, `{}`, ``, ` `, `{"ticket_id":`, `{"a":1}}`, `ticket_id=1`,
		`{"ticket_id":{"a":[1,2,{"b":null}]},"from_email":["a@b.de"],"subject":12,"attachments":"x"}`,
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
	}
	for _, s := range seeds {
		for mode := range uint8(fuzzModes) {
			f.Add([]byte(s), ts, Sign("fuzz-secret", ts, []byte(s)), "inv-1", mode)
		}
	}
	f.Add([]byte(valid), ts, Sign("wrong", ts, []byte(valid)), "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), fuzzNow.Add(-time.Hour).Format(time.RFC3339), Sign("fuzz-secret", fuzzNow.Add(-time.Hour).Format(time.RFC3339), []byte(valid)), "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), fuzzNow.Add(time.Hour).Format(time.RFC3339), Sign("fuzz-secret", fuzzNow.Add(time.Hour).Format(time.RFC3339), []byte(valid)), "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), "", "", "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), ts, "%%%garbage", "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), "1711343367", Sign("fuzz-secret", "1711343367", []byte(valid)), "", uint8(fuzzRawHeaders))
	f.Add([]byte(valid), "9999-12-31T23:59:59Z", "", "\x00\xff", uint8(fuzzSignValidly))

	// Built once: a fresh router per input would dominate the fuzzing time.
	// Inputs run one after another within a process; the mutex makes sure.
	var mu sync.Mutex
	acc := &fuzzAcceptor{}
	signed, unsigned := fuzzServer("fuzz-secret", acc), fuzzServer("", acc)

	f.Fuzz(func(t *testing.T, body []byte, ts, sig, inv string, mode uint8) {
		mu.Lock()
		defer mu.Unlock()
		mode %= fuzzModes
		srv := signed
		if mode == fuzzNoSecret {
			srv = unsigned
		}
		if mode == fuzzSignValidly {
			sig = Sign("fuzz-secret", ts, body)
		}
		acc.problem = ""
		req := httptest.NewRequest(http.MethodPost, webhookPath, bytes.NewReader(body))
		req.Header.Set(headerSignatureTS, ts)
		req.Header.Set(headerSignature, sig)
		req.Header.Set(headerInvocationID, inv)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK:
			var b acceptedBody
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.EmailID != 42 || b.Status != "accepted" {
				t.Fatalf("200 with body %q", rec.Body.String())
			}
			if acc.problem != "" {
				t.Fatalf("accepted an unstorable email: %s", acc.problem)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			var e errorBody
			dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d without the error shape: %q", rec.Code, rec.Body.String())
			}
			if !utf8.ValidString(rec.Body.String()) {
				t.Fatalf("error body is not UTF-8: %q", rec.Body.String())
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
	})
}
