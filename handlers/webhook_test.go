package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

const (
	whSecret    = "wh-test-secret-6f1c"
	whTolerance = 5 * time.Minute
	whMaxBody   = 64 << 10
	webhookPath = "/api/v1/zendesk/webhook"
)

// whEnv is one webhook server over real PostgreSQL and Redis.
type whEnv struct {
	db      *gorm.DB
	redis   *apptest.Redis
	queue   *workers.Queue
	secret  string
	now     time.Time
	logs    *apptest.LogBuffer // the server's logs, to check what they leak
	handler http.Handler
}

// whOptions changes one part of the default environment.
type whOptions struct {
	secret   *string
	db       *gorm.DB      // default: a fresh migrated schema
	pusher   intake.Pusher // default: the queue on the env's Redis namespace
	checks   map[string]Pinger
	noIntake bool
	acceptor Acceptor             // default: the real intake service
	webhook  func(*WebhookConfig) // changes the webhook settings
}

func newWHEnv(t *testing.T, o whOptions) *whEnv {
	t.Helper()
	e := &whEnv{secret: whSecret, now: time.Now().UTC(), logs: &apptest.LogBuffer{}}
	if o.secret != nil {
		e.secret = *o.secret
	}
	e.db = o.db
	if e.db == nil {
		e.db = apptest.NewDB(t).DB
	}
	e.redis = apptest.NewRedis(t)
	e.queue = workers.NewQueue(e.redis.Client, e.redis.Namespace, "test")
	pusher := o.pusher
	if pusher == nil {
		pusher = e.queue
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	checks := o.checks
	if checks == nil {
		checks = map[string]Pinger{"postgres": pingDB(e.db), "redis": pingRedis(e.redis.Client)}
	}
	reg := prometheus.NewRegistry()
	wh := WebhookConfig{Secret: e.secret, Tolerance: whTolerance, MaxBodyBytes: whMaxBody, Timeout: 5 * time.Second}
	if o.webhook != nil {
		o.webhook(&wh)
	}
	d := Deps{
		Log: log, Metrics: NewMetrics(reg), Gatherer: reg, Checks: checks, Webhook: wh,
		Now: func() time.Time { return e.now },
	}
	switch {
	case o.acceptor != nil:
		d.Intake = o.acceptor
	case !o.noIntake:
		d.Intake = intake.New(store.New(e.db, e.db), pusher, log)
	}
	e.handler = NewServer(d)
	return e
}

// pingDB and pingRedis are the readiness checks app wires, over the test's stores.
func pingDB(db *gorm.DB) Pinger {
	return func(ctx context.Context) error {
		sqlDB, err := db.DB()
		if err != nil {
			return err
		}
		return sqlDB.PingContext(ctx)
	}
}

func pingRedis(c redis.UniversalClient) Pinger {
	return func(ctx context.Context) error { return c.Ping(ctx).Err() }
}

// whPayload returns a valid webhook body with overrides applied; an override
// of whDelete removes the field.
func whPayload(overrides map[string]any) []byte {
	p := map[string]any{
		"ticket_id":   "ZD-" + apptest.RandomID(),
		"from_email":  "forderung@inkasso-beispiel.de",
		"from_name":   "Inkasso Beispiel GmbH",
		"subject":     "AW: Anfrage Forderungshöhe",
		"body_text":   "Die Gesamtforderung beträgt 1.234,56 EUR.",
		"received_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339),
	}
	for k, v := range overrides {
		if v == whDelete {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

// berlin is where a received_at without a zone is read (intake embeds the
// zone data).
var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// whDelete marks a field whPayload leaves out.
const whDelete = "\x00delete"

// signedHeaders signs body as Zendesk would at ts.
func signedHeaders(secret, ts string, body []byte) map[string]string {
	return map[string]string{headerSignatureTS: ts, headerSignature: Sign(secret, ts, body)}
}

// post sends body with the env's signature (when it has a secret) plus extra headers.
func (e *whEnv) post(t *testing.T, body []byte, extra map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{}
	if e.secret != "" {
		h = signedHeaders(e.secret, e.now.Format(time.RFC3339), body)
	}
	for k, v := range extra {
		h[k] = v
	}
	return e.send(t, http.MethodPost, webhookPath, body, h)
}

// send serves one request with exactly the given headers.
func (e *whEnv) send(t *testing.T, method, path string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// whAccepted decodes a 200 answer.
func whAccepted(t *testing.T, rec *httptest.ResponseRecorder) acceptedBody {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var b acceptedBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
	require.NotZero(t, b.EmailID)
	require.NotEmpty(t, b.Message)
	return b
}

// whError checks the status and the one JSON error shape, and returns the detail.
func whError(t *testing.T, rec *httptest.ResponseRecorder, status int) errorDetail {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &top), rec.Body.String())
	require.Len(t, top, 1, "only the error key: %s", rec.Body.String())
	var b errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
	require.NotEmpty(t, b.Error.Code)
	require.NotEmpty(t, b.Error.Message)
	return b.Error
}

func (e *whEnv) count(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.IncomingEmail{}).Count(&n).Error)
	return n
}

func (e *whEnv) email(t *testing.T, id uint64) models.IncomingEmail {
	t.Helper()
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, id).Error)
	return row
}

