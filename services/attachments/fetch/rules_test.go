package fetch_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

func serveFile(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(statement) }

// TestRefusesHostsNotListedBeforeConnecting: a URL whose host and port are
// not in the list is refused by the URL check, before any lookup or dial.
func TestRefusesHostsNotListedBeforeConnecting(t *testing.T) {
	t.Parallel()
	listed := newServer(t, true, serveFile)
	other := newServer(t, true, serveFile)
	dns := &resolver{names: map[string][]string{"localhost": {"127.0.0.1"}}}
	f := newFetcher(t, listed, fetch.Config{AllowedHosts: listed.host(), LookupIPAddr: dns.lookup})

	for _, raw := range []string{
		"https://" + other.host() + "/file",                         // same address, another port
		"https://localhost:" + listed.port() + "/file",              // another name for the listed server
		"https://kanzlei.zendesk.com/attachments/token/x/",          // the default, replaced by the list
		"https://127.0.0.1.evil.example:" + listed.port() + "/file", // the listed host as a prefix
	} {
		_, err := f.Fetch(context.Background(), raw)
		requirePermanent(t, err, fetch.ErrRefused)
		require.ErrorContains(t, err, "host is not in ATTACHMENT_ALLOWED_HOSTS", raw)
	}
	require.Zero(t, other.conns.Load())
	require.Zero(t, listed.conns.Load())
	require.Zero(t, dns.lookups.Load())

	_, err := f.Fetch(context.Background(), "https://"+listed.host()+"/file")
	require.NoError(t, err, "the listed host itself is fetched")
}

// TestRefusesRedirectsOutsideTheRules: Zendesk's answer may redirect, and
// every hop is checked like the first one.
func TestRefusesRedirectsOutsideTheRules(t *testing.T) {
	t.Parallel()
	content := newServer(t, true, serveFile)
	plain := newServer(t, false, serveFile)
	targets := map[string]string{
		"/to-unlisted": "https://" + content.host() + "/file",                   // 127.0.0.1, listed only by wildcard name
		"/to-loopback": "https://localhost:" + content.port() + "/file",         // a name not listed
		"/to-http":     "http://" + plain.host() + "/file",                      // listed, but plain http in production
		"/to-private":  "https://files.example.com:" + content.port() + "/file", // wildcard name on 127.0.0.1
		"/to-userinfo": "https://user:pw@files.example.com:" + content.port() + "/file",
	}
	api := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if zendeskAuth(w, r) {
			http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
		}
	})
	dns := &resolver{names: map[string][]string{"localhost": {"127.0.0.1"}, "files.example.com": {"127.0.0.1"}}}
	f := newFetcher(t, api, fetch.Config{
		AllowedHosts: api.host() + "," + plain.host() + ",*.example.com:" + content.port(),
		APIHost:      api.host(), LookupIPAddr: dns.lookup,
	})

	for path, want := range map[string]string{
		"/to-unlisted": "host is not in ATTACHMENT_ALLOWED_HOSTS",
		"/to-loopback": "host is not in ATTACHMENT_ALLOWED_HOSTS",
		"/to-http":     "only https is allowed outside development",
		"/to-private":  "resolves to 127.0.0.1, not a public address",
		"/to-userinfo": "the URL carries its own credentials",
	} {
		_, err := f.Fetch(context.Background(), "https://"+api.host()+path)
		requirePermanent(t, err, fetch.ErrRefused)
		require.ErrorContains(t, err, want, path)
		require.NotContains(t, err.Error(), "pw@", path)
	}
	require.Zero(t, content.conns.Load())
	require.Zero(t, plain.conns.Load())
	require.Equal(t, int32(1), dns.lookups.Load(), "only the wildcard name was resolved (and refused)")
}

// TestRefusesNamesThatResolveToPrivateAddresses: a name the list allows is
// still refused when any of its addresses is not public, unless the name is
// listed exactly. The default list names nothing exactly by the operator.
func TestRefusesNamesThatResolveToPrivateAddresses(t *testing.T) {
	t.Parallel()
	refused := map[string]string{ // name: the address the refusal names
		"kanzlei.zendesk.com":         "127.0.0.1",
		"files.zdusercontent.com":     "10.0.0.5",
		"mapped.zdusercontent.com":    "10.0.0.5", // answered as ::ffff:10.0.0.5
		"cgnat.zdusercontent.com":     "100.64.1.1",
		"metadata.zdusercontent.com":  "169.254.169.254",
		"ula.zdusercontent.com":       "fd00::1",
		"linklocal.zdusercontent.com": "fe80::1",
		"mixed.zdusercontent.com":     "127.0.0.1",
	}
	dns := &resolver{names: map[string][]string{
		"mapped.zdusercontent.com": {"::ffff:10.0.0.5"},
		"mixed.zdusercontent.com":  {"93.184.216.34", "127.0.0.1"}, // every address is checked
	}}
	for name, addr := range refused {
		if dns.names[name] == nil {
			dns.names[name] = []string{addr}
		}
	}
	// The default list; a short timeout so that a missing guard fails fast
	// instead of waiting on an address nobody answers.
	f := newFetcher(t, nil, fetch.Config{LookupIPAddr: dns.lookup, Timeout: 2 * time.Second})
	for name, addr := range refused {
		_, err := f.Fetch(context.Background(), "https://"+name+"/attachments/token/x/?name=a.pdf")
		requirePermanent(t, err, fetch.ErrRefused)
		require.ErrorContains(t, err, "resolves to "+addr+", not a public address", name)
	}
}

