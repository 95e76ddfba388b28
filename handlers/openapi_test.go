package handlers_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// zendeskTestSecret is the key Zendesk signs its "Test webhook" deliveries
// with, as its documentation publishes it.
const zendeskTestSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

// schemaChecker validates JSON values against the OpenAPI 3.0 subset the
// document uses: $ref, type, nullable, required, properties,
// additionalProperties, items, enum, oneOf, maxItems, maxLength, minimum,
// maximum and the date-time format. It needs no dependency.
type schemaChecker struct{ doc map[string]any }

func (s schemaChecker) resolve(sch map[string]any) map[string]any {
	for {
		ref, ok := sch["$ref"].(string)
		if !ok {
			return sch
		}
		sch = s.doc["components"].(map[string]any)["schemas"].(map[string]any)[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
}

func (s schemaChecker) check(sch map[string]any, v any, at string) []string {
	sch = s.resolve(sch)
	if v == nil {
		if sch["nullable"] == true || sch["type"] == nil && sch["oneOf"] == nil {
			return nil
		}
		return []string{at + ": null but not nullable"}
	}
	if alts, ok := sch["oneOf"].([]any); ok {
		for _, a := range alts {
			if len(s.check(a.(map[string]any), v, at)) == 0 {
				return nil
			}
		}
		return []string{at + ": matches no oneOf alternative"}
	}
	var errs []string
	if enum, ok := sch["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || e == v
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v not in enum", at, v))
		}
	}
	switch sch["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return append(errs, at+": not an object")
		}
		errs = append(errs, s.checkObject(sch, obj, at)...)
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return append(errs, at+": not an array")
		}
		if m, ok := sch["maxItems"].(float64); ok && float64(len(arr)) > m {
			errs = append(errs, fmt.Sprintf("%s: %d items > maxItems %v", at, len(arr), m))
		}
		if items, ok := sch["items"].(map[string]any); ok {
			for i, e := range arr {
				errs = append(errs, s.check(items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return append(errs, at+": not a string")
		}
		if m, ok := sch["maxLength"].(float64); ok && float64(utf8.RuneCountInString(str)) > m {
			errs = append(errs, at+": longer than maxLength")
		}
		if sch["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				errs = append(errs, at+": not a date-time")
			}
		}
	case "integer", "number":
		n, ok := v.(float64)
		if !ok || sch["type"] == "integer" && n != math.Trunc(n) {
			return append(errs, fmt.Sprintf("%s: %v is not a %s", at, v, sch["type"]))
		}
		if m, ok := sch["minimum"].(float64); ok && n < m {
			errs = append(errs, at+": below minimum")
		}
		if m, ok := sch["maximum"].(float64); ok && n > m {
			errs = append(errs, at+": above maximum")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, at+": not a boolean")
		}
	}
	return errs
}

func (s schemaChecker) checkObject(sch, obj map[string]any, at string) []string {
	var errs []string
	props, _ := sch["properties"].(map[string]any)
	for _, r := range asStrings(sch["required"]) {
		if _, ok := obj[r]; !ok {
			errs = append(errs, at+": missing required "+r)
		}
	}
	for k, val := range obj {
		if p, ok := props[k].(map[string]any); ok {
			errs = append(errs, s.check(p, val, at+"."+k)...)
			continue
		}
		switch extra := sch["additionalProperties"].(type) {
		case bool:
			if !extra {
				errs = append(errs, at+": undocumented property "+k)
			}
		case map[string]any:
			errs = append(errs, s.check(extra, val, at+"."+k)...)
		}
	}
	return errs
}

