package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	// last is the body of the last response.
	last string
}

func newBrowser(t *testing.T, e *jobsEnv) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: e.srv.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) *http.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	require.NoError(b.t, res.Body.Close())
	b.last = string(raw)
	return res
}

func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfInput.FindStringSubmatch(b.last)
	require.NotNil(b.t, m, "no csrf field in page")
	return m[1]
}

// signIn walks the login form with token and returns the POST's response.
func (b *browser) signIn(token string) *http.Response {
	b.t.Helper()
	res := b.do(http.MethodGet, "/admin/login", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode)
	return b.do(http.MethodPost, "/admin/login", url.Values{"csrf_token": {b.csrf()}, "token": {token}, "next": {"/admin"}})
}

func requireLoginRedirect(t *testing.T, res *http.Response, what string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, res.StatusCode, what)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/admin/login"), "%s: location %q", what, res.Header.Get("Location"))
}

func TestAdminPagesRequireSignIn(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusFailed, Subject: "secret subject"})
	b := newBrowser(t, e)
	pages := []struct{ method, path string }{
		{http.MethodGet, "/admin"},
		{http.MethodGet, "/admin?status=failed"},
		{http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id)},
		{http.MethodPost, fmt.Sprintf("/admin/jobs/%d/retry", id)},
		{http.MethodPost, "/admin/logout"},
	}
	creds := map[string][]string{
		"no credentials":                 nil,
		"bearer header is not a session": {"Authorization", "Bearer " + adminToken},
		"header without Bearer":          {"Authorization", adminToken},
		"raw token as cookie":            {"Cookie", "matcher_admin_session=" + adminToken},
		"forged cookie":                  {"Cookie", "matcher_admin_session=AAAA.BBBB"},
	}
	for _, p := range pages {
		for name, h := range creds {
			res := b.do(p.method, p.path, url.Values{}, h...)
			requireLoginRedirect(t, res, p.path+" with "+name)
			require.NotContains(t, b.last, "secret subject")
		}
	}
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, id).Error)
	require.Equal(t, models.StatusFailed, row.ProcessingStatus, "no retry without a session")
	res := b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id), nil)
	require.Equal(t, fmt.Sprintf("/admin/login?next=%%2Fadmin%%2Fjobs%%2F%d", id), res.Header.Get("Location"))
}

