package fetch_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// TestMain fails the package if a test leaves a connection goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testEmail = "agent@kanzlei.example"
	testToken = "zd-TOKEN-5ecret-1"
)

// server is an httptest server that counts the connections it accepts
// and records the Authorization header of every request.
type server struct {
	*httptest.Server
	conns atomic.Int32
	mu    sync.Mutex
	auths []string
}

func newServer(t *testing.T, useTLS bool, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// host is the server's "127.0.0.1:port".
func (s *server) host() string { return s.Listener.Addr().String() }

// port is the server's port.
func (s *server) port() string {
	_, port, _ := net.SplitHostPort(s.host())
	return port
}

// authorizations returns the Authorization headers received so far.
func (s *server) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

// zendeskAuth answers 401 unless the request carries Zendesk's API token
// auth for testEmail and testToken, and reports whether it did.
func zendeskAuth(w http.ResponseWriter, r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || user != testEmail+"/token" || pass != testToken {
		http.Error(w, `{"error":"Couldn't authenticate you"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

// roots trusts the certificate every httptest TLS server shares.
func roots(s *server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return pool
}

// resolver answers names from a table, counting lookups; other names do not exist.
type resolver struct {
	names   map[string][]string
	lookups atomic.Int32
}

func (r *resolver) lookup(_ context.Context, host string) ([]net.IPAddr, error) {
	r.lookups.Add(1)
	var out []net.IPAddr
	for _, a := range r.names[host] {
		out = append(out, net.IPAddr{IP: netip.MustParseAddr(a).AsSlice()})
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// newFetcher builds a Fetcher with test credentials (unless cfg has its
// own), the test servers' CA and a temporary directory; it is closed at cleanup.
func newFetcher(t *testing.T, ca *server, cfg fetch.Config) *fetch.Fetcher {
	t.Helper()
	if cfg.Subdomain == "" {
		cfg.Subdomain, cfg.Email, cfg.APIToken = "kanzlei", testEmail, testToken
	}
	if ca != nil {
		cfg.RootCAs = roots(ca)
	}
	cfg.TempDir = t.TempDir()
	f, err := fetch.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// requirePermanent checks err is permanent and matches target (if not nil).
func requirePermanent(t *testing.T, err error, target error) {
	t.Helper()
	if target != nil {
		require.ErrorIs(t, err, target)
	}
	var perm *models.PermanentError
	require.ErrorAs(t, err, &perm, "permanent: %v", err)
}

// requireTransient checks err is transient and returns its Retry-After.
func requireTransient(t *testing.T, err error) time.Duration {
	t.Helper()
	var tr *models.TransientError
	require.ErrorAs(t, err, &tr, "transient: %v", err)
	var perm *models.PermanentError
	require.False(t, errors.As(err, &perm), "not also permanent: %v", err)
	return tr.RetryAfter
}