func asStrings(v any) []string {
	var out []string
	for _, s := range asSlice(v) {
		out = append(out, s.(string))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// apiCall is one request of the OpenAPI check, named by its documented path template.
type apiCall struct {
	path, method string
	req          *http.Request
	client       *http.Client
	want         int
}

func TestOpenAPIMatchesResponses(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	failed := e.insert(t, fixture{Status: models.StatusFailed, Subject: "Forderung"})
	failed2 := e.insert(t, fixture{Status: models.StatusFailed})
	done := e.insert(t, fixture{Status: models.StatusCompleted})
	e.insert(t, fixture{Status: models.StatusQueued})
	stored := e.storeFailed(t, []byte("{\"from_email\":\"nope\",\"subject\":\"\xff\"}"), "subject contained NUL characters or invalid UTF-8 (removed)")
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET started_at=now()-interval '3 seconds', completed_at=now(), cleaned_body='x',
		extracted_data='{"is_creditor_reply":true}', match_status='needs_review', match_confidence=0.5, matched_inquiry_id=3,
		match_details='{"candidates":[]}', sync_status='pending', token_count_before=10, token_count_after=5 WHERE id=?`, done).Error)
	outcome, fin := models.OutcomeRetry, time.Now()
	require.NoError(t, e.db.Create(&models.EmailAttempt{IncomingEmailID: done, Attempt: 1, Worker: "w", LeaseToken: "lt",
		StartedAt: fin.Add(-time.Second), FinishedAt: &fin, Outcome: &outcome}).Error)
	require.NoError(t, e.db.Create(&models.EmailAttempt{IncomingEmailID: done, Attempt: 2, Worker: "w", LeaseToken: "lt2", StartedAt: fin}).Error)
	size, reader, pages, excerpt := int64(2048), "pdf_text", 2, "Gesamtforderung 1.212,40 €"
	require.NoError(t, e.db.Create(&models.EmailAttachment{IncomingEmailID: done, Position: 0, Filename: "forderung.pdf",
		ContentType: "application/pdf", SizeBytes: &size, Status: models.AttachmentRead, Reader: &reader, Pages: &pages,
		Text: &excerpt, Attempts: 1}).Error)
	require.NoError(t, e.db.Create(&models.EmailAttachment{IncomingEmailID: done, Position: 1, Filename: "scan.zip",
		Status: models.AttachmentUnreadable, Error: &excerpt, Attempts: 1}).Error)
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET extracted_data = ? WHERE id = ?`, models.MustJSON(models.ExtractedData{
		IsCreditorReply: true, AmountEvidence: []models.AmountEvidence{{Source: models.AttachmentSource(0), Amount: 1212.40,
			Label: "Gesamtforderung", Excerpt: excerpt, Chosen: true}}}), done).Error)

	res, err := http.Get(e.srv.URL + "/api/v1/openapi.json")
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Equal(t, "3.0.3", doc["openapi"])
	checker := schemaChecker{doc: doc}

	signedIn := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, signedIn.signIn(adminToken).StatusCode)
	signedIn.do(http.MethodGet, "/admin", nil)
	csrf := signedIn.csrf()
	anon := newBrowser(t, e).c
	loginForm := newBrowser(t, e)
	loginForm.do(http.MethodGet, "/admin/login", nil)
	loginForm2 := newBrowser(t, e)
	loginForm2.do(http.MethodGet, "/admin/login", nil)

	reqAt := func(base, method, path, auth, body string, header ...string) *http.Request {
		r, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		return r
	}
	req := func(method, path, auth, body string, header ...string) *http.Request {
		return reqAt(e.srv.URL, method, path, auth, body, header...)
	}
	signedWith := func(secret, body string) *http.Request {
		ts := time.Now().UTC().Format(time.RFC3339)
		return req(http.MethodPost, "/api/v1/zendesk/webhook", "", body,
			"Content-Type", "application/json", "X-Zendesk-Webhook-Signature-Timestamp", ts,
			"X-Zendesk-Webhook-Signature", handlers.Sign(secret, ts, []byte(body)))
	}
	webhook := func(body string) *http.Request { return signedWith(webhookSecret, body) }
	form := func(path string, v url.Values) *http.Request {
		return req(http.MethodPost, path, "", v.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	}
	const (
		hook   = "/api/v1/zendesk/webhook"
		list   = "/api/v1/jobs"
		one    = "/api/v1/jobs/{id}"
		retry  = "/api/v1/jobs/{id}/retry"
		bulk   = "/api/v1/jobs/retry"
		page   = "/admin"
		detail = "/admin/jobs/{id}"
		pretry = "/admin/jobs/{id}/retry"
		login  = "/admin/login"
		logout = "/admin/logout"
		queue  = "/api/v1/reviews"
		decide = "/api/v1/jobs/{id}/review"
	)
	heldA, heldB, heldC := e.held(t, 2*time.Hour), e.held(t, time.Hour), e.held(t, time.Minute)
	bare := e.insert(t, fixture{}) // held, but its extraction is unreadable
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET match_status='needs_review', matched_inquiry_id=? WHERE id=?`, heldC.Inquiry, bare).Error)
	pqueue, pcase := "/admin/reviews", "/admin/reviews/{id}"
	caseAt := func(id uint64) string { return fmt.Sprintf("/admin/reviews/%d", id) }
	decideAt := func(id uint64) string { return fmt.Sprintf("%s/%d/review", list, id) }
	good := `{"ticket_id":123,"from_email":"a@creditor.example","body_text":"Forderung 100 EUR"}`
	calls := []apiCall{
		{hook, "post", webhook(good), nil, 200},
		{hook, "post", signedWith(zendeskTestSecret, `{"text":"Test"}`), nil, 200},
		{hook, "post", webhook(`{"ticket_id":"dup","from_email":"a@creditor.example","body_text":"x"}`), nil, 200},
		{hook, "post", webhook(`[{"from_email":"a@creditor.example"}]`), nil, 400},
		{hook, "post", req(http.MethodPost, hook, "", good), nil, 401},
		{hook, "post", webhook(`{"body_text":"` + strings.Repeat("x", 5000) + `"}`), nil, 413},
		{hook, "post", webhook(`{"ticket_id":"down","from_email":"a@creditor.example","body_text":"x"}`), nil, 503},
		{"/healthz", "get", req(http.MethodGet, "/healthz", "", ""), nil, 200},
		{"/readyz", "get", req(http.MethodGet, "/readyz", "", ""), nil, 200},
		{"/healthz", "head", req(http.MethodHead, "/healthz", "", ""), nil, 200},
		{"/readyz", "head", req(http.MethodHead, "/readyz", "", ""), nil, 200},
		{"/metrics", "get", req(http.MethodGet, "/metrics", "", ""), nil, 200},
		{"/api/v1/openapi.json", "get", req(http.MethodGet, "/api/v1/openapi.json", "", ""), nil, 200},
		{list, "get", req(http.MethodGet, list+"?limit=2", adminToken, ""), nil, 200},
		{list, "get", req(http.MethodGet, list+"?status=failed&from=creditor&since=2020-01-01T00:00:00Z", adminToken, ""), nil, 200},
		{list, "get", req(http.MethodGet, list+"?limit=500", adminToken, ""), nil, 400},
		{list, "get", req(http.MethodGet, list, "", ""), nil, 401},
		{one, "get", req(http.MethodGet, fmt.Sprintf("%s/%d", list, done), adminToken, ""), nil, 200},
		{one, "get", req(http.MethodGet, fmt.Sprintf("%s/%d", list, failed), adminToken, ""), nil, 200},
		{one, "get", req(http.MethodGet, fmt.Sprintf("%s/%d", list, stored), adminToken, ""), nil, 200},
		{one, "get", req(http.MethodGet, list+"/abc", adminToken, ""), nil, 400},
		{one, "get", req(http.MethodGet, list+"/1", "wrong", ""), nil, 401},
		{one, "get", req(http.MethodGet, list+"/999999", adminToken, ""), nil, 404},
		{retry, "post", req(http.MethodPost, fmt.Sprintf("%s/%d/retry", list, failed), adminToken, ""), nil, 200},
		{retry, "post", req(http.MethodPost, list+"/abc/retry", adminToken, ""), nil, 400},
		{retry, "post", req(http.MethodPost, list+"/1/retry", "", ""), nil, 401},
		{retry, "post", req(http.MethodPost, list+"/999999/retry", adminToken, ""), nil, 404},
		{retry, "post", req(http.MethodPost, fmt.Sprintf("%s/%d/retry", list, done), adminToken, ""), nil, 409},
		{retry, "post", req(http.MethodPost, fmt.Sprintf("%s/%d/retry", list, stored), adminToken, ""), nil, 409},
		{bulk, "post", req(http.MethodPost, bulk, adminToken, `{"status":"failed","dry_run":true}`), nil, 200},
		{bulk, "post", req(http.MethodPost, bulk, adminToken, `{"status":"failed","from":"creditor","until":"2100-01-01T00:00:00Z"}`), nil, 200},
		{bulk, "post", req(http.MethodPost, bulk, adminToken, `{"status":"completed"}`), nil, 400},
		{bulk, "post", req(http.MethodPost, bulk, "", `{"status":"failed"}`), nil, 401},
		{bulk, "post", req(http.MethodPost, bulk, adminToken, `{"from":"`+strings.Repeat("a", 70<<10)+`"}`), nil, 413},
		{queue, "get", req(http.MethodGet, queue, adminToken, ""), nil, 200},
		{queue, "get", req(http.MethodGet, queue+"?reason=amount_change&from=inkasso&limit=1", adminToken, ""), nil, 200},
		{queue, "get", req(http.MethodGet, queue+"?reason=bogus", adminToken, ""), nil, 400},
		{queue, "get", req(http.MethodGet, queue, "", ""), nil, 401},
		{decide, "post", req(http.MethodPost, decideAt(heldA.ID), adminToken, `{"action":"approve"}`), nil, 200},
		{decide, "post", req(http.MethodPost, decideAt(heldB.ID), adminToken, `{"action":"correct","amount":1200,"note":"Aufstellung S. 2"}`), nil, 200},
		{decide, "post", req(http.MethodPost, decideAt(heldB.ID), adminToken, `{"action":"approve","extra":1}`), nil, 400},
		{decide, "post", req(http.MethodPost, list+"/abc/review", adminToken, `{"action":"approve"}`), nil, 400},
		{decide, "post", req(http.MethodPost, decideAt(heldB.ID), "", `{"action":"approve"}`), nil, 401},
		{decide, "post", req(http.MethodPost, decideAt(999999), adminToken, `{"action":"approve"}`), nil, 404},
		{decide, "post", req(http.MethodPost, decideAt(heldA.ID), adminToken, `{"action":"reject"}`), nil, 409},
		{decide, "post", req(http.MethodPost, decideAt(failed2), adminToken, `{"action":"reject"}`), nil, 409},
		{decide, "post", req(http.MethodPost, decideAt(heldB.ID), adminToken, `{"action":"reject","note":"`+strings.Repeat("x", 17<<10)+`"}`), nil, 413},
		{one, "get", req(http.MethodGet, fmt.Sprintf("%s/%d", list, heldB.ID), adminToken, ""), nil, 200}, // with its decision
		{page, "get", req(http.MethodGet, "/admin", "", ""), signedIn.c, 200},
		{page, "get", req(http.MethodGet, "/admin", "", ""), anon, 303},
		{page, "get", req(http.MethodGet, "/admin?limit=x", "", ""), signedIn.c, 400},
		{detail, "get", req(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", done), "", ""), signedIn.c, 200},
		{detail, "get", req(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", stored), "", ""), signedIn.c, 200},
		{detail, "get", req(http.MethodGet, "/admin/jobs/1", "", ""), anon, 303},
		{detail, "get", req(http.MethodGet, "/admin/jobs/x", "", ""), signedIn.c, 400},
		{detail, "get", req(http.MethodGet, "/admin/jobs/999999", "", ""), signedIn.c, 404},
		{pretry, "post", form(fmt.Sprintf("/admin/jobs/%d/retry", failed2), url.Values{"csrf_token": {csrf}}), signedIn.c, 303},
		{pretry, "post", form(fmt.Sprintf("/admin/jobs/%d/retry", failed2), url.Values{}), signedIn.c, 403},
		{pretry, "post", form("/admin/jobs/999999/retry", url.Values{"csrf_token": {csrf}}), signedIn.c, 404},
		{pqueue, "get", req(http.MethodGet, pqueue, "", ""), signedIn.c, 200},
		{pqueue, "get", req(http.MethodGet, pqueue+"?notice=approve&job=1", "", ""), signedIn.c, 200},
		{pqueue, "get", req(http.MethodGet, pqueue, "", ""), anon, 303},
		{pqueue, "get", req(http.MethodGet, pqueue+"?reason=bogus", "", ""), signedIn.c, 400},
		{pcase, "get", req(http.MethodGet, caseAt(heldC.ID), "", ""), signedIn.c, 200},
		{pcase, "get", req(http.MethodGet, caseAt(heldA.ID), "", ""), signedIn.c, 200},
		{pcase, "get", req(http.MethodGet, caseAt(heldC.ID), "", ""), anon, 303},
		{pcase, "get", req(http.MethodGet, "/admin/reviews/x", "", ""), signedIn.c, 400},
		{pcase, "get", req(http.MethodGet, caseAt(999999), "", ""), signedIn.c, 404},
		{pcase, "get", req(http.MethodGet, caseAt(failed2), "", ""), signedIn.c, 409},
		{pcase, "post", form(caseAt(heldC.ID), url.Values{"csrf_token": {csrf}, "action": {"correct"}, "amount": {"12,5"}}), signedIn.c, 400},
		{pcase, "post", form(caseAt(heldC.ID), url.Values{"action": {"approve"}}), signedIn.c, 403},
		{pcase, "post", form(caseAt(999999), url.Values{"csrf_token": {csrf}, "action": {"approve"}}), signedIn.c, 404},
		{pcase, "post", form(caseAt(bare), url.Values{"csrf_token": {csrf}, "action": {"approve"}}), signedIn.c, 409},
		{pcase, "post", form(caseAt(heldC.ID), url.Values{"csrf_token": {csrf}, "action": {"approve"}}), signedIn.c, 303},
		{login, "get", req(http.MethodGet, "/admin/login", "", ""), anon, 200},
		{login, "get", req(http.MethodGet, "/admin/login", "", ""), signedIn.c, 303},
		{login, "post", form("/admin/login", url.Values{"csrf_token": {loginForm.csrf()}, "token": {"wrong"}}), loginForm.c, 401},
		{login, "post", form("/admin/login", url.Values{"token": {adminToken}}), anon, 403},
		{login, "post", form("/admin/login", url.Values{"csrf_token": {loginForm2.csrf()}, "token": {adminToken}}), loginForm2.c, 303},
		{logout, "post", form("/admin/logout", url.Values{}), signedIn.c, 403},
		{logout, "post", form("/admin/logout", url.Values{"csrf_token": {csrf}}), signedIn.c, 303},
	}
	covered := map[string]bool{}
	run := func(calls []apiCall) {
		for _, c := range calls {
			name := fmt.Sprintf("%s %s → %d", strings.ToUpper(c.method), c.path, c.want)
			if c.client == nil {
				c.client = anon
			}
			res, err := c.client.Do(c.req)
			require.NoError(t, err, name)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, c.want, res.StatusCode, "%s: %s", name, body)
			covered[fmt.Sprintf("%s %s %d", c.method, c.path, res.StatusCode)] = true
			checkResponse(t, checker, c, res, body, name)
		}
	}
	run(calls)

	// readyz 503 needs the check down.
	e.down.Store(true)
	run([]apiCall{
		{"/readyz", "get", req(http.MethodGet, "/readyz", "", ""), anon, 503},
		{"/readyz", "head", req(http.MethodHead, "/readyz", "", ""), anon, 503},
	})

	// 429 needs an address past its failures: a server allowing one a minute.
	th := newJobsEnv(t, func(d *handlers.Deps) { d.AuthFailuresPerMinute = 1 })
	thLogin := newBrowser(t, th)
	thLogin.do(http.MethodGet, "/admin/login", nil)
	at := func(method, path, auth, body string, header ...string) *http.Request {
		return reqAt(th.srv.URL, method, path, auth, body, header...)
	}
	run([]apiCall{
		{list, "get", at(http.MethodGet, list, "wrong", ""), nil, 401},
		{list, "get", at(http.MethodGet, list, adminToken, ""), nil, 429},
		{one, "get", at(http.MethodGet, list+"/1", adminToken, ""), nil, 429},
		{retry, "post", at(http.MethodPost, list+"/1/retry", adminToken, ""), nil, 429},
		{bulk, "post", at(http.MethodPost, bulk, adminToken, `{"status":"failed"}`), nil, 429},
		{login, "post", at(http.MethodPost, "/admin/login", "", url.Values{"csrf_token": {thLogin.csrf()}, "token": {adminToken}}.Encode(),
			"Content-Type", "application/x-www-form-urlencoded"), thLogin.c, 429},
	})

	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			for status := range op.(map[string]any)["responses"].(map[string]any) {
				require.True(t, covered[fmt.Sprintf("%s %s %s", method, path, status)], "documented but not exercised: %s %s %s", method, path, status)
			}
		}
	}
}

// checkResponse finds the documented response and validates the body against it.
func checkResponse(t *testing.T, checker schemaChecker, c apiCall, res *http.Response, body []byte, name string) {
	t.Helper()
	op, ok := checker.doc["paths"].(map[string]any)[c.path].(map[string]any)[c.method].(map[string]any)
	require.True(t, ok, "%s: operation not documented", name)
	doc, ok := op["responses"].(map[string]any)[fmt.Sprint(res.StatusCode)].(map[string]any)
	require.True(t, ok, "%s: status not documented", name)
	content, _ := doc["content"].(map[string]any)
	if content == nil {
		return
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	require.NoError(t, err, name)
	media, ok := content[mt].(map[string]any)
	require.True(t, ok, "%s: content type %s not documented", name, mt)
	if mt != "application/json" {
		return
	}
	var v any
	require.NoError(t, json.Unmarshal(body, &v), name)
	errs := checker.check(media["schema"].(map[string]any), v, "$")
	require.Empty(t, errs, "%s: %s", name, body)
}

// TestSchemaCheckerCatchesMismatches keeps the checker honest: a checker that
// accepts everything would make the OpenAPI test pass vacuously.
func TestSchemaCheckerCatchesMismatches(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	// The file the handler embeds; TestOpenAPIMatchesResponses fetches it over HTTP.
	raw, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &doc))
	c := schemaChecker{doc: doc}
	ref := map[string]any{"$ref": "#/components/schemas/Retried"}
	require.Empty(t, c.check(ref, map[string]any{"id": 1.0, "status": "queued"}, "$"))
	for _, bad := range []any{
		map[string]any{"id": 1.0},
		map[string]any{"id": 1.5, "status": "queued"},
		map[string]any{"id": 1.0, "status": "failed"},
		map[string]any{"id": 1.0, "status": "queued", "extra": true},
		map[string]any{"id": "1", "status": "queued"},
		nil, []any{},
	} {
		require.NotEmpty(t, c.check(ref, bad, "$"), "%v", bad)
	}
	summary := map[string]any{"$ref": "#/components/schemas/JobSummary"}
	require.NotEmpty(t, c.check(summary, map[string]any{"id": 1.0, "status": "queued", "from_email": "a", "subject": "s",
		"received_at": "yesterday", "started_at": nil, "completed_at": nil, "retry_count": 0.0, "processing_error": nil}, "$"))
}
