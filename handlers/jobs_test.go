package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

const (
	adminToken    = "test-admin-token-0123456789"
	webhookSecret = "test-webhook-secret"
)

// recordingPusher stands in for the Redis queue and counts pushes per id.
type recordingPusher struct {
	mu   sync.Mutex
	seen map[uint64]int
}

func (p *recordingPusher) Push(_ context.Context, ids ...uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[uint64]int{}
	}
	for _, id := range ids {
		p.seen[id]++
	}
	return nil
}

func (p *recordingPusher) pushes(id uint64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[id]
}

// fakeAcceptor is the intake at the HTTP edge: ticket "down" simulates PostgreSQL being unavailable.
type fakeAcceptor struct{ n atomic.Uint64 }

func (a *fakeAcceptor) Accept(_ context.Context, e intake.Email) (intake.Result, error) {
	if e.TicketID == "down" {
		return intake.Result{}, errors.New("postgres down")
	}
	return intake.Result{ID: a.n.Add(1), Duplicate: e.TicketID == "dup"}, nil
}

// clock is an adjustable Now for session expiry tests.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// jobsEnv is a running server on an isolated schema.
type jobsEnv struct {
	db     *apptest.DB
	srv    *httptest.Server
	pusher *recordingPusher
	clock  *clock
	down   *atomic.Bool // makes /readyz report postgres down
}