// alerts counts the failure_alert outbox rows of the email id.
func (e *whEnv) alerts(t *testing.T, id uint64) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.OutboxMessage{}).
		Where("aggregate_type = ? AND aggregate_id = ?", models.OutboxFailureAlert, id).Count(&n).Error)
	return n
}

func (e *whEnv) ready(t *testing.T) []string {
	t.Helper()
	ids, err := e.redis.Client.LRange(context.Background(), e.queue.Keys().Ready(), 0, -1).Result()
	require.NoError(t, err)
	return ids
}

func TestWebhookSignatureAccepted(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	for name, skew := range map[string]time.Duration{"now": 0, "4m ago": -4 * time.Minute, "4m ahead": 4 * time.Minute} {
		body := whPayload(nil)
		ts := e.now.Add(skew).Format(time.RFC3339)
		rec := e.send(t, http.MethodPost, webhookPath, body, signedHeaders(whSecret, ts, body))
		require.Equal(t, "accepted", whAccepted(t, rec).Status, name)
	}
	require.Equal(t, int64(3), e.count(t))
}

func TestWebhookSignatureRejected(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	body := whPayload(nil)
	ts := e.now.Format(time.RFC3339)
	sig := Sign(whSecret, ts, body)
	cases := map[string]struct {
		body    []byte
		headers map[string]string
	}{
		"wrong secret":      {body, signedHeaders("another-secret", ts, body)},
		"tampered body":     {bytes.Replace(body, []byte("1.234,56"), []byte("9.999,99"), 1), map[string]string{headerSignatureTS: ts, headerSignature: sig}},
		"stale timestamp":   {body, signedHeaders(whSecret, e.now.Add(-whTolerance-time.Second).Format(time.RFC3339), body)},
		"future timestamp":  {body, signedHeaders(whSecret, e.now.Add(whTolerance+time.Second).Format(time.RFC3339), body)},
		"day-old replay":    {body, signedHeaders(whSecret, e.now.Add(-24*time.Hour).Format(time.RFC3339), body)},
		"other timestamp":   {body, map[string]string{headerSignatureTS: e.now.Add(time.Second).Format(time.RFC3339), headerSignature: sig}},
		"missing both":      {body, nil},
		"missing signature": {body, map[string]string{headerSignatureTS: ts}},
		"missing timestamp": {body, map[string]string{headerSignature: sig}},
		"empty signature":   {body, map[string]string{headerSignatureTS: ts, headerSignature: ""}},
		"garbage base64":    {body, map[string]string{headerSignatureTS: ts, headerSignature: "%%%not base64!!"}},
		"short signature":   {body, map[string]string{headerSignatureTS: ts, headerSignature: "YWJj"}},
		"hex signature":     {body, map[string]string{headerSignatureTS: ts, headerSignature: fmt.Sprintf("%x", signature([]byte(whSecret), ts, body))}},
		"body-only hmac":    {body, map[string]string{headerSignatureTS: ts, headerSignature: Sign(whSecret, "", body)}},
		"unix timestamp":    {body, signedHeaders(whSecret, strconv.FormatInt(e.now.Unix(), 10), body)},
		"RFC1123 timestamp": {body, signedHeaders(whSecret, e.now.Format(time.RFC1123), body)},
		"garbage timestamp": {body, signedHeaders(whSecret, "yesterday", body)},
	}
	t.Run("cases", func(t *testing.T) {
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rec := e.send(t, http.MethodPost, webhookPath, tc.body, tc.headers)
				d := whError(t, rec, http.StatusUnauthorized)
				require.Equal(t, models.EUNAUTHORIZED, d.Code)
			})
		}
	})
	require.Zero(t, e.count(t), "no rejected delivery is stored")
	require.Empty(t, e.ready(t))
}

func TestWebhookUnsignedWhenNoSecret(t *testing.T) {
	t.Parallel()
	empty := ""
	e := newWHEnv(t, whOptions{secret: &empty})
	rec := e.send(t, http.MethodPost, webhookPath, whPayload(nil), nil)
	require.Equal(t, "accepted", whAccepted(t, rec).Status)

	// Headers, even broken ones, are ignored without a secret.
	rec = e.send(t, http.MethodPost, webhookPath, whPayload(nil), map[string]string{headerSignature: "garbage", headerSignatureTS: "x"})
	require.Equal(t, "accepted", whAccepted(t, rec).Status)
	require.Equal(t, int64(2), e.count(t))
	require.Equal(t, 1, strings.Count(e.logs.String(), "accepting unsigned webhooks"), "warned once")
}

// recordingAcceptor keeps what the handler hands to intake and accepts it.
type recordingAcceptor struct {
	mu  sync.Mutex
	got []intake.Email
}

func (a *recordingAcceptor) Accept(_ context.Context, e intake.Email) (intake.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, e)
	return intake.Result{ID: uint64(len(a.got))}, nil
}

// last returns the email of the latest Accept call.
func (a *recordingAcceptor) last(t *testing.T) intake.Email {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	require.NotEmpty(t, a.got, "nothing reached intake")
	return a.got[len(a.got)-1]
}

