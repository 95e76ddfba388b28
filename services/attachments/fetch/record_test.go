package fetch_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// recordFixture is a fake Zendesk whose /api/v2/attachments/{id}.json
// answers attachment records (GET Show Attachment, wire format as
// documented), whose token URLs redirect to the content host, and a
// content host that serves the file without a Content-Disposition.
type recordFixture struct {
	api, content, unlisted *server
	fetcher                *fetch.Fetcher
}

func newRecordFixture(t *testing.T) *recordFixture {
	t.Helper()
	x := &recordFixture{}
	x.content = newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.URL.Path == "/api/v2/attachments/9.json" {
			// Looks like a record, but not on the API host: it is the file.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"attachment":{"content_url":"https://elsewhere.example/x"}}`))
			return
		}
		_, _ = w.Write(statement)
	})
	x.unlisted = newServer(t, true, serveFile)
	x.api = newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if !zendeskAuth(w, r) {
			return
		}
		if r.URL.Path == "/attachments/token/tok/" {
			http.Redirect(w, r, "https://"+x.content.host()+"/blob?sig=SIGNED", http.StatusFound)
			return
		}
		x.serveRecord(w, r)
	})
	x.fetcher = newFetcher(t, x.api, fetch.Config{
		AllowedHosts: x.api.host() + "," + x.content.host(), APIHost: x.api.host(), MaxBytes: 1 << 20,
	})
	return x
}

// serveRecord answers the record each id stands for.
func (x *recordFixture) serveRecord(w http.ResponseWriter, r *http.Request) {
	file := map[string]any{
		"id": 123, "file_name": "Forderungsaufstellung.pdf", "content_type": "application/pdf",
		"content_url": "https://" + x.api.host() + "/attachments/token/tok/?name=Forderungsaufstellung.pdf",
		"size":        len(statement), "inline": false, "deleted": false, "malware_scan_result": "malware_not_found",
	}
	switch r.URL.Path {
	case "/api/v2/attachments/123.json":
	case "/api/v2/attachments/124.json":
		file["content_url"] = "https://" + x.unlisted.host() + "/file"
	case "/api/v2/attachments/125.json":
		file["malware_scan_result"] = "malware_found"
	case "/api/v2/attachments/126.json":
		file["size"] = 1 << 30
	case "/api/v2/attachments/127.json":
		_, _ = w.Write([]byte("<html>maintenance</html>"))
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"attachment": file})
}

func (x *recordFixture) record(id string) string {
	return "https://" + x.api.host() + "/api/v2/attachments/" + id + ".json"
}

// TestAttachmentRecordIsFollowedOnce: a webhook `url` naming the API record
// leads, with credentials, to the record, then to its content_url and the
// redirect to the content host, which gets none.
func TestAttachmentRecordIsFollowedOnce(t *testing.T) {
	t.Parallel()
	x := newRecordFixture(t)

	d, err := x.fetcher.Fetch(context.Background(), x.record("123"))
	require.NoError(t, err)
	got, err := os.ReadFile(d.Path)
	require.NoError(t, err)
	require.Equal(t, statement, got)
	require.Equal(t, "Forderungsaufstellung.pdf", d.Filename, "from the record")
	require.Equal(t, "application/octet-stream", d.ContentType, "the final response's header")
	require.Len(t, x.api.authorizations(), 2)
	for _, auth := range x.api.authorizations() {
		require.NotEmpty(t, auth)
	}
	require.Equal(t, []string{""}, x.content.authorizations())

	// The same path on a host that is not the API is just a file.
	d, err = x.fetcher.Fetch(context.Background(), "https://"+x.content.host()+"/api/v2/attachments/9.json")
	require.NoError(t, err)
	require.Equal(t, "application/json", d.ContentType)
}

// TestAttachmentRecordRules: the record's content_url obeys the same rules,
// and what the record says about the file is believed when it is bad news.
func TestAttachmentRecordRules(t *testing.T) {
	t.Parallel()
	x := newRecordFixture(t)

	_, err := x.fetcher.Fetch(context.Background(), x.record("124"))
	requirePermanent(t, err, fetch.ErrRefused)

	_, err = x.fetcher.Fetch(context.Background(), x.record("125"))
	requirePermanent(t, err, fetch.ErrMalware)

	_, err = x.fetcher.Fetch(context.Background(), x.record("126"))
	requirePermanent(t, err, fetch.ErrTooLarge)
	require.ErrorContains(t, err, "gives the size as 1073741824 bytes")

	_, err = x.fetcher.Fetch(context.Background(), x.record("127"))
	requirePermanent(t, err, nil)
	require.ErrorContains(t, err, "not a Zendesk attachment record")

	_, err = x.fetcher.Fetch(context.Background(), x.record("404"))
	var status *fetch.StatusError
	require.ErrorAs(t, err, &status)
	require.Equal(t, http.StatusNotFound, status.Status)
	requirePermanent(t, err, nil)

	require.Zero(t, x.unlisted.conns.Load())
	require.Zero(t, x.content.conns.Load(), "no file was fetched for a refused record")
}