// newJobsEnv starts the server; change adjusts its dependencies first.
func newJobsEnv(t *testing.T, change ...func(*handlers.Deps)) *jobsEnv {
	t.Helper()
	db := apptest.NewDB(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	env := &jobsEnv{db: db, pusher: &recordingPusher{}, clock: &clock{}, down: &atomic.Bool{}}
	reg.MustRegister(jobs.NewCollector(db.Store(t), nil, log))
	d := handlers.Deps{
		Log:      log,
		Metrics:  handlers.NewMetrics(reg),
		Gatherer: reg,
		Checks: map[string]handlers.Pinger{"postgres": func(context.Context) error {
			if env.down.Load() {
				return errors.New("down")
			}
			return nil
		}},
		Intake:     &fakeAcceptor{},
		Webhook:    handlers.WebhookConfig{Secret: webhookSecret, Tolerance: 5 * time.Minute, MaxBodyBytes: 4096, Timeout: 5 * time.Second},
		AdminToken: adminToken,
		Now:        env.clock.now,
		Jobs:       jobs.New(db.Store(t), env.pusher, log),
		Reviews:    review.NewService(db.Store(t), debts.Writer{SyncEnabled: true}, log, nil),
		// Tests send many wrong tokens from 127.0.0.1; the throttle's own
		// tests set their limit.
		AuthFailuresPerMinute: 1 << 20,
	}
	for _, f := range change {
		f(&d)
	}
	env.srv = httptest.NewServer(handlers.NewServer(d))
	t.Cleanup(env.srv.Close)
	return env
}

type fixture struct {
	Status     models.Status
	From       string
	Subject    string
	ReceivedAt time.Time
}

func (e *jobsEnv) insert(t *testing.T, f fixture) uint64 {
	t.Helper()
	if f.Status == "" {
		f.Status = models.StatusCompleted
	}
	if f.From == "" {
		f.From = "forderung@creditor.example"
	}
	if f.ReceivedAt.IsZero() {
		f.ReceivedAt = time.Now()
	}
	row := models.IncomingEmail{
		ZendeskTicketID: "4711", DedupKey: "k-" + apptest.RandomID(), FromEmail: f.From, Subject: f.Subject,
		ReceivedAt: f.ReceivedAt.UTC(), ProcessingStatus: f.Status, SyncStatus: models.SyncNotApplicable,
		AttachmentURLs: models.JSON("[]"),
	}
	require.NoError(t, e.db.Create(&row).Error)
	return row.ID
}

// call sends a request with an optional Authorization header value and JSON body.
func (e *jobsEnv) call(t *testing.T, method, path, auth string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, ok := body.(string)
		if !ok {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			b = string(raw)
		}
		r = strings.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, out
}

func (e *jobsEnv) admin(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	return e.call(t, method, path, "Bearer "+adminToken, body)
}

type apiError struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func decodeError(t *testing.T, b []byte) apiError {
	t.Helper()
	var e apiError
	require.NoError(t, json.Unmarshal(b, &e), string(b))
	require.NotEmpty(t, e.Error.Code)
	require.NotEmpty(t, e.Error.Message)
	return e
}

func listPage(t *testing.T, e *jobsEnv, query string) jobs.Page {
	t.Helper()
	code, body := e.admin(t, http.MethodGet, "/api/v1/jobs?"+query, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var p jobs.Page
	require.NoError(t, json.Unmarshal(body, &p))
	return p
}

func TestJobsAPIRequiresToken(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/v1/jobs"},
		{http.MethodGet, "/api/v1/jobs/1"},
		{http.MethodPost, "/api/v1/jobs/1/retry"},
		{http.MethodPost, "/api/v1/jobs/retry"},
	}
	for _, r := range routes {
		for _, auth := range []string{"", "Bearer wrong-token", adminToken, "bearer " + adminToken, "Basic " + adminToken, "Bearer", "Bearer " + adminToken + "x", "Token " + adminToken} {
			code, body := e.call(t, r.method, r.path, auth, nil)
			require.Equal(t, http.StatusUnauthorized, code, "%s %s with %q", r.method, r.path, auth)
			require.Equal(t, models.EUNAUTHORIZED, decodeError(t, body).Error.Code)
			require.NotContains(t, string(body), adminToken)
		}
		code, _ := e.admin(t, r.method, r.path, map[string]any{"status": "failed", "dry_run": true})
		require.NotEqual(t, http.StatusUnauthorized, code, "%s %s with the token", r.method, r.path)
	}
}

func TestListJobsFiltersAndCounts(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	day := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("Ü", 150)
	failedA := e.insert(t, fixture{Status: models.StatusFailed, From: "inkasso@alpha.example", Subject: long, ReceivedAt: day.Add(2 * time.Hour)})
	failedB := e.insert(t, fixture{Status: models.StatusFailed, From: "billing@beta.example", ReceivedAt: day.Add(26 * time.Hour)})
	done := e.insert(t, fixture{Status: models.StatusCompleted, From: "INKASSO_x@alpha.example", ReceivedAt: day.Add(3 * time.Hour)})
	e.insert(t, fixture{Status: models.StatusQueued, From: "noreply@gamma.example", ReceivedAt: day.Add(-time.Hour)})

	all := listPage(t, e, "")
	require.Equal(t, int64(4), all.Total)
	require.Len(t, all.ByStatus, len(models.AllStatuses))
	require.Equal(t, int64(2), all.ByStatus[models.StatusFailed])
	require.Equal(t, int64(0), all.ByStatus[models.StatusRetrying])
	require.Nil(t, all.NextCursor)
	require.Equal(t, []uint64{failedB, done, failedA}, ids(all.Jobs)[:3])

	failed := listPage(t, e, "status=failed")
	require.Equal(t, int64(2), failed.Total)
	require.Equal(t, int64(4), failed.ByStatus[models.StatusFailed]+failed.ByStatus[models.StatusCompleted]+failed.ByStatus[models.StatusQueued])
	require.ElementsMatch(t, []uint64{failedA, failedB}, ids(failed.Jobs))

	from := listPage(t, e, "from=INKASSO")
	require.Equal(t, []uint64{done, failedA}, ids(from.Jobs), "case-insensitive contains")
	underscore := listPage(t, e, "from="+url.QueryEscape("inkasso_"))
	require.Equal(t, []uint64{done}, ids(underscore.Jobs), "LIKE wildcards match literally")

	window := listPage(t, e, "since=2026-03-25T00:00:00Z&until=2026-03-26T00:00:00Z")
	require.Equal(t, []uint64{done, failedA}, ids(window.Jobs))
	require.Equal(t, int64(2), window.Total)
	require.Equal(t, int64(1), window.ByStatus[models.StatusFailed], "by_status honours the other filters")

	var subject string
	for _, j := range all.Jobs {
		if j.ID == failedA {
			subject = j.Subject
		}
	}
	require.Equal(t, strings.Repeat("Ü", 100), subject)
}

func ids(js []jobs.Summary) []uint64 {
	out := make([]uint64, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func TestListJobsRejectsBadParameters(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	valid := jobs.Cursor{ReceivedAt: time.Now(), ID: 5}.Encode()
	tampered := []byte(valid)
	tampered[2] ^= 4
	cases := map[string]string{
		"status=done":                      "status",
		"status=FAILED":                    "status",
		"limit=0":                          "limit",
		"limit=201":                        "limit",
		"limit=abc":                        "limit",
		"limit=-5":                         "limit",
		"limit=1.5":                        "limit",
		"since=yesterday":                  "since",
		"until=2026-13-01T00:00:00Z":       "until",
		"since=2026-03-25":                 "since",
		"cursor=abc":                       "cursor",
		"cursor=" + string(tampered):       "cursor",
		"from=" + strings.Repeat("a", 400): "from",
		"since=2026-03-26T00:00:00Z&until=2026-03-25T00:00:00Z": "until",
		// Text PostgreSQL cannot take (issue 14): 400 naming the field, not a 500.
		"from=%00":      "from",
		"from=a%00b":    "from",
		"from=%ff%fe":   "from",
		"from=in%c3":    "from",
		"status=%00":    "status",
		"status=%ff":    "status",
		"since=%00":     "since",
		"limit=%00":     "limit",
		"cursor=%00":    "cursor",
		"cursor=%ff%fe": "cursor",
		// Cursors carry a checksum, not a secret: a made-up position must not reach SQL.
		"cursor=" + jobs.Cursor{ReceivedAt: time.UnixMicro(math.MinInt64), ID: 5}.Encode(): "cursor",
		"cursor=" + jobs.Cursor{ReceivedAt: time.UnixMicro(math.MaxInt64), ID: 5}.Encode(): "cursor",
		"cursor=" + jobs.Cursor{ReceivedAt: time.Now(), ID: math.MaxUint64}.Encode():       "cursor",
	}
	for q, field := range cases {
		code, body := e.admin(t, http.MethodGet, "/api/v1/jobs?"+q, nil)
		require.Equal(t, http.StatusBadRequest, code, q)
		er := decodeError(t, body)
		require.Equal(t, models.EINVALID, er.Error.Code, q)
		require.Contains(t, er.Error.Fields, field, q)
	}
	code, _ := e.admin(t, http.MethodGet, "/api/v1/jobs?limit=200&cursor="+valid, nil)
	require.Equal(t, http.StatusOK, code)
}

func TestListJobsPagination(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	want := map[uint64]bool{}
	for i := range 45 {
		// Every third pair shares a received_at, so the id tie-break matters.
		at := base.Add(time.Duration(i/2) * time.Second)
		want[e.insert(t, fixture{Status: models.AllStatuses[i%len(models.AllStatuses)], ReceivedAt: at})] = true
	}
	seen := map[uint64]int{}
	var prev *jobs.Summary
	cursor, pages := "", 0
	for {
		p := listPage(t, e, "limit=7&cursor="+url.QueryEscape(cursor))
		pages++
		require.Equal(t, int64(45+2*(pages-1)), p.Total, "total counts rows inserted meanwhile")
		for i := range p.Jobs {
			j := p.Jobs[i]
			seen[j.ID]++
			if prev != nil {
				newer := prev.ReceivedAt.After(j.ReceivedAt) || (prev.ReceivedAt.Equal(j.ReceivedAt) && prev.ID > j.ID)
				require.True(t, newer, "newest first: %d then %d", prev.ID, j.ID)
			}
			prev = &j
		}
		// New mail arrives between pages; it must not shift or repeat what follows.
		e.insert(t, fixture{ReceivedAt: time.Now()})
		e.insert(t, fixture{ReceivedAt: base.Add(10 * time.Minute)})
		if p.NextCursor == nil {
			require.Len(t, p.Jobs, 45%7)
			break
		}
		require.Len(t, p.Jobs, 7)
		cursor = *p.NextCursor
	}
	require.Equal(t, 7, pages)
	require.Len(t, seen, 45)
	for id, n := range seen {
		require.True(t, want[id], "page showed a row inserted after the walk began: %d", id)
		require.Equal(t, 1, n, "id %d seen %d times", id, n)
	}
}

func TestGetJob(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusCompleted, Subject: "Ihre Anfrage"})
	started := time.Now().Add(-5 * time.Second).UTC()
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET started_at=?, completed_at=?, cleaned_body='Restforderung 1.234,56 EUR',
		extracted_data='{"is_creditor_reply":true,"debt_amount":1234.56}', match_status='auto_matched', match_confidence=0.93,
		matched_inquiry_id=77, match_details='{"reason":"aktenzeichen"}', sync_status='failed', sync_error='mongo timeout',
		attachment_urls='[{"url":"https://z.example/a.pdf"}]' WHERE id=?`, started, started.Add(2500*time.Millisecond), id).Error)
	for i, outcome := range []string{models.OutcomeRetry, models.OutcomeCompleted} {
		fin := started.Add(time.Duration(i+1) * time.Second)
		var errText *string
		if outcome == models.OutcomeRetry {
			errText = new(string)
			*errText = "rate limited"
		}
		require.NoError(t, e.db.Create(&models.EmailAttempt{IncomingEmailID: id, Attempt: i + 1, Worker: "w-1",
			LeaseToken: apptest.RandomID(), StartedAt: started, FinishedAt: &fin, Outcome: &outcome, Error: errText}).Error)
	}

	code, body := e.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", id), nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var d map[string]any
	require.NoError(t, json.Unmarshal(body, &d))
	require.Equal(t, "completed", d["status"])
	require.InDelta(t, 2.5, d["processing_time_seconds"], 0.01)
	require.Equal(t, "auto_matched", d["match_status"])
	require.InDelta(t, 0.93, d["match_confidence"], 1e-9)
	require.EqualValues(t, 77, d["matched_inquiry_id"])
	require.Equal(t, map[string]any{"reason": "aktenzeichen"}, d["match_details"])
	require.Equal(t, true, d["extracted_data"].(map[string]any)["is_creditor_reply"])
	require.Equal(t, "failed", d["sync_status"])
	require.Equal(t, "mongo timeout", d["sync_error"])
	require.Len(t, d["attachment_urls"], 1)
	attempts := d["attempts"].([]any)
	require.Len(t, attempts, 2)
	first := attempts[0].(map[string]any)
	require.Equal(t, "retry", first["outcome"])
	require.Equal(t, "rate limited", first["error"])
	require.Equal(t, "w-1", first["worker"])

	for path, want := range map[string]int{"abc": 400, "-1": 400, "0": 400, "1e3": 400, "99999999999999999999": 400, fmt.Sprint(id + 100): 404} {
		code, body := e.admin(t, http.MethodGet, "/api/v1/jobs/"+path, nil)
		require.Equal(t, want, code, path)
		decodeError(t, body)
	}
}

func TestRetryJob(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	failed := e.insert(t, fixture{Status: models.StatusFailed})
	done := e.insert(t, fixture{Status: models.StatusCompleted})
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET retry_count=5, processing_error='x', lease_owner='w' WHERE id=?`, failed).Error)

	code, body := e.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/retry", failed), nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"id":%d,"status":"queued"}`, failed), string(body))
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, failed).Error)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
	require.Zero(t, row.RetryCount)
	require.Nil(t, row.ProcessingError)
	require.Nil(t, row.LeaseOwner)
	require.Equal(t, 1, e.pusher.pushes(failed))

	for path, want := range map[string]int{
		fmt.Sprint(failed): 409, fmt.Sprint(done): 409, fmt.Sprint(done + 100): 404, "x": 400,
	} {
		code, body := e.admin(t, http.MethodPost, "/api/v1/jobs/"+path+"/retry", nil)
		require.Equal(t, want, code, path)
		decodeError(t, body)
	}
	code, _ = e.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/retry", failed), nil)
	require.Equal(t, http.StatusMethodNotAllowed, code)
}