// TestWebhookNotAnObject: only a body that is not a JSON object is a 400.
func TestWebhookNotAnObject(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	for name, body := range map[string][]byte{
		"array body":       []byte(`[{"ticket_id":1}]`),
		"string body":      []byte(`"hello"`),
		"number body":      []byte(`42`),
		"null body":        []byte(`null`),
		"empty body":       []byte(``),
		"whitespace body":  []byte(" \n "),
		"truncated JSON":   whPayload(nil)[:40],
		"trailing garbage": append(whPayload(nil), []byte(`}x`)...),
		"two objects":      append(whPayload(nil), whPayload(nil)...),
		"form body":        []byte(`ticket_id=1&from_email=a@b.de`),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := whError(t, e.post(t, body, nil), http.StatusBadRequest)
			require.Equal(t, models.EINVALID, d.Code)
		})
	}
	require.Zero(t, e.count(t))
}

// TestWebhookUnusableFieldsReachIntake: a signed JSON object whose fields
// are missing or unusable is no 400 (Zendesk never retries one): it goes to
// intake with the fields named in Problems and the raw body kept.
func TestWebhookUnusableFieldsReachIntake(t *testing.T) {
	t.Parallel()
	acc := &recordingAcceptor{}
	e := newWHEnv(t, whOptions{acceptor: acc})
	cases := map[string]struct {
		body  []byte
		field string
	}{
		"missing ticket_id":      {whPayload(map[string]any{"ticket_id": whDelete}), "ticket_id"},
		"null ticket_id":         {whPayload(map[string]any{"ticket_id": nil}), "ticket_id"},
		"blank ticket_id":        {whPayload(map[string]any{"ticket_id": "  "}), "ticket_id"},
		"negative ticket_id":     {whPayload(map[string]any{"ticket_id": -5}), "ticket_id"},
		"float ticket_id":        {whPayload(map[string]any{"ticket_id": 1.5}), "ticket_id"},
		"exponent ticket_id":     {[]byte(strings.Replace(string(whPayload(map[string]any{"ticket_id": 7})), `"ticket_id":7`, `"ticket_id":1e3`, 1)), "ticket_id"},
		"bool ticket_id":         {whPayload(map[string]any{"ticket_id": true}), "ticket_id"},
		"object ticket_id":       {whPayload(map[string]any{"ticket_id": map[string]any{"id": 1}}), "ticket_id"},
		"huge ticket_id":         {whPayload(map[string]any{"ticket_id": strings.Repeat("9", 300)}), "ticket_id"},
		"missing from_email":     {whPayload(map[string]any{"from_email": whDelete}), "from_email"},
		"bad from_email":         {whPayload(map[string]any{"from_email": "not-an-address"}), "from_email"},
		"two from_emails":        {whPayload(map[string]any{"from_email": "a@b.de, c@d.de"}), "from_email"},
		"numeric from_email":     {whPayload(map[string]any{"from_email": 5}), "from_email"},
		"http attachment":        {whPayload(map[string]any{"attachments": []map[string]any{{"url": "http://files.example/a.pdf"}}}), "attachments[0].url"},
		"relative attachment":    {whPayload(map[string]any{"attachments": []map[string]any{{"url": "https://ok.example/a.pdf"}, {"url": "/a.pdf"}}}), "attachments[1].url"},
		"javascript attachment":  {whPayload(map[string]any{"attachments": []map[string]any{{"url": "javascript:alert(1)"}}}), "attachments[0].url"},
		"http content_url":       {whPayload(map[string]any{"attachments": []map[string]any{{"url": "https://a.example/api", "content_url": "http://a.example/f"}}}), "attachments[0].content_url"},
		"attachment not object":  {whPayload(map[string]any{"attachments": []any{"https://x.example/a"}}), "attachments[0]"},
		"attachments wrong type": {whPayload(map[string]any{"attachments": "https://x.example/a"}), "attachments"},
		"too many attachments":   {whPayload(map[string]any{"attachments": make([]map[string]any, intake.MaxAttachments+1)}), "attachments"},
		"no body at all":         {whPayload(map[string]any{"body_text": whDelete}), "body_text"},
		"subject too long":       {whPayload(map[string]any{"subject": strings.Repeat("x", intake.MaxSubject+1)}), "subject"},
		"from_name too long":     {whPayload(map[string]any{"from_name": strings.Repeat("ü", intake.MaxShortField+1)}), "from_name"},
		"subject wrong type":     {whPayload(map[string]any{"subject": 12}), "subject"},
		"body_text wrong type":   {whPayload(map[string]any{"body_text": []string{"a"}}), "body_text"},
		"empty object":           {[]byte(`{}`), "from_email"},
	}
	for name, tc := range cases {
		rec := e.post(t, tc.body, nil)
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body.String())
		got := acc.last(t)
		require.Contains(t, got.Problems, tc.field, "%s: problems %v", name, got.Problems)
		require.NotEmpty(t, got.Problems[tc.field], name)
		require.Equal(t, tc.body, got.RawPayload, "%s: the raw body is kept", name)
		require.NotEmpty(t, got.DedupKey, name)
	}

	// Every problem at once, each named.
	body := []byte(`{"ticket_id": -1, "from_email": "nope", "received_at": "soon",
		"attachments": [{"url": "http://x.example/a"}], "body_text": "x"}`)
	require.Equal(t, http.StatusOK, e.post(t, body, nil).Code)
	got := acc.last(t)
	require.Equal(t, map[string]string{
		"ticket_id":          "must be a string or a positive whole number",
		"from_email":         "must be a valid e-mail address",
		"attachments[0].url": "must be an https URL",
	}, got.Problems)
	require.Equal(t, []string{"received_at unparseable (kept time of receipt)"}, got.Warnings)

	// A usable email carries no problems and no raw payload.
	require.Equal(t, http.StatusOK, e.post(t, whPayload(nil), nil).Code)
	require.Empty(t, acc.last(t).Problems)
	require.Nil(t, acc.last(t).RawPayload)
}

