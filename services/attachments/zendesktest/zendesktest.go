// Package zendesktest is a fake Zendesk for attachment downloads, for
// tests and benchmarks: an API host that checks Zendesk's API token auth
// (HTTP Basic "{email}/token:{token}") and redirects each attachment's
// content URL to a second, content host that serves the file — as
// <subdomain>.zendesk.com redirects to *.zdusercontent.com. Both are TLS
// servers on 127.0.0.1 sharing httptest's certificate; FetchConfig gives a
// fetch.Config that reaches them (and only them).
package zendesktest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// Credentials the fake accepts by default.
const (
	Email    = "agent@kanzlei.example"
	APIToken = "zd-test-token-0123"
)

// Server is the fake: its API and content hosts.
type Server struct {
	API, Content *httptest.Server
	// Email and APIToken are the credentials the API host accepts.
	Email, APIToken string

	mu        sync.Mutex
	files     map[string]file
	fail      map[string][]int // statuses to answer next, per file
	stalled   map[string]bool
	downloads map[string]int // content answered 200, per file
	requests  map[string]int // content requests, per file
	leaked    int            // content requests that carried an Authorization header
}

type file struct {
	contentType string
	data        []byte
}

// Start starts both hosts; Close stops them.
func Start() *Server {
	s := &Server{Email: Email, APIToken: APIToken, files: map[string]file{}, fail: map[string][]int{},
		stalled: map[string]bool{}, downloads: map[string]int{}, requests: map[string]int{}}
	s.Content = httptest.NewTLSServer(http.HandlerFunc(s.serveContent))
	s.API = httptest.NewTLSServer(http.HandlerFunc(s.serveAPI))
	return s
}

// Close stops both hosts, cutting off stalled requests.
func (s *Server) Close() {
	s.API.CloseClientConnections()
	s.Content.CloseClientConnections()
	s.API.Close()
	s.Content.Close()
}

// Add serves data as the attachment name and returns the attachment as a
// webhook lists it (its URL on the API host, which redirects).
func (s *Server) Add(name, contentType string, data []byte) models.Attachment {
	s.mu.Lock()
	s.files[name] = file{contentType: contentType, data: data}
	s.mu.Unlock()
	return models.Attachment{URL: s.URL(name), Filename: name, ContentType: contentType, Size: int64(len(data))}
}

// URL is the attachment's content_url on the API host.
func (s *Server) URL(name string) string {
	return s.API.URL + "/attachments/token/" + url.PathEscape(name) + "/?name=" + url.QueryEscape(name)
}

// FailNext makes the content host answer the next requests for name with
// statuses, one each, before it serves the file again.
func (s *Server) FailNext(name string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[name] = append(s.fail[name], statuses...)
}

// Stall makes the content host hold requests for name until the client
// gives up (or Close), sending nothing: a download that times out.
func (s *Server) Stall(name string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalled[name] = on
}

// Downloads is how often the content host served name in full.
func (s *Server) Downloads(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads[name]
}

// Requests is how often the content host was asked for name.
func (s *Server) Requests(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[name]
}

// LeakedAuth is how many content requests carried an Authorization
// header: the API token must reach the API host only.
func (s *Server) LeakedAuth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leaked
}

// FetchConfig is a fetch.Config with the fake's credentials, both hosts
// allowed, the API host receiving the token, and its certificate trusted.
func (s *Server) FetchConfig() fetch.Config {
	roots := x509.NewCertPool()
	roots.AddCert(s.API.Certificate())
	return fetch.Config{
		Subdomain: "kanzlei", Email: s.Email, APIToken: s.APIToken,
		AllowedHosts: s.API.Listener.Addr().String() + "," + s.Content.Listener.Addr().String(),
		APIHost:      s.API.Listener.Addr().String(), RootCAs: roots,
	}
}

// CertPEM is the hosts' certificate, for a process that trusts it through
// SSL_CERT_FILE.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.API.Certificate().Raw})
}

// serveAPI checks the API token auth and redirects to the content host.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.Email+"/token" || pass != s.APIToken {
		http.Error(w, `{"error":"Couldn't authenticate you"}`, http.StatusUnauthorized)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/attachments/token/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	name = strings.TrimSuffix(name, "/")
	http.Redirect(w, r, fmt.Sprintf("%s/files/%s?signature=s3cr3t", s.Content.URL, url.PathEscape(name)), http.StatusFound)
}

// serveContent serves a file, or the failure or stall set for it.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/files/")
	s.mu.Lock()
	s.requests[name]++
	if r.Header.Get("Authorization") != "" {
		s.leaked++
	}
	f, found := s.files[name]
	status := 0
	if q := s.fail[name]; len(q) > 0 {
		status, s.fail[name] = q[0], q[1:]
	}
	stalled := s.stalled[name]
	s.mu.Unlock()
	switch {
	case stalled:
		<-r.Context().Done()
		return
	case status != 0:
		w.Header().Set("Retry-After", "1")
		http.Error(w, http.StatusText(status), status)
		return
	case !found:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if _, err := w.Write(f.data); err == nil {
		s.mu.Lock()
		s.downloads[name]++
		s.mu.Unlock()
	}
}