func TestRetryJobConcurrently(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusFailed})
	codes := make(chan int, 20)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			code, _ := e.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/retry", id), nil)
			codes <- code
		})
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusConflict: 19}, count)
	require.Equal(t, 1, e.pusher.pushes(id))
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, id).Error)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
}

func TestRetryJobsBulk(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	outage := time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	var inWindow []uint64
	for i := range 5 {
		inWindow = append(inWindow, e.insert(t, fixture{Status: models.StatusFailed, ReceivedAt: outage.Add(time.Duration(i) * time.Minute)}))
	}
	before := e.insert(t, fixture{Status: models.StatusFailed, ReceivedAt: outage.Add(-48 * time.Hour)})
	e.insert(t, fixture{Status: models.StatusCompleted, ReceivedAt: outage})

	req := map[string]any{"status": "failed", "since": "2026-03-25T00:00:00Z", "until": "2026-03-26T00:00:00Z", "dry_run": true}
	code, body := e.admin(t, http.MethodPost, "/api/v1/jobs/retry", req)
	require.Equal(t, http.StatusOK, code, string(body))
	var res jobs.BulkResult
	require.NoError(t, json.Unmarshal(body, &res))
	require.Equal(t, jobs.BulkResult{DryRun: true, Matched: 5, IDs: inWindow, UndecodableIDs: []uint64{}}, res)
	require.Zero(t, e.pusher.pushes(inWindow[0]))

	req["dry_run"], req["limit"] = false, 3
	code, body = e.admin(t, http.MethodPost, "/api/v1/jobs/retry", req)
	require.Equal(t, http.StatusOK, code, string(body))
	res = jobs.BulkResult{}
	require.NoError(t, json.Unmarshal(body, &res))
	require.Equal(t, int64(5), res.Matched)
	require.Equal(t, int64(3), res.Retried)
	require.Equal(t, inWindow[:3], res.IDs)
	for _, id := range inWindow[:3] {
		require.Equal(t, 1, e.pusher.pushes(id))
	}
	var still models.IncomingEmail
	require.NoError(t, e.db.Take(&still, before).Error)
	require.Equal(t, models.StatusFailed, still.ProcessingStatus)

	bad := map[string]any{
		`{"status":"failed","from":"\u0000"}`:  "from",
		`{"status":"failed","from":"a\u0000"}`: "from",
		`{"status":"fai\u0000led"}`:            "status",
		`{"status":"failed","since":"\u0000"}`: "since",
		`{"status":"failed"} {}`:               "",
		`{"status":"failed"}x`:                 "",
		`{"dry_run":true}`:                     "status",
		`{"status":"completed"}`:               "status",
		`{"status":"queued","dry_run":true}`:   "status",
		`{"status":"failed","since":"monday"}`: "since",
		`{"status":"failed","limit":0}`:        "limit",
		`{"status":"failed","stauts":"x"}`:     "",
		`[1,2]`:                                "",
		`not json`:                             "",
		``:                                     "",
	}
	for raw, field := range bad {
		code, body := e.admin(t, http.MethodPost, "/api/v1/jobs/retry", raw)
		require.Equal(t, http.StatusBadRequest, code, raw)
		er := decodeError(t, body)
		if field != "" {
			require.Contains(t, er.Error.Fields, field, raw)
		}
	}
	code, _ = e.admin(t, http.MethodPost, "/api/v1/jobs/retry", `{"status":"failed","from":"`+strings.Repeat("a", 70<<10)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	e.insert(t, fixture{Status: models.StatusFailed})
	e.insert(t, fixture{Status: models.StatusQueued, ReceivedAt: time.Now().Add(-time.Minute)})
	code, body := e.call(t, http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, code)
	text := string(body)
	for _, want := range []string{
		`matcher_emails{status="failed"} 1`,
		`matcher_emails{status="queued"} 1`,
		`matcher_emails{status="completed"} 0`,
		`matcher_outbox_backlog_messages{aggregate_type="failure_alert"} 0`,
		`matcher_outbox_failed_messages{aggregate_type="creditor_debt_update"} 0`,
		`matcher_oldest_queued_email_age_seconds`,
		`matcher_stats_up{source="postgres"} 1`,
		`matcher_webhooks_total{outcome="accepted"} 0`,
	} {
		require.Contains(t, text, want)
	}
	require.False(t, bytes.Contains(body, []byte("creditor.example")), "no email content in labels")
}