// TestWebhookUnusableStoredFailed: with the real intake, a signed delivery
// whose fields are unusable is never refused (Zendesk drops a 400, and a
// 503 only delays the loss): it is answered 200 with its email id and
// stored failed with its raw payload, warnings, the fields named and one
// failure alert; Zendesk's retry of it is a duplicate, still one alert.
func TestWebhookUnusableStoredFailed(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	cases := map[string]struct {
		body   []byte
		fields []string
	}{
		"missing ticket_id": {whPayload(map[string]any{"ticket_id": whDelete}), []string{"ticket_id"}},
		"bad from_email":    {whPayload(map[string]any{"from_email": "not-an-address"}), []string{"from_email"}},
		"wrong types": {whPayload(map[string]any{"ticket_id": true, "subject": 12, "attachments": "x"}),
			[]string{"attachments", "subject", "ticket_id"}},
		"over-long fields": {whPayload(map[string]any{"subject": strings.Repeat("x", intake.MaxSubject+1),
			"from_name": strings.Repeat("ü", intake.MaxShortField+1)}), []string{"from_name", "subject"}},
		"bytes no text can hold": {[]byte("{\"ticket_id\":\"\\u0000\",\"from_email\":\"a@b.de\",\"body_text\":7,\"subject\":\"\xff\"}"),
			[]string{"body_text", "ticket_id"}},
	}
	for name, tc := range cases {
		rec := e.post(t, tc.body, nil)
		b := whAccepted(t, rec)
		require.Equal(t, "accepted", b.Status, name)
		require.Contains(t, b.Message, "failed", name)
		row := e.email(t, b.EmailID)
		require.Equal(t, models.StatusFailed, row.ProcessingStatus, name)
		require.Equal(t, tc.body, row.RawPayload, "%s: the raw body, byte for byte", name)
		require.NotNil(t, row.ProcessingError, name)
		for _, f := range tc.fields {
			require.Contains(t, *row.ProcessingError, f+": ", name)
		}
		require.EqualValues(t, 1, e.alerts(t, b.EmailID), name)

		again := whAccepted(t, e.post(t, tc.body, nil))
		require.Equal(t, acceptedBody{Status: "duplicate", Message: "email already received", EmailID: b.EmailID}, again, name)
		require.EqualValues(t, 1, e.alerts(t, b.EmailID), "%s: still one alert", name)
	}
	require.EqualValues(t, len(cases), e.count(t))
	require.Empty(t, e.ready(t), "nothing queued")
	row := e.email(t, whAccepted(t, e.post(t, cases["bytes no text can hold"].body, nil)).EmailID)
	require.JSONEq(t, `["ticket_id contained NUL characters or invalid UTF-8 (removed)",
		"subject contained NUL characters or invalid UTF-8 (removed)"]`, string(row.IntakeWarnings))
	require.Contains(t, e.logs.String(), `"fields":["from_email"]`, "the log names the fields, never their content")
	require.NotContains(t, e.logs.String(), "not-an-address")
}

