package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/lawfirm/creditor-email-matcher/models"
)

const userAgent = "creditor-email-matcher (attachment download)"

// get requests u and follows redirects by hand: every hop is checked
// against the rules before it is requested, and only a hop to the Zendesk
// API host carries the credentials. It returns the first response that is
// not a redirect, with the URL that gave it.
func (f *Fetcher) get(ctx context.Context, u *url.URL) (*http.Response, *url.URL, error) {
	for hops := 0; ; hops++ {
		if err := f.checkURL(u); err != nil {
			return nil, u, models.Permanent(err)
		}
		resp, err := f.do(ctx, u)
		if err != nil {
			return nil, u, err
		}
		if !isRedirect(resp.StatusCode) {
			return resp, u, nil
		}
		next, err := location(resp, u)
		discard(resp)
		if err != nil {
			return nil, u, models.Permanent(err)
		}
		if hops == f.maxRedirects {
			return nil, u, models.Permanent(fmt.Errorf("GET %s: more than %d redirects", redact(u), f.maxRedirects))
		}
		u = next
	}
}

// checkURL applies the scheme and host rules to one hop, before any
// connection; the dialer applies the address rules.
func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "https" && !(u.Scheme == "http" && f.allowHTTP) {
		return refusedf("%s: only https is allowed outside development", redact(u))
	}
	if u.User != nil {
		return refusedf("%s: the URL carries its own credentials", redact(u))
	}
	if _, ok := f.hosts.match(u.Hostname(), urlPortNumber(u.Scheme, u.Port())); !ok {
		return refusedf("%s: host is not in ATTACHMENT_ALLOWED_HOSTS", redact(u))
	}
	return nil
}

// sendsCredentials reports whether u is the Zendesk API host, the only one
// trusted with the token. Go's client would forward an Authorization header
// on redirect to any host of the same name or a subdomain, ports ignored, so
// the decision is made here for every hop instead.
func (f *Fetcher) sendsCredentials(u *url.URL) bool {
	_, ok := f.api.match(u.Hostname(), urlPortNumber(u.Scheme, u.Port()))
	return ok
}

// do sends one GET.
func (f *Fetcher) do(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, models.Permanent(fmt.Errorf("GET %s: cannot build the request", redact(u)))
	}
	req.Header.Set("User-Agent", userAgent)
	if f.sendsCredentials(u) {
		req.SetBasicAuth(f.email+"/token", f.token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, transportError(u, err)
	}
	return resp, nil
}

// transportError classifies a failed request or body read. It drops
// url.Error's wrapping, which quotes the whole URL with its query. When the
// context ended, Go's transport reports its cause: the file's timeout
// ("download took longer than …") or the caller's deadline or cancel.
func transportError(u *url.URL, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	err = fmt.Errorf("GET %s: %w", redact(u), err)
	if permanentTransportError(err) {
		return models.Permanent(err)
	}
	return models.Transient(err, 0)
}

// permanentTransportError: refused by the rules, a name that does not
// exist, or a certificate that does not verify. Asking again gives the same
// answer until someone changes the URL or the configuration.
func permanentTransportError(err error) bool {
	if errors.Is(err, ErrRefused) {
		return true
	}
	if dnsErr, ok := errors.AsType[*net.DNSError](err); ok && dnsErr.IsNotFound {
		return true
	}
	var (
		verifyErr    *tls.CertificateVerificationError
		recordHeader tls.RecordHeaderError // plain http spoken on an https port
	)
	return errors.As(err, &verifyErr) || errors.As(err, &recordHeader)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// location resolves a redirect's target against the URL that sent it.
func location(resp *http.Response, from *url.URL) (*url.URL, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil, fmt.Errorf("GET %s: redirect without a Location", redact(from))
	}
	next, err := from.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("GET %s: redirect to an unparsable Location", redact(from))
	}
	next.Fragment, next.RawFragment = "", ""
	return next, nil
}

// discard reads a little of a body we do not need, so the connection may be
// reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}

// redact names u by scheme, host and path: never the query (signed URLs
// carry tokens there) nor user info. Long paths are cut.
func redact(u *url.URL) string {
	s := u.Scheme + "://" + u.Host + u.EscapedPath()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
