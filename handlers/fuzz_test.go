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

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// fuzzNow is the fuzz servers' fixed clock, so seeded timestamps stay valid.
var fuzzNow = time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC)

// fuzzAcceptor sits at the service boundary: it checks that what the
// handler hands over could be stored (PostgreSQL rejects NUL bytes and
// invalid UTF-8 in text, and \u0000 in jsonb), also as a failed email with
// its problems, warnings and raw payload, then stores it with the real
// intake service, so PostgreSQL has the last word (invariant 6).
type fuzzAcceptor struct {
	problem string
	intake  Acceptor
}

func (a *fuzzAcceptor) Accept(ctx context.Context, e intake.Email) (intake.Result, error) {
	a.problem = storableProblem(e)
	return a.intake.Accept(ctx, e)
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

// fuzzMaxBody is the fuzz servers' body limit.
const fuzzMaxBody = 1 << 20

// fuzzServer returns the real router around a fuzzAcceptor.
func fuzzServer(secret string, a *fuzzAcceptor) http.Handler {
	reg := prometheus.NewRegistry()
	return NewServer(Deps{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(reg), Gatherer: reg,
		Intake: a, Now: func() time.Time { return fuzzNow },
		Webhook: WebhookConfig{Secret: secret, Tolerance: fuzzTolerance, MaxBodyBytes: fuzzMaxBody, Timeout: 5 * time.Second},
	})
}

// Fuzz modes: how the fuzzer's headers are used.
const (
	fuzzRawHeaders  = iota // as given, against a server with a secret
	fuzzSignValidly        // body signed correctly at ts (so decoding gets fuzzed)
	fuzzNoSecret           // server without a secret (development)
	fuzzModes
)

// fuzzTolerance is the fuzz servers' WEBHOOK_TOLERANCE.
const fuzzTolerance = 5 * time.Minute

// FuzzWebhook drives the real gin handler, over the real intake service and
// PostgreSQL, with arbitrary bodies and headers: it must never panic or
// answer 5xx, every 4xx carries the JSON error shape, and every delivery
// that verifies (or needs no signature) and whose body is a JSON object
// within the limit is stored: 200 accepted or duplicate, whatever its fields
// hold (DESIGN.md §6, invariant 6).
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
	db, r := apptest.NewDB(f), apptest.NewRedis(f)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := &fuzzAcceptor{intake: intake.New(store.New(db.DB, db.DB), workers.NewQueue(r.Client, r.Namespace, "fuzz"), log)}
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

		mustStore := (mode == fuzzNoSecret || checkStamp(sig, ts, fuzzNow, fuzzTolerance) == nil && signedWith("fuzz-secret", sig, ts, body)) &&
			len(body) <= fuzzMaxBody && jsonObject(body)
		switch rec.Code {
		case http.StatusOK:
			var b acceptedBody
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Status == "test" && mustStore ||
				b.Status != "test" && (b.EmailID == 0 || b.Status != "accepted" && b.Status != "duplicate") {
				t.Fatalf("200 with body %q", rec.Body.String())
			}
			if acc.problem != "" {
				t.Fatalf("accepted an unstorable email: %s", acc.problem)
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
			if mustStore {
				t.Fatalf("a verified JSON object within the limit was refused with %d: %q", rec.Code, rec.Body.String())
			}
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

// jsonObject reports whether body is one JSON object (RFC 8259), the
// property's side of what the decoder accepts.
func jsonObject(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return json.Valid(body) && len(t) > 0 && t[0] == '{'
}