// TestWebhookPayloadAccepted stores what Zendesk's placeholders and mail
// systems send, including the forms the old service accepted (issue 14, 3).
func TestWebhookPayloadAccepted(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	at := e.now.Add(-2 * time.Hour).Truncate(time.Second)
	cet := time.FixedZone("CET", 3600)
	// wall reads at's UTC wall clock in Europe/Berlin, as a zoneless date is.
	wall := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, berlin)
	}
	earlier := at.Add(-72 * time.Hour)
	midnight := time.Date(earlier.Year(), earlier.Month(), earlier.Day(), 0, 0, 0, 0, berlin)
	cases := map[string]struct {
		over     map[string]any
		ticket   string
		received time.Time // zero: not checked
	}{
		"numeric ticket_id":       {map[string]any{"ticket_id": 12345}, "12345", time.Time{}},
		"string ticket_id":        {map[string]any{"ticket_id": " 12345-A "}, "12345-A", time.Time{}},
		"RFC 3339 UTC":            {map[string]any{"ticket_id": 1, "received_at": at.Format(time.RFC3339)}, "1", at},
		"RFC 3339 offset":         {map[string]any{"ticket_id": 2, "received_at": at.In(cet).Format(time.RFC3339)}, "2", at},
		"RFC 3339 nano":           {map[string]any{"ticket_id": 3, "received_at": at.Add(123 * time.Millisecond).Format(time.RFC3339Nano)}, "3", at.Add(123 * time.Millisecond)},
		"RFC 3339 no seconds":     {map[string]any{"ticket_id": 13, "received_at": at.Format("2006-01-02T15:04Z")}, "13", at.Truncate(time.Minute)},
		"RFC 3339 offset, no sec": {map[string]any{"ticket_id": 14, "received_at": at.In(cet).Format("2006-01-02T15:04-07:00")}, "14", at.Truncate(time.Minute)},
		"RFC 1123Z":               {map[string]any{"ticket_id": 4, "received_at": at.In(cet).Format(time.RFC1123Z)}, "4", at},
		"RFC 1123 GMT":            {map[string]any{"ticket_id": 15, "received_at": at.Format(http.TimeFormat)}, "15", at},
		"RFC 1123 CET":            {map[string]any{"ticket_id": 16, "received_at": at.In(berlin).Format(time.RFC1123)}, "16", at},
		"mail date":               {map[string]any{"ticket_id": 5, "received_at": at.In(cet).Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")}, "5", at},
		"German date and time":    {map[string]any{"ticket_id": 6, "received_at": at.Format("02.01.2006 15:04:05")}, "6", wall(at)},
		"German, no seconds":      {map[string]any{"ticket_id": 17, "received_at": at.Format("02.01.2006 15:04")}, "17", wall(at.Truncate(time.Minute))},
		"German date only":        {map[string]any{"ticket_id": 18, "received_at": earlier.Format("02.01.2006")}, "18", midnight},
		"December 5, 2026":        {map[string]any{"ticket_id": 19, "received_at": earlier.Format("January 2, 2006")}, "19", midnight},
		"Dec 5, 2026":             {map[string]any{"ticket_id": 20, "received_at": earlier.Format("Jan 2, 2006")}, "20", midnight},
		"today, no time":          {map[string]any{"ticket_id": 21, "received_at": e.now.In(berlin).Format("January 2, 2006")}, "21", e.now},
		"unparseable received_at": {map[string]any{"ticket_id": 22, "received_at": "yesterday"}, "22", e.now},
		"received_at as a number": {map[string]any{"ticket_id": 23, "received_at": 1774415367}, "23", e.now},
		"received_at in 1970":     {map[string]any{"ticket_id": 24, "received_at": "1970-01-01T00:00:00Z"}, "24", e.now},
		"received_at next week":   {map[string]any{"ticket_id": 25, "received_at": e.now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}, "25", e.now},
		"no received_at":          {map[string]any{"ticket_id": 7, "received_at": whDelete}, "7", e.now},
		"html only":               {map[string]any{"ticket_id": 8, "body_text": whDelete, "body_html": "<p>Forderung 10 EUR</p>"}, "8", time.Time{}},
		"unknown fields":          {map[string]any{"ticket_id": 9, "priority": "high", "tags": []string{"a"}}, "9", time.Time{}},
		"uppercase from_email":    {map[string]any{"ticket_id": 10, "from_email": "Forderung@Inkasso.DE"}, "10", time.Time{}},
		"webhook_id as a number":  {map[string]any{"ticket_id": 11, "webhook_id": 998877}, "11", time.Time{}},
		"unusable webhook_id":     {map[string]any{"ticket_id": 26, "webhook_id": -1}, "26", time.Time{}},
		"attachment only no body": {map[string]any{"ticket_id": 12, "body_text": whDelete, "attachments": []map[string]any{{"url": "https://z.example/a.pdf"}}}, "12", time.Time{}},
		"named from_email":        {map[string]any{"ticket_id": 27, "from_email": "Inkasso <a@b.de>"}, "27", time.Time{}},
		"null fields":             {map[string]any{"ticket_id": 28, "subject": nil, "from_name": nil, "attachments": nil}, "28", time.Time{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := whAccepted(t, e.post(t, whPayload(tc.over), nil))
			require.Equal(t, "accepted", b.Status)
			row := e.email(t, b.EmailID)
			require.Equal(t, tc.ticket, row.ZendeskTicketID)
			if !tc.received.IsZero() {
				require.WithinDuration(t, tc.received, row.ReceivedAt, time.Millisecond, "stored %s", row.ReceivedAt)
			}
		})
	}
}

// TestWebhookTolerantFields: the examples of signed deliveries the
// old service accepted, stored with the values meant.
func TestWebhookTolerantFields(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	b := whAccepted(t, e.post(t, whPayload(map[string]any{
		"from_email": `"Inkasso Beispiel GmbH" <Forderung@Inkasso-Beispiel.DE>`, "from_name": whDelete,
		"attachments": []map[string]any{
			{"url": "https://acme.zendesk.com/api/v2/attachments/1.json", "content_url": "https://acme.zendesk.com/attachments/token/abc/?name=F.pdf",
				"file_name": "F.pdf", "content_type": "application/pdf", "size": "48213"},
			{"content_url": "https://acme.zendesk.com/attachments/token/def/?name=s.png", "filename": "s.png", "size": 12.5},
		},
	}), nil))
	row := e.email(t, b.EmailID)
	require.Equal(t, "forderung@inkasso-beispiel.de", row.FromEmail)
	require.Equal(t, "Inkasso Beispiel GmbH", row.FromName, "the name comes from the address when missing")
	var stored []models.Attachment
	require.NoError(t, json.Unmarshal(row.AttachmentURLs, &stored))
	require.Equal(t, []models.Attachment{
		{URL: "https://acme.zendesk.com/attachments/token/abc/?name=F.pdf", Filename: "F.pdf", ContentType: "application/pdf", Size: 48213},
		{URL: "https://acme.zendesk.com/attachments/token/def/?name=s.png", Filename: "s.png"},
	}, stored)

	// A from_name given wins over the address's.
	b = whAccepted(t, e.post(t, whPayload(map[string]any{"from_email": "Other <x@y.de>", "from_name": "Creditor AG"}), nil))
	require.Equal(t, "Creditor AG", e.email(t, b.EmailID).FromName)
}

func TestWebhookStoresAttachmentsAndFields(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	atts := []map[string]any{
		{"url": "https://acme.zendesk.com/attachments/token/abc/?name=Forderung.pdf", "filename": "Forderung.pdf", "content_type": "application/pdf", "size": 48213},
		{"url": "https://acme.zendesk.com/attachments/token/def/?name=scan.png"},
	}
	b := whAccepted(t, e.post(t, whPayload(map[string]any{
		"ticket_id": 777, "from_email": "Buchhaltung@Creditor.DE", "from_name": "  Creditor AG ",
		"body_html": "<p>Hallo</p>", "webhook_id": "wh-77", "attachments": atts,
	}), nil))
	row := e.email(t, b.EmailID)
	require.Equal(t, "777", row.ZendeskTicketID)
	require.Equal(t, "buchhaltung@creditor.de", row.FromEmail)
	require.Equal(t, "Creditor AG", row.FromName)
	require.Equal(t, "<p>Hallo</p>", row.RawBodyHTML)
	require.NotNil(t, row.ZendeskWebhookID)
	require.Equal(t, "wh-77", *row.ZendeskWebhookID)
	require.Equal(t, models.SyncNotApplicable, row.SyncStatus)

	var stored []models.Attachment
	require.NoError(t, json.Unmarshal(row.AttachmentURLs, &stored))
	require.Equal(t, []models.Attachment{
		{URL: atts[0]["url"].(string), Filename: "Forderung.pdf", ContentType: "application/pdf", Size: 48213},
		{URL: atts[1]["url"].(string)},
	}, stored)

	// No attachments: an empty array, not NULL.
	b = whAccepted(t, e.post(t, whPayload(nil), nil))
	require.JSONEq(t, `[]`, string(e.email(t, b.EmailID).AttachmentURLs))
}

func TestWebhookOversizeBody(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	big := whPayload(map[string]any{"body_text": strings.Repeat("Forderung ", whMaxBody/10+1)})
	require.Greater(t, len(big), whMaxBody)
	d := whError(t, e.post(t, big, nil), http.StatusRequestEntityTooLarge)
	require.Equal(t, models.ETOOLARGE, d.Code)

	// Unsigned and oversize: still 413, not a crash or a read of the whole body.
	d = whError(t, e.send(t, http.MethodPost, webhookPath, bytes.Repeat([]byte("x"), 4*whMaxBody), nil), http.StatusRequestEntityTooLarge)
	require.Equal(t, models.ETOOLARGE, d.Code)
	require.Zero(t, e.count(t))

	// Just under the limit is fine.
	fits := whPayload(map[string]any{"body_text": strings.Repeat("x", whMaxBody-1000)})
	require.LessOrEqual(t, len(fits), whMaxBody)
	whAccepted(t, e.post(t, fits, nil))
}

func TestWebhookCleansUnstorableText(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	// \u0000 escapes decode to NUL bytes; raw 0xff/0xfe bytes are invalid UTF-8.
	body := []byte("{\"ticket_id\":\"T-\\u0000-1\",\"from_email\":\"a@b.de\",\"from_name\":\"Na\\u0000me \xff\"," +
		"\"subject\":\"Sub\\u0000ject \xff\xfe end\",\"body_text\":\"Be\\u0000trag\\u0000 100 \xc3\x28 EUR\"," +
		"\"body_html\":\"<p>\\u0000</p>\",\"attachments\":[{\"url\":\"https://x.example/a\",\"filename\":\"a\\u0000.pdf\xff\"," +
		"\"content_type\":\"app\\u0000\"}]}")
	b := whAccepted(t, e.post(t, body, map[string]string{headerInvocationID: "inv-\x00-\xff"}))
	row := e.email(t, b.EmailID)
	for _, s := range []string{row.ZendeskTicketID, row.FromName, row.Subject, row.RawBodyText, row.RawBodyHTML, string(row.AttachmentURLs)} {
		require.NotContains(t, s, "\x00")
		require.True(t, utf8.ValidString(s), "%q", s)
	}
	require.Equal(t, "T--1", row.ZendeskTicketID)
	require.Equal(t, "Subject \uFFFD\uFFFD end", row.Subject)
	require.Contains(t, row.RawBodyText, "Betrag 100")
	require.Contains(t, string(row.AttachmentURLs), "a.pdf")
}

func TestWebhookConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	body := whPayload(map[string]any{"webhook_id": "wh-" + apptest.RandomID()})
	const n = 20
	answers := make([]acceptedBody, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec := e.post(t, body, nil)
			if rec.Code == http.StatusOK {
				_ = json.Unmarshal(rec.Body.Bytes(), &answers[i])
			}
		}()
	}
	close(start)
	wg.Wait()

	statuses := map[string]int{}
	for i, a := range answers {
		require.NotZero(t, a.EmailID, "answer %d was not a 200", i)
		require.Equal(t, answers[0].EmailID, a.EmailID, "answer %d", i)
		statuses[a.Status]++
	}
	require.Equal(t, map[string]int{"accepted": 1, "duplicate": n - 1}, statuses)
	require.Equal(t, int64(1), e.count(t))
	require.Equal(t, models.StatusQueued, e.email(t, answers[0].EmailID).ProcessingStatus)
}

