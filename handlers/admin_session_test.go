package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// refSessions is a SessionStore with the semantics the admin_sessions table
// is to have: a row per session, active while neither revoked nor expired.
type refSessions struct {
	mu   sync.Mutex
	now  func() time.Time
	rows map[string]refSession
}

type refSession struct {
	expires time.Time
	revoked bool
}

func (r *refSessions) Create(_ context.Context, id string, expires time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows[id] = refSession{expires: expires}
	return nil
}

func (r *refSessions) Active(_ context.Context, id string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row, ok := r.rows[id]
	return ok && !row.revoked && r.now().Before(row.expires), nil
}

func (r *refSessions) Revoke(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if row, ok := r.rows[id]; ok {
		row.revoked = true
		r.rows[id] = row
	}
	return nil
}

// sessionStores are the SessionStore implementations the tests below run
// against, each shared by all web processes of a test: the reference, and
// the admin_sessions table the service runs with (services/store).
func sessionStores() map[string]func(t *testing.T, e *jobsEnv) handlers.SessionStore {
	return map[string]func(t *testing.T, e *jobsEnv) handlers.SessionStore{
		"reference": func(t *testing.T, e *jobsEnv) handlers.SessionStore {
			return &refSessions{now: e.clock.now, rows: map[string]refSession{}}
		},
		"admin_sessions": func(t *testing.T, e *jobsEnv) handlers.SessionStore {
			return e.db.Store(t).AdminSessions(e.clock.now)
		},
	}
}

// process is one web process of a deployment: its own server over the
// test's database, clock and SessionStore.
func process(t *testing.T, e *jobsEnv, token string, sessions handlers.SessionStore) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(handlers.NewServer(handlers.Deps{
		Log: log, Metrics: handlers.NewMetrics(reg), Gatherer: reg, AdminToken: token, Now: e.clock.now,
		Jobs: jobs.New(e.db.Store(t), e.pusher, log), Sessions: sessions,
	}))
	t.Cleanup(srv.Close)
	return srv
}

// withCookie sends a request carrying only the given session cookie value,
// as a copy of a stolen or shared cookie would.
func withCookie(t *testing.T, base, method, path, value string, form url.Values) *http.Response {
	t.Helper()
	b := &browser{t: t, base: base, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return b.do(method, path, form, "Cookie", "matcher_admin_session="+value)
}

// signedInOn signs a new browser in on srv and returns it and its cookie.
func signedInOn(t *testing.T, srv *httptest.Server, token string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, &jobsEnv{srv: srv})
	res := b.signIn(token)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	c := cookie(res, "matcher_admin_session")
	require.NotNil(t, c)
	return b, c.Value
}

// TestAdminSignOutEndsCopiedCookie: after sign-out a copy of the session
// cookie is refused (list, detail, retry), on this process. The default
// store keeps sign-outs in this process's memory (until step two).
func TestAdminSignOutEndsCopiedCookie(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusFailed})
	b, copied := signedInOn(t, e.srv, adminToken)
	require.Equal(t, http.StatusOK, withCookie(t, e.srv.URL, http.MethodGet, "/admin", copied, nil).StatusCode, "the copy works while signed in")

	b.do(http.MethodGet, "/admin", nil)
	require.Equal(t, http.StatusSeeOther, b.do(http.MethodPost, "/admin/logout", url.Values{"csrf_token": {b.csrf()}}).StatusCode)

	requireLoginRedirect(t, withCookie(t, e.srv.URL, http.MethodGet, "/admin", copied, nil), "list with a copied cookie")
	requireLoginRedirect(t, withCookie(t, e.srv.URL, http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id), copied, nil), "detail")
	requireLoginRedirect(t, withCookie(t, e.srv.URL, http.MethodPost, fmt.Sprintf("/admin/jobs/%d/retry", id), copied, url.Values{}), "retry")
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, id).Error)
	require.Equal(t, models.StatusFailed, row.ProcessingStatus)

	// Signing in again gives a new session that works.
	_, fresh := signedInOn(t, e.srv, adminToken)
	require.NotEqual(t, copied, fresh)
	require.Equal(t, http.StatusOK, withCookie(t, e.srv.URL, http.MethodGet, "/admin", fresh, nil).StatusCode)
}

