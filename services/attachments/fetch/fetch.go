// Package fetch downloads the files creditors attach from Zendesk, under
// rules that keep a hostile webhook payload or redirect from reaching
// anything else.
//
// The rules, each enforced on every hop of every download:
//
//   - Hosts. A URL's host (and port) must match ATTACHMENT_ALLOWED_HOSTS
//     (default: <subdomain>.zendesk.com and *.zdusercontent.com). Redirects
//     are followed by hand, a bounded number of times, and each target is
//     checked before it is requested.
//   - Addresses. The transport's dialer resolves the host itself and refuses
//     it if any of its addresses is not public (loopback, private, link-local,
//     CGNAT, multicast, reserved, or such an IPv4 address mapped into IPv6),
//     then dials the address it checked, so DNS rebinding cannot slip in
//     between. Only a host the operator listed by exact name may be private
//     (a self-hosted setup, tests); a wildcard never. No proxy is used.
//   - Scheme. https only, unless the Fetcher runs in development.
//   - Credentials. Zendesk's API token (HTTP Basic "{email}/token:{token}")
//     goes only to the Zendesk API host, never to the content host a redirect
//     leads to. URLs carrying their own user:password are refused.
//   - Size and time. MaxBytes is checked against Content-Length, then
//     enforced while streaming (at most MaxBytes+1 bytes are read); Timeout
//     bounds each file, all hops included; the caller's ctx bounds the email.
//
// Errors come back wrapped in models.Permanent (refused, too large, 401, 403,
// 404, 410 and other 4xx, unknown host, bad certificate) or models.Transient
// (timeouts, connection errors, 5xx, 408, 429 with Retry-After). Their text
// names URLs by scheme, host and path only: Zendesk's signed URLs carry
// tokens in the query. Nothing here logs.
package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New for zero Config fields (the issue's
// ATTACHMENT_MAX_BYTES and ATTACHMENT_TIMEOUT defaults).
const (
	DefaultMaxBytes     = 20 << 20
	DefaultTimeout      = 60 * time.Second
	DefaultMaxRedirects = 5
)

// ErrNotConfigured is returned by Fetch when the Zendesk credentials are not
// set. Its text is the reason to record with the skipped attachments.
var ErrNotConfigured = errors.New("Zendesk credentials not configured (ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN)")

// Config is what a Fetcher needs; the zero value of an optional field takes its default.
type Config struct {
	Subdomain string // ZENDESK_SUBDOMAIN: "firm" for firm.zendesk.com
	Email     string // ZENDESK_EMAIL
	APIToken  string // ZENDESK_API_TOKEN

	// AllowedHosts is ATTACHMENT_ALLOWED_HOSTS as written (see
	// ParseAllowedHosts); empty means DefaultAllowedHosts(Subdomain).
	AllowedHosts string
	MaxBytes     int64         // per file; 0 is DefaultMaxBytes
	Timeout      time.Duration // per file, redirects included; 0 is DefaultTimeout
	AllowHTTP    bool          // plain http allowed: ENVIRONMENT=development only
	// MaxConcurrent bounds downloads in flight in this Fetcher (and so the
	// temporary disk they use); 0 leaves it to the caller.
	MaxConcurrent int
	// TempDir is where Fetch makes its private directory; "" is os.TempDir().
	TempDir string

	// APIHost is the host ("host" or "host:port") that receives the
	// credentials; "" is <Subdomain>.zendesk.com. Tests point it at a fake.
	APIHost string
	// RootCAs verifies servers; nil is the system pool. Tests pass their CA.
	RootCAs *x509.CertPool
	// LookupIPAddr resolves names; nil is net.DefaultResolver. Tests map
	// names to chosen addresses with it.
	LookupIPAddr func(ctx context.Context, host string) ([]net.IPAddr, error)
	MaxRedirects int // 0 is DefaultMaxRedirects
}

// Fetcher downloads attachments. It is safe for concurrent use.
type Fetcher struct {
	configured   bool
	email, token string
	api          hostList // the one host that gets the credentials
	hosts        hostList
	allowHTTP    bool
	maxBytes     int64
	maxRedirects int
	timeout      error // the per-file deadline's cause
	timeoutAfter time.Duration
	slots        chan struct{}
	dir          string
	transport    *http.Transport
	client       *http.Client
}

// New builds a Fetcher. Without credentials it succeeds and every Fetch
// returns ErrNotConfigured; settings Problems lists make it fail. A
// configured Fetcher owns a private temporary directory until Close.
func New(cfg Config) (*Fetcher, error) {
	if p := Problems(cfg); len(p) > 0 {
		return nil, errors.New(strings.Join(p, "; "))
	}
	cfg = withDefaults(cfg)
	f := &Fetcher{
		configured:   cfg.APIToken != "",
		email:        cfg.Email,
		token:        cfg.APIToken,
		allowHTTP:    cfg.AllowHTTP,
		maxBytes:     cfg.MaxBytes,
		maxRedirects: cfg.MaxRedirects,
		timeoutAfter: cfg.Timeout,
		timeout:      fmt.Errorf("download took longer than %s: %w", cfg.Timeout, context.DeadlineExceeded),
	}
	if !f.configured {
		return f, nil
	}
	hosts, _ := ParseAllowedHosts(cfg.AllowedHosts) // checked by Problems
	if len(hosts) == 0 {
		hosts = DefaultAllowedHosts(cfg.Subdomain)
	}
	api, err := parsePattern(cfg.APIHost)
	if err != nil || api.Wildcard {
		return nil, fmt.Errorf("APIHost: %w", ErrHostPattern)
	}
	f.hosts, f.api = hosts, hostList{api}
	if cfg.MaxConcurrent > 0 {
		f.slots = make(chan struct{}, cfg.MaxConcurrent)
	}
	if f.dir, err = os.MkdirTemp(cfg.TempDir, "attachments-"); err != nil { // mode 0700
		return nil, fmt.Errorf("attachment download directory: %w", err)
	}
	f.transport = newTransport(&dialer{hosts: hosts, lookup: cfg.LookupIPAddr}, cfg.RootCAs)
	f.client = &http.Client{
		Transport: f.transport,
		// Redirects are followed by get, which checks each hop and decides
		// per hop whether the credentials go along.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f, nil
}

func withDefaults(cfg Config) Config {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.APIHost == "" {
		cfg.APIHost = cfg.Subdomain + ".zendesk.com"
	}
	if cfg.LookupIPAddr == nil {
		cfg.LookupIPAddr = net.DefaultResolver.LookupIPAddr
	}
	return cfg
}

// Problems lists what is wrong with cfg's settings, each line naming its
// environment variable and never quoting a value: config.Validate reports
// them at start-up, New refuses them.
func Problems(cfg Config) []string {
	var p []string
	set := 0
	for _, v := range []string{cfg.Subdomain, cfg.Email, cfg.APIToken} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		p = append(p, "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN: set all three or none")
	}
	if cfg.Subdomain != "" && !ValidLabel(cfg.Subdomain) {
		p = append(p, "ZENDESK_SUBDOMAIN: must be the subdomain alone (firm for firm.zendesk.com)")
	}
	if addr, err := mail.ParseAddress(cfg.Email); cfg.Email != "" && (err != nil || addr.Address != cfg.Email) {
		p = append(p, "ZENDESK_EMAIL: must be a plain e-mail address")
	}
	if _, err := ParseAllowedHosts(cfg.AllowedHosts); err != nil {
		p = append(p, "ATTACHMENT_ALLOWED_HOSTS: "+err.Error())
	}
	return p
}

// newTransport is an HTTP transport that dials only through d, trusts
// roots (nil: the system's), ignores proxy settings and leaves bodies
// compressed as sent, so the size limit counts the bytes on the wire.
func newTransport(d *dialer, roots *x509.CertPool) *http.Transport {
	d.net = net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    15 * time.Second,
		ForceAttemptHTTP2:      true,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        60 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// Configured reports whether the Zendesk credentials are set; when not,
// Fetch returns ErrNotConfigured.
func (f *Fetcher) Configured() bool { return f.configured }

// Close closes idle connections and removes the private directory with
// any downloads still in it. Call it once, when no Fetch is running.
func (f *Fetcher) Close() error {
	if !f.configured {
		return nil
	}
	f.transport.CloseIdleConnections()
	return os.RemoveAll(f.dir)
}

// acquire takes a download slot when MaxConcurrent is set.
func (f *Fetcher) acquire(ctx context.Context) (release func(), err error) {
	if f.slots == nil {
		return func() {}, nil
	}
	select {
	case f.slots <- struct{}{}:
		return func() { <-f.slots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a download slot: %w", context.Cause(ctx))
	}
}

// urlPortNumber is the port a URL's host names, or its scheme's standard port.
func urlPortNumber(scheme, port string) int {
	if port == "" {
		if scheme == "http" {
			return 80
		}
		return 443
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	return n
}