func TestWebhookDedupKeys(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})

	t.Run("webhook_id", func(t *testing.T) {
		t.Parallel()
		id := "wh-" + apptest.RandomID()
		first := whAccepted(t, e.post(t, whPayload(map[string]any{"webhook_id": id, "subject": "one"}), nil))
		// Same webhook id, different content and invocation: still the same delivery.
		again := whAccepted(t, e.post(t, whPayload(map[string]any{"webhook_id": id, "subject": "two"}),
			map[string]string{headerInvocationID: "inv-" + apptest.RandomID()}))
		require.Equal(t, "accepted", first.Status)
		require.Equal(t, "duplicate", again.Status)
		require.Equal(t, first.EmailID, again.EmailID)
	})

	t.Run("invocation id is no key", func(t *testing.T) {
		t.Parallel()
		// The same signed body resent with other, or no, invocation ids and
		// a fresh signature is one email: the raw body's digest is the key.
		body := whPayload(map[string]any{"ticket_id": "R-" + apptest.RandomID()})
		first := whAccepted(t, e.post(t, body, map[string]string{headerInvocationID: "inv-" + apptest.RandomID()}))
		require.Equal(t, "accepted", first.Status)
		for _, h := range []map[string]string{
			{headerInvocationID: "inv-" + apptest.RandomID()}, nil, {headerInvocationID: ""},
			signedHeaders(whSecret, e.now.Add(-time.Minute).Format(time.RFC3339), body),
		} {
			again := whAccepted(t, e.post(t, body, h))
			require.Equal(t, "duplicate", again.Status)
			require.Equal(t, first.EmailID, again.EmailID)
		}
		// One invocation id on different bodies does not merge them.
		inv := map[string]string{headerInvocationID: "inv-" + apptest.RandomID()}
		a := whAccepted(t, e.post(t, whPayload(map[string]any{"subject": "a"}), inv))
		b := whAccepted(t, e.post(t, whPayload(map[string]any{"subject": "b"}), inv))
		require.Equal(t, "accepted", b.Status)
		require.NotEqual(t, a.EmailID, b.EmailID)
	})

	t.Run("content", func(t *testing.T) {
		t.Parallel()
		body := whPayload(map[string]any{"ticket_id": "C-" + apptest.RandomID()})
		first := whAccepted(t, e.post(t, body, nil))
		again := whAccepted(t, e.post(t, body, nil))
		require.Equal(t, "accepted", first.Status)
		require.Equal(t, "duplicate", again.Status)
		require.Equal(t, first.EmailID, again.EmailID)

		// Different content is a different email.
		var p map[string]any
		require.NoError(t, json.Unmarshal(body, &p))
		p["body_text"] = "Die Forderung ist beglichen."
		other, _ := json.Marshal(p)
		third := whAccepted(t, e.post(t, other, nil))
		require.Equal(t, "accepted", third.Status)
		require.NotEqual(t, first.EmailID, third.EmailID)
	})
}