func TestAdminSignIn(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := newBrowser(t, e)

	for _, wrong := range []string{"", "wrong", "Bearer " + adminToken, adminToken + "x"} {
		res := b.signIn(wrong)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "token %q", wrong)
		require.Contains(t, b.last, "not valid")
		require.Empty(t, cookie(res, "matcher_admin_session"))
	}
	res := b.do(http.MethodGet, "/admin/login", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	res = b.do(http.MethodPost, "/admin/login", url.Values{"csrf_token": {"forged"}, "token": {adminToken}})
	require.Equal(t, http.StatusForbidden, res.StatusCode, "login form needs its csrf token")

	res = b.signIn(adminToken)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/admin", res.Header.Get("Location"))
	c := cookie(res, "matcher_admin_session")
	require.NotNil(t, c)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, c.SameSite)
	require.False(t, c.Secure, "plain http test server")
	require.NotContains(t, c.Value, adminToken)
	require.Equal(t, "/admin", c.Path)
	require.Positive(t, c.MaxAge)

	res = b.do(http.MethodGet, "/admin", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	// Behind a TLS-terminating proxy the cookie is Secure.
	tls := newBrowser(t, e)
	tls.do(http.MethodGet, "/admin/login", nil, "X-Forwarded-Proto", "https")
	res = tls.do(http.MethodPost, "/admin/login", url.Values{"csrf_token": {tls.csrf()}, "token": {adminToken}}, "X-Forwarded-Proto", "https")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.True(t, cookie(res, "matcher_admin_session").Secure)

	// Logout needs the csrf token, then clears the session.
	res = b.do(http.MethodPost, "/admin/logout", url.Values{})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b.do(http.MethodGet, "/admin", nil)
	res = b.do(http.MethodPost, "/admin/logout", url.Values{"csrf_token": {b.csrf()}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	requireLoginRedirect(t, b.do(http.MethodGet, "/admin", nil), "after logout")
}

func TestAdminSessionExpires(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/admin", nil).StatusCode)
	e.clock.advance(13 * time.Hour)
	requireLoginRedirect(t, b.do(http.MethodGet, "/admin", nil), "expired session")
}

func TestAdminPagesListDetailRetry(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusFailed, From: "mahnung@outage.example", Subject: "Ihre <b>Forderung</b>"})
	other := e.insert(t, fixture{Status: models.StatusCompleted, From: "info@else.example"})
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET cleaned_body='<script>alert(1)</script> Restbetrag',
		processing_error='llm provider down', match_details='{"why":"<img src=x>"}' WHERE id=?`, id).Error)
	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)

	res := b.do(http.MethodGet, "/admin?from=outage&status=failed", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, b.last, fmt.Sprintf(`data-id="%d"`, id))
	require.NotContains(t, b.last, fmt.Sprintf(`data-id="%d"`, other))
	require.Contains(t, b.last, "Ihre &lt;b&gt;Forderung&lt;/b&gt;")

	res = b.do(http.MethodGet, "/admin?status=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, b.last, "unknown status")
	for _, bad := range []string{"%00", "%ff%fe"} {
		res = b.do(http.MethodGet, "/admin?from="+bad, nil)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
		require.Contains(t, b.last, "from", bad)
	}

	res = b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, b.last, "&lt;script&gt;alert(1)&lt;/script&gt; Restbetrag")
	require.NotContains(t, b.last, "<script>")
	require.NotContains(t, b.last, "<img src=x>")
	require.Contains(t, b.last, `id="retry"`)
	token := b.csrf()

	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id+100), nil).StatusCode)
	require.Equal(t, http.StatusBadRequest, b.do(http.MethodGet, "/admin/jobs/abc", nil).StatusCode)

	retry := fmt.Sprintf("/admin/jobs/%d/retry", id)
	require.Equal(t, http.StatusForbidden, b.do(http.MethodPost, retry, url.Values{}).StatusCode)
	require.Equal(t, http.StatusForbidden, b.do(http.MethodPost, retry, url.Values{"csrf_token": {"forged"}}).StatusCode)
	other2 := newBrowser(t, e)
	other2.signIn(adminToken)
	other2.do(http.MethodGet, "/admin", nil)
	require.Equal(t, http.StatusForbidden, b.do(http.MethodPost, retry, url.Values{"csrf_token": {other2.csrf()}}).StatusCode,
		"a csrf token is bound to its session")

	res = b.do(http.MethodPost, retry, url.Values{"csrf_token": {token}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, fmt.Sprintf("/admin/jobs/%d?notice=retried", id), res.Header.Get("Location"))
	require.Equal(t, 1, e.pusher.pushes(id))
	b.do(http.MethodGet, res.Header.Get("Location"), nil)
	require.Contains(t, b.last, "queued again")

	res = b.do(http.MethodPost, retry, url.Values{"csrf_token": {token}})
	require.Equal(t, fmt.Sprintf("/admin/jobs/%d?problem=not_failed", id), res.Header.Get("Location"))
	require.Equal(t, http.StatusNotFound, b.do(http.MethodPost, fmt.Sprintf("/admin/jobs/%d/retry", id+100), url.Values{"csrf_token": {token}}).StatusCode)
}

func TestAdminLoginNextStaysOnAdmin(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	for next, want := range map[string]string{
		"/admin/jobs/5":        "/admin/jobs/5",
		"https://evil.example": "/admin",
		"//evil.example/admin": "/admin",
		"/admin/../x":          "/admin",
		"/adminx":              "/admin",
		`/admin/\evil`:         "/admin",
	} {
		b := newBrowser(t, e)
		b.do(http.MethodGet, "/admin/login", nil)
		res := b.do(http.MethodPost, "/admin/login", url.Values{"csrf_token": {b.csrf()}, "token": {adminToken}, "next": {next}})
		require.Equal(t, want, res.Header.Get("Location"), next)
	}
}

// failingList is a JobService whose List fails with err; its other methods are not called.
type failingList struct {
	handlers.JobService
	err error
}

func (f failingList) List(context.Context, jobs.Filter) (jobs.Page, error) { return jobs.Page{}, f.err }

// TestAdminListHidesInternalErrors: only a client error (4xx) is shown on the
// list page as is; any other failure of the list is a generic 500 page.
func TestAdminListHidesInternalErrors(t *testing.T) {
	t.Parallel()
	const internal = "dial tcp 10.9.8.7:5432: connection refused"
	for _, err := range []error{
		models.Errorf(models.EUNAVAILABLE, "%s", internal),
		models.Errorf(models.EINTERNAL, "%s", internal),
		models.Errorf("no_such_code", "%s", internal),
	} {
		reg := prometheus.NewRegistry()
		srv := httptest.NewServer(handlers.NewServer(handlers.Deps{
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: handlers.NewMetrics(reg), Gatherer: reg,
			AdminToken: adminToken, Jobs: failingList{err: err},
		}))
		t.Cleanup(srv.Close)
		b := newBrowser(t, &jobsEnv{srv: srv})
		require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
		res := b.do(http.MethodGet, "/admin", nil)
		require.Equal(t, http.StatusInternalServerError, res.StatusCode, "%v", err)
		require.NotContains(t, b.last, internal)
		require.Contains(t, b.last, "Something went wrong")
	}
}

func cookie(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}