// TestAdminSessionsAcrossProcesses: with a shared SessionStore, a session
// signed in on one process works on another, and sign-out on one ends it
// on all.
func TestAdminSessionsAcrossProcesses(t *testing.T) {
	t.Parallel()
	for name, newStore := range sessionStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newJobsEnv(t)
			store := newStore(t, e)
			a, b := process(t, e, adminToken, store), process(t, e, adminToken, store)
			browserA, copied := signedInOn(t, a, adminToken)
			require.Equal(t, http.StatusOK, withCookie(t, b.URL, http.MethodGet, "/admin", copied, nil).StatusCode)

			browserA.do(http.MethodGet, "/admin", nil)
			require.Equal(t, http.StatusSeeOther, browserA.do(http.MethodPost, "/admin/logout", url.Values{"csrf_token": {browserA.csrf()}}).StatusCode)
			requireLoginRedirect(t, withCookie(t, b.URL, http.MethodGet, "/admin", copied, nil), "the other process after sign-out")
			requireLoginRedirect(t, withCookie(t, a.URL, http.MethodGet, "/admin", copied, nil), "the same process after sign-out")
		})
	}
}

// TestAdminTokenChangeEndsSessions: a process started with a new admin
// token accepts no session of the old one, whatever the store holds.
func TestAdminTokenChangeEndsSessions(t *testing.T) {
	t.Parallel()
	const rotated = "rotated-admin-token-9876543210"
	for name, newStore := range sessionStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newJobsEnv(t)
			store := newStore(t, e)
			before := process(t, e, adminToken, store)
			_, old := signedInOn(t, before, adminToken)
			after := process(t, e, rotated, store)
			requireLoginRedirect(t, withCookie(t, after.URL, http.MethodGet, "/admin", old, nil), "old session after the token change")
			_, fresh := signedInOn(t, after, rotated)
			require.Equal(t, http.StatusOK, withCookie(t, after.URL, http.MethodGet, "/admin", fresh, nil).StatusCode)
		})
	}
}

// TestAdminSessionExpiresInStore: the store's expiry holds on its own too.
func TestAdminSessionExpiresInStore(t *testing.T) {
	t.Parallel()
	for name, newStore := range sessionStores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newJobsEnv(t)
			store := newStore(t, e)
			srv := process(t, e, adminToken, store)
			_, value := signedInOn(t, srv, adminToken)
			e.clock.advance(13 * time.Hour)
			requireLoginRedirect(t, withCookie(t, srv.URL, http.MethodGet, "/admin", value, nil), "expired")
		})
	}
}

// brokenStore fails every call, as a store whose database is down.
type brokenStore struct{}

var errStoreDown = errors.New("dial tcp 10.9.8.7:5432: connection refused")

func (brokenStore) Create(context.Context, string, time.Time) error { return errStoreDown }
func (brokenStore) Active(context.Context, string) (bool, error)    { return false, errStoreDown }
func (brokenStore) Revoke(context.Context, string) error            { return errStoreDown }

// TestAdminSessionStoreDown: without its store the page fails closed with
// an error page: no sign-in, no access, nothing internal shown. Also with
// the admin_sessions store on a database that is gone.
func TestAdminSessionStoreDown(t *testing.T) {
	t.Parallel()
	for name, down := range map[string]func(*testing.T) handlers.SessionStore{
		"broken": func(*testing.T) handlers.SessionStore { return brokenStore{} },
		"admin_sessions": func(t *testing.T) handlers.SessionStore {
			return store.New(apptest.ClosedDB(t), nil).AdminSessions(time.Now)
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newJobsEnv(t)
			srv := process(t, e, adminToken, down(t))
			b := newBrowser(t, &jobsEnv{srv: srv})
			res := b.signIn(adminToken)
			require.Equal(t, http.StatusInternalServerError, res.StatusCode)
			require.Nil(t, cookie(res, "matcher_admin_session"))
			require.NotContains(t, b.last, "10.9.8.7")
			require.NotContains(t, b.last, "closed")

			// A validly signed cookie from a process whose store works is not let in either.
			_, value := signedInOn(t, e.srv, adminToken)
			res = withCookie(t, srv.URL, http.MethodGet, "/admin", value, nil)
			require.Equal(t, http.StatusInternalServerError, res.StatusCode)
		})
	}
}