// deadRedis returns a Redis client that never connects (nothing listens on port 1).
func deadRedis(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// whDeadRedis returns a queue whose Redis never answers.
func whDeadRedis(t *testing.T) *workers.Queue {
	t.Helper()
	return workers.NewQueue(deadRedis(t), "dead_"+apptest.RandomID(), "test")
}

func TestWebhookDispatchesToRedis(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	body := whPayload(nil)
	b := whAccepted(t, e.post(t, body, nil))
	require.Equal(t, "accepted", b.Status)
	require.Equal(t, []string{strconv.FormatUint(b.EmailID, 10)}, e.ready(t))
	row := e.email(t, b.EmailID)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
	require.NotNil(t, row.LastDispatchedAt)

	// A redelivery of a still-queued email pushes it again (harmless: the claim is conditional).
	require.NoError(t, e.redis.Client.Del(context.Background(), e.queue.Keys().Ready()).Err())
	dup := whAccepted(t, e.post(t, body, nil))
	require.Equal(t, "duplicate", dup.Status)
	require.Equal(t, b.EmailID, dup.EmailID)
	require.Equal(t, []string{strconv.FormatUint(b.EmailID, 10)}, e.ready(t))
	require.Equal(t, models.StatusQueued, e.email(t, b.EmailID).ProcessingStatus)
}

func TestWebhookRedisDown(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t).DB
	down := newWHEnv(t, whOptions{db: db, pusher: whDeadRedis(t)})
	body := whPayload(map[string]any{"webhook_id": "wh-" + apptest.RandomID()})
	b := whAccepted(t, down.post(t, body, nil))
	require.Equal(t, "accepted", b.Status)
	row := down.email(t, b.EmailID)
	require.Equal(t, models.StatusReceived, row.ProcessingStatus, "stays received for the reaper")
	require.Nil(t, row.LastDispatchedAt)

	// Zendesk redelivers while Redis is back: the duplicate gets the email queued.
	up := newWHEnv(t, whOptions{db: db})
	dup := whAccepted(t, up.post(t, body, nil))
	require.Equal(t, "duplicate", dup.Status)
	require.Equal(t, b.EmailID, dup.EmailID)
	require.Equal(t, models.StatusQueued, up.email(t, b.EmailID).ProcessingStatus)
	require.Equal(t, []string{strconv.FormatUint(b.EmailID, 10)}, up.ready(t))

	// A duplicate of a finished email is not dispatched again.
	require.NoError(t, db.Exec("UPDATE incoming_emails SET processing_status = 'completed' WHERE id = ?", b.EmailID).Error)
	require.NoError(t, up.redis.Client.Del(context.Background(), up.queue.Keys().Ready()).Err())
	again := whAccepted(t, up.post(t, body, nil))
	require.Equal(t, "duplicate", again.Status)
	require.Empty(t, up.ready(t))
	require.Equal(t, models.StatusCompleted, up.email(t, b.EmailID).ProcessingStatus)
}

