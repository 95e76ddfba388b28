package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
)

const throttleLimit = 3

// throttled is a server whose throttle allows throttleLimit failures a
// minute and, with trust, believes X-Forwarded-For from 127.0.0.1.
func throttled(t *testing.T, trust bool) *jobsEnv {
	return newJobsEnv(t, func(d *handlers.Deps) {
		d.AuthFailuresPerMinute = throttleLimit
		if trust {
			d.TrustedProxies = []string{"127.0.0.0/8"}
		}
	})
}

// from sends an API call as the client at addr (via X-Forwarded-For).
func (e *jobsEnv) from(t *testing.T, addr, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/v1/jobs", nil)
	require.NoError(t, err)
	req.Header.Set("X-Forwarded-For", addr)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return doRequest(t, req)
}

func requireTooMany(t *testing.T, res *http.Response, body []byte) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, string(body))
	require.Equal(t, models.ETOOMANY, decodeError(t, body).Error.Code)
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in seconds")
	require.True(t, secs >= 1 && secs <= 60, "Retry-After %d", secs)
}

// TestAuthThrottleAPI: wrong bearer tokens count per client address; past
// the limit the address gets 429 with Retry-After, even with the right
// token, until its minute has passed. Others are not affected, and a
// success resets nobody's count.
func TestAuthThrottleAPI(t *testing.T) {
	t.Parallel()
	e := throttled(t, true)
	const a, b, c = "203.0.113.1", "203.0.113.2", "203.0.113.3"
	for range throttleLimit {
		res, body := e.from(t, a, "Bearer wrong-token")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, string(body))
	}
	res, body := e.from(t, a, "Bearer "+adminToken)
	requireTooMany(t, res, body)

	res, _ = e.from(t, b, "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, res.StatusCode, "another address is not throttled")
	res, body = e.from(t, a, "Bearer "+adminToken)
	requireTooMany(t, res, body)

	// Requests without credentials are no guesses.
	for range 2 * throttleLimit {
		res, _ = e.from(t, c, "")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, _ = e.from(t, c, "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, res.StatusCode)

	e.clock.advance(61 * time.Second)
	res, _ = e.from(t, a, "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, res.StatusCode, "the window has passed")
}

// TestAuthThrottleIgnoresUntrustedForwardedFor: without TRUSTED_PROXIES a
// client cannot escape the throttle by naming another address.
func TestAuthThrottleIgnoresUntrustedForwardedFor(t *testing.T) {
	t.Parallel()
	e := throttled(t, false)
	for i := range throttleLimit {
		res, _ := e.from(t, "198.51.100."+strconv.Itoa(i), "Bearer wrong-token")
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, body := e.from(t, "198.51.100.200", "Bearer "+adminToken)
	requireTooMany(t, res, body)
}

// TestAuthThrottleSignIn: failed sign-ins count with wrong bearer tokens;
// a throttled address gets a friendly sign-in page with 429.
func TestAuthThrottleSignIn(t *testing.T) {
	t.Parallel()
	e := throttled(t, false)
	b := newBrowser(t, e)
	for range throttleLimit - 1 {
		require.Equal(t, http.StatusUnauthorized, b.signIn("wrong").StatusCode)
	}
	res, _ := e.from(t, "", "Bearer wrong-token")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	res = b.signIn(adminToken)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	require.Contains(t, b.last, "Too many failed sign-ins")
	require.Nil(t, cookie(res, "matcher_admin_session"))
	b.csrf() // the form is still there, for after the wait

	e.clock.advance(61 * time.Second)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
}

// TestHTTPSHeaders: HSTS only when the request came over TLS or through a
// trusted proxy that says https (the first X-Forwarded-Proto value, from
// the client-facing proxy); the Secure cookie flag follows that first value.
func TestHTTPSHeaders(t *testing.T) {
	t.Parallel()
	trusted, untrusted := throttled(t, true), throttled(t, false)
	get := func(e *jobsEnv, proto string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/healthz", nil)
		require.NoError(t, err)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		res, _ := doRequest(t, req)
		return res
	}
	const hsts = "Strict-Transport-Security"
	require.Equal(t, "max-age=31536000", get(trusted, "https").Header.Get(hsts))
	require.Equal(t, "max-age=31536000", get(trusted, "https, http").Header.Get(hsts))
	require.Empty(t, get(trusted, "http, https").Header.Get(hsts))
	require.Empty(t, get(trusted, "").Header.Get(hsts))
	require.Empty(t, get(untrusted, "https").Header.Get(hsts), "an untrusted peer's header is not believed")

	for proto, secure := range map[string]bool{"https, http": true, "HTTPS": true, "http, https": false, "": false} {
		b := newBrowser(t, untrusted)
		b.do(http.MethodGet, "/admin/login", nil)
		res := b.do(http.MethodPost, "/admin/login", url.Values{"csrf_token": {b.csrf()}, "token": {adminToken}}, "X-Forwarded-Proto", proto)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, secure, cookie(res, "matcher_admin_session").Secure, "X-Forwarded-Proto %q", proto)
	}
}

// TestAPINoStore: answers carrying personal data are kept out of caches.
func TestAPINoStore(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusFailed})
	for _, path := range []string{"/api/v1/jobs", "/api/v1/jobs/" + strconv.FormatUint(id, 10)} {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, body := doRequest(t, req)
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"), path)
	}
}

// TestHealthHead: HEAD probes get the status without a body.
func TestHealthHead(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	head := func(path string) (int, []byte) {
		req, err := http.NewRequest(http.MethodHead, e.srv.URL+path, nil)
		require.NoError(t, err)
		res, body := doRequest(t, req)
		return res.StatusCode, body
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		code, body := head(path)
		require.Equal(t, http.StatusOK, code, path)
		require.Empty(t, body)
	}
	e.down.Store(true)
	code, body := head("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Empty(t, body)
}

// doRequest sends req and returns the response with its body read.
func doRequest(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}
