package fetch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// statement stands for a creditor's PDF; the downloader never looks inside.
var statement = []byte("%PDF-1.4\nForderungsaufstellung Gesamtforderung 1.212,40 EUR\n%%EOF\n")

// zendeskPair is a fake Zendesk (checks the API token, redirects the
// attachment to the content host) and its content host (serves the file).
type zendeskPair struct {
	api, content *server
}

func newZendeskPair(t *testing.T) *zendeskPair {
	t.Helper()
	z := &zendeskPair{}
	z.content = newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sig") != "SIGNED" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="../Forderung 2026.pdf"`)
		_, _ = w.Write(statement)
	})
	z.api = newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if !zendeskAuth(w, r) {
			return
		}
		http.Redirect(w, r, "https://"+z.content.host()+"/blob/abc?sig=SIGNED", http.StatusFound)
	})
	return z
}

// fetcher allows exactly the two fake hosts and sends credentials to the API.
func (z *zendeskPair) fetcher(t *testing.T, cfg fetch.Config) *fetch.Fetcher {
	cfg.AllowedHosts = z.api.host() + ", " + z.content.host()
	cfg.APIHost = z.api.host()
	return newFetcher(t, z.api, cfg)
}

func (z *zendeskPair) attachmentURL() string {
	return "https://" + z.api.host() + "/attachments/token/tok123/?name=Forderung.pdf"
}

// TestFetchFollowsTheRedirectWithoutForwardingCredentials: the API host gets
// the token (it answers 401 otherwise), the content host on the same
// address but another port gets no Authorization header at all, and the
// file lands in a private temporary file with its hash.
func TestFetchFollowsTheRedirectWithoutForwardingCredentials(t *testing.T) {
	t.Parallel()
	z := newZendeskPair(t)
	f := z.fetcher(t, fetch.Config{})

	d, err := f.Fetch(context.Background(), z.attachmentURL())
	require.NoError(t, err)
	got, err := os.ReadFile(d.Path)
	require.NoError(t, err)
	require.Equal(t, statement, got)
	sum := sha256.Sum256(statement)
	require.Equal(t, hex.EncodeToString(sum[:]), d.SHA256)
	require.Equal(t, int64(len(statement)), d.Size)
	require.Equal(t, "application/pdf", d.ContentType)
	require.Equal(t, "Forderung 2026.pdf", d.Filename, "a hint, never a path")
	require.Equal(t, "https://"+z.content.host()+"/blob/abc", d.Source, "no query")

	require.Len(t, z.api.authorizations(), 1)
	require.NotEmpty(t, z.api.authorizations()[0])
	require.Equal(t, []string{""}, z.content.authorizations(), "the content host never sees the token")

	file, err := os.Stat(d.Path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), file.Mode().Perm())
	dir, err := os.Stat(filepath.Dir(d.Path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), dir.Mode().Perm())

	require.NoError(t, d.Remove())
	require.NoFileExists(t, d.Path)
}

// TestFetchToStreamsIntoAWriter is the in-memory variant.
func TestFetchToStreamsIntoAWriter(t *testing.T) {
	t.Parallel()
	z := newZendeskPair(t)
	f := z.fetcher(t, fetch.Config{})

	var buf bytes.Buffer
	d, err := f.FetchTo(context.Background(), z.attachmentURL(), &buf)
	require.NoError(t, err)
	require.Equal(t, statement, buf.Bytes())
	require.Empty(t, d.Path)
	require.NoError(t, d.Remove())
	require.Equal(t, int64(len(statement)), d.Size)
}

// TestFailedFetchLeavesNoFile: a refused download removes its temporary file.
func TestFailedFetchLeavesNoFile(t *testing.T) {
	t.Parallel()
	z := newZendeskPair(t)
	dir := t.TempDir()
	cfg := fetch.Config{
		Subdomain: "kanzlei", Email: testEmail, APIToken: testToken, TempDir: dir,
		AllowedHosts: z.api.host() + "," + z.content.host(), APIHost: z.api.host(), RootCAs: roots(z.api),
	}
	f, err := fetch.New(cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()

	_, err = f.Fetch(context.Background(), "https://"+z.content.host()+"/blob/abc?sig=WRONG")
	var status *fetch.StatusError
	require.ErrorAs(t, err, &status)
	require.Equal(t, http.StatusNotFound, status.Status)
	private, err := filepath.Glob(filepath.Join(dir, "*", "*"))
	require.NoError(t, err)
	require.Empty(t, private)
}

// TestNotConfigured: without credentials nothing is fetched and the error
// is the sentinel, whose text is the reason to record.
func TestNotConfigured(t *testing.T) {
	t.Parallel()
	z := newZendeskPair(t)
	f, err := fetch.New(fetch.Config{AllowedHosts: z.content.host()})
	require.NoError(t, err)
	require.False(t, f.Configured())

	_, err = f.Fetch(context.Background(), "https://"+z.content.host()+"/blob/abc?sig=SIGNED")
	require.ErrorIs(t, err, fetch.ErrNotConfigured)
	_, err = f.FetchTo(context.Background(), "https://"+z.content.host()+"/blob/abc?sig=SIGNED", &bytes.Buffer{})
	require.ErrorIs(t, err, fetch.ErrNotConfigured)
	require.Equal(t, "Zendesk credentials not configured (ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN)", err.Error())
	require.Zero(t, z.content.conns.Load())
	require.NoError(t, f.Close())

	configured := z.fetcher(t, fetch.Config{})
	require.True(t, configured.Configured())
}

// TestNewRefusesBadSettings names the setting, never the value.
func TestNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  fetch.Config
		want string
	}{
		{fetch.Config{Subdomain: "kanzlei", Email: testEmail}, "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none"},
		{fetch.Config{APIToken: testToken}, "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none"},
		{fetch.Config{Subdomain: "kanzlei.zendesk.com", Email: testEmail, APIToken: testToken}, "ZENDESK_SUBDOMAIN: must be the subdomain alone"},
		{fetch.Config{Subdomain: "kanzlei", Email: testEmail, APIToken: testToken, AllowedHosts: "*.com"}, "ATTACHMENT_ALLOWED_HOSTS: entry 1:"},
		{fetch.Config{Subdomain: "kanzlei", Email: "Agent <" + testEmail + ">", APIToken: testToken}, "ZENDESK_EMAIL: must be a plain e-mail address"},
		{fetch.Config{Subdomain: "kanzlei", Email: testEmail, APIToken: testToken, AllowedHosts: "a.example, https://b.example"}, "ATTACHMENT_ALLOWED_HOSTS: entry 2:"},
	} {
		_, err := fetch.New(tc.cfg)
		require.ErrorContains(t, err, tc.want, "%+v", tc.cfg.AllowedHosts)
		require.NotContains(t, err.Error(), testToken)
		require.False(t, strings.Contains(err.Error(), "b.example"), "the value is not echoed")
	}
}