func TestWebhookPostgresDown(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *gorm.DB{"closed pool": apptest.ClosedDB, "unreachable": apptest.UnreachableDB} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newWHEnv(t, whOptions{db: open(t)})
			body := whPayload(nil)
			rec := e.post(t, body, nil)
			d := whError(t, rec, http.StatusServiceUnavailable)
			require.Equal(t, models.EUNAVAILABLE, d.Code)
			require.NotEmpty(t, rec.Header().Get("Retry-After"))
			_, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			require.NoError(t, err, "Retry-After is in seconds")
			for _, leak := range []string{"sql", "database is closed", "dial", "connect", "127.0.0.1", "insert", "postgres"} {
				require.NotContains(t, strings.ToLower(rec.Body.String()), leak)
			}
			require.Empty(t, e.ready(t))

			// /readyz agrees.
			rec = e.send(t, http.MethodGet, "/readyz", nil, nil)
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			require.JSONEq(t, `{"status":"unavailable","checks":{"postgres":"down","redis":"ok"}}`, rec.Body.String())
		})
	}
}

// TestWebhookLogsNoContent checks the invariant that logs carry ids and
// statuses, never bodies, names or secrets, across accepted, rejected and
// failed deliveries.
func TestWebhookLogsNoContent(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{pusher: whDeadRedis(t)})
	secretBits := []string{"Geheimbetrag 4711,00", "Erika Mustermann", "geheim@privat.de", whSecret}
	body := whPayload(map[string]any{"body_text": secretBits[0], "from_name": secretBits[1], "from_email": secretBits[2]})
	whAccepted(t, e.post(t, body, nil))
	e.post(t, whPayload(map[string]any{"from_email": "x " + secretBits[2]}), nil) // unusable: named, not quoted
	whError(t, e.post(t, []byte("["+secretBits[1]), nil), http.StatusBadRequest)
	e.post(t, body, map[string]string{headerInvocationID: secretBits[1]}) // not an id: not logged
	whError(t, e.send(t, http.MethodPost, webhookPath, body, signedHeaders("wrong", e.now.Format(time.RFC3339), body)), http.StatusUnauthorized)

	logs := e.logs.String()
	require.Contains(t, logs, "push failed", "the Redis failure is logged")
	for _, s := range secretBits {
		require.NotContains(t, logs, s)
	}
}

// TestRequestLogsNoQueryOrCredentials checks the request log line: the route
// pattern, never the query string, the token or a cookie.
func TestRequestLogsNoQueryOrCredentials(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	secrets := []string{"Mustermann-QUERY", "tok-SECRET-1", "cookie-SECRET-2"}
	headers := map[string]string{"Authorization": "Bearer " + secrets[1], "Cookie": "matcher_admin_session=" + secrets[2]}
	e.send(t, http.MethodGet, "/api/v1/jobs?from="+secrets[0], nil, headers)
	e.send(t, http.MethodPost, webhookPath+"?from="+secrets[0], whPayload(nil), headers)

	logs := e.logs.String()
	require.Contains(t, logs, `"route":"unmatched"`)
	require.Contains(t, logs, `"route":"`+webhookPath+`"`)
	for _, s := range secrets {
		require.NotContains(t, logs, s)
	}
}

// TestWebhookZendeskTestDelivery: Zendesk's "Test webhook" button signs with
// its published test secret; such a delivery is answered 200 "test" and
// nothing is stored, whatever its body. A real signature still wins.
func TestWebhookZendeskTestDelivery(t *testing.T) {
	t.Parallel()
	empty := ""
	for name, e := range map[string]*whEnv{"signed": newWHEnv(t, whOptions{}), "development": newWHEnv(t, whOptions{secret: &empty})} {
		ts := e.now.Format(time.RFC3339)
		for _, body := range [][]byte{whPayload(nil), []byte(`{"text":"Test from Zendesk"}`), []byte("not even JSON")} {
			rec := e.send(t, http.MethodPost, webhookPath, body, signedHeaders(zendeskTestSecret, ts, body))
			require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body.String())
			var b map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b))
			require.Equal(t, "test", b["status"], name)
			require.NotEmpty(t, b["message"], name)
			require.NotContains(t, b, "email_id", name)
		}
		require.Zero(t, e.count(t), "%s: a test delivery stores nothing", name)
		require.Empty(t, e.ready(t), name)
	}

	e := newWHEnv(t, whOptions{})
	body := whPayload(nil)
	stale := e.now.Add(-time.Hour).Format(time.RFC3339)
	whError(t, e.send(t, http.MethodPost, webhookPath, body, signedHeaders(zendeskTestSecret, stale, body)), http.StatusUnauthorized)
	// The test secret as WEBHOOK_SECRET: its deliveries are real.
	same := zendeskTestSecret
	prod := newWHEnv(t, whOptions{secret: &same})
	require.Equal(t, "accepted", whAccepted(t, prod.post(t, body, nil)).Status)
}