// TestExactNamesMayBePrivate: listing a name exactly is how a self-hosted
// setup (and these tests) reach a private address; the same server under a
// wildcard pattern is refused above.
func TestExactNamesMayBePrivate(t *testing.T) {
	t.Parallel()
	content := newServer(t, true, serveFile)
	api := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if zendeskAuth(w, r) {
			http.Redirect(w, r, "https://files.example.com:"+content.port()+"/file", http.StatusFound)
		}
	})
	dns := &resolver{names: map[string][]string{"zendesk.example.com": {"127.0.0.1"}, "files.example.com": {"127.0.0.1"}}}
	apiHost := "zendesk.example.com:" + api.port()
	f := newFetcher(t, api, fetch.Config{
		AllowedHosts: apiHost + ", FILES.example.com:" + content.port(),
		APIHost:      apiHost, LookupIPAddr: dns.lookup,
	})

	d, err := f.Fetch(context.Background(), "https://"+apiHost+"/attachments/token/x/")
	require.NoError(t, err)
	require.Equal(t, int64(len(statement)), d.Size)
	require.NotEmpty(t, api.authorizations()[0])
	require.Equal(t, []string{""}, content.authorizations())
}

// TestHTTPOnlyInDevelopment: plain http is refused before connecting unless
// the Fetcher runs in development.
func TestHTTPOnlyInDevelopment(t *testing.T) {
	t.Parallel()
	plain := newServer(t, false, serveFile)
	raw := "http://" + plain.host() + "/file"

	production := newFetcher(t, nil, fetch.Config{AllowedHosts: plain.host()})
	_, err := production.Fetch(context.Background(), raw)
	requirePermanent(t, err, fetch.ErrRefused)
	require.Zero(t, plain.conns.Load())

	development := newFetcher(t, nil, fetch.Config{AllowedHosts: plain.host(), AllowHTTP: true})
	d, err := development.Fetch(context.Background(), raw)
	require.NoError(t, err)
	require.Equal(t, int64(len(statement)), d.Size)

	for _, bad := range []string{"ftp://" + plain.host() + "/file", "file:///etc/passwd", "/relative/file", "%zz"} {
		_, err := development.Fetch(context.Background(), bad)
		requirePermanent(t, err, fetch.ErrRefused)
	}
}

// TestRedirectsAreBounded: a redirect loop ends as a permanent error after
// MaxRedirects hops.
func TestRedirectsAreBounded(t *testing.T) {
	t.Parallel()
	var api *server
	api = newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+api.host()+"/again", http.StatusTemporaryRedirect)
	})
	f := newFetcher(t, api, fetch.Config{AllowedHosts: api.host(), APIHost: api.host(), MaxRedirects: 3})
	_, err := f.Fetch(context.Background(), "https://"+api.host()+"/start")
	requirePermanent(t, err, nil)
	require.ErrorContains(t, err, "more than 3 redirects")
	require.Len(t, api.authorizations(), 4)
}

// TestNoProxyFromTheEnvironment: a proxy would be a host outside the rules
// (and would resolve names itself), so the environment's is ignored. Not
// parallel: it sets the environment, which Go reads once per process.
func TestNoProxyFromTheEnvironment(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://proxy.example:3128")
	t.Setenv("HTTP_PROXY", "http://proxy.example:3128")
	content := newServer(t, true, serveFile)
	dns := &resolver{names: map[string][]string{"files.example.com": {"127.0.0.1"}, "proxy.example": {"127.0.0.1"}}}
	host := "files.example.com:" + content.port()
	f := newFetcher(t, content, fetch.Config{AllowedHosts: host, LookupIPAddr: dns.lookup})

	d, err := f.Fetch(context.Background(), "https://"+host+"/file")
	require.NoError(t, err)
	require.Equal(t, int64(len(statement)), d.Size)
	require.Equal(t, int32(1), dns.lookups.Load(), "only the file's host was resolved")
}
