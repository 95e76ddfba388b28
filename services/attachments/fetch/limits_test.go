package fetch_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
)

// floodResult is how far a flooding handler got.
type floodResult struct {
	written int64
	err     error
}

// flood answers with total bytes in 32 KiB writes, declared in
// Content-Length when declare is set, else chunked, and reports how far it
// got: a client that stops reading cuts it off with a write error.
func flood(total int64, declare bool, done chan<- floodResult) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if declare {
			w.Header().Set("Content-Length", strconv.FormatInt(total, 10))
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		var res floodResult
		for res.written < total && res.err == nil {
			var n int
			n, res.err = w.Write(chunk)
			res.written += int64(n)
		}
		done <- res
	}
}

// await waits for a handler's report, with a deadline.
func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("no report from the server within 30s")
		panic("unreachable")
	}
}

// TestSizeLimitCutsTheServerOff: a file over MaxBytes is refused on its
// Content-Length, or while streaming when it has none, and the download
// stops there: the server's writes fail long before its 64 MiB are out.
func TestSizeLimitCutsTheServerOff(t *testing.T) {
	t.Parallel()
	const limit, total = 64 << 10, 64 << 20
	for declare, want := range map[bool]string{
		true:  "declares 67108864 bytes, the limit is 65536",
		false: "sent more than 65536 bytes",
	} {
		done := make(chan floodResult, 1)
		s := newServer(t, true, flood(total, declare, done))
		f := newFetcher(t, s, fetch.Config{AllowedHosts: s.host(), MaxBytes: limit})

		_, err := f.Fetch(context.Background(), "https://"+s.host()+"/big.pdf")
		requirePermanent(t, err, fetch.ErrTooLarge)
		require.ErrorContains(t, err, want)
		res := await(t, done)
		require.Error(t, res.err, "the server was cut off (declared: %v)", declare)
		require.Less(t, res.written, int64(total))
	}
}

// TestSizeLimitEdge: exactly MaxBytes is fine, one more byte is not, with
// and without Content-Length.
func TestSizeLimitEdge(t *testing.T) {
	t.Parallel()
	const limit = 1000
	s := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush()
		}
		_, _ = w.Write(bytes.Repeat([]byte("a"), n))
	})
	f := newFetcher(t, s, fetch.Config{AllowedHosts: s.host(), MaxBytes: limit})
	for _, chunked := range []string{"", "1"} {
		base := "https://" + s.host() + "/f?chunked=" + chunked + "&n="
		d, err := f.Fetch(context.Background(), base+strconv.Itoa(limit))
		require.NoError(t, err)
		require.Equal(t, int64(limit), d.Size)
		_, err = f.Fetch(context.Background(), base+strconv.Itoa(limit+1))
		requirePermanent(t, err, fetch.ErrTooLarge)
	}
}

// TestPerFileTimeoutIsTransient: a server that stalls, before its headers
// or in the middle of the body (or a name server that does not answer), is given up after Timeout, well within the
// caller's own deadline, and the email may be retried.
func TestPerFileTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mid-body" {
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })                                   // runs before the server closes
	stalled := func(ctx context.Context, _ string) ([]net.IPAddr, error) { // a DNS server that never answers
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f := newFetcher(t, s, fetch.Config{
		AllowedHosts: s.host() + ",*.example.com", Timeout: 200 * time.Millisecond, LookupIPAddr: stalled,
	})

	caller, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, raw := range []string{
		"https://" + s.host() + "/before-headers",
		"https://" + s.host() + "/mid-body",
		"https://files.example.com/file", // stalls in the lookup
	} {
		_, err := f.Fetch(caller, raw)
		requireTransient(t, err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, "download took longer than 200ms", raw)
		require.NoError(t, caller.Err(), "the file's limit ended it, not the caller's")
	}

	// The caller's own deadline (the email's) is transient too.
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	_, err := f.Fetch(expired, "https://"+s.host()+"/before-headers")
	requireTransient(t, err)
	require.NotContains(t, err.Error(), "took longer than")
}

// TestStatusClassification: what asking again cannot change is permanent;
// rate limits and server trouble are transient, with Retry-After.
func TestStatusClassification(t *testing.T) {
	t.Parallel()
	s := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if ra := r.URL.Query().Get("ra"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(code)
	})
	f := newFetcher(t, s, fetch.Config{AllowedHosts: s.host()})
	get := func(status int, retryAfter string) error {
		q := url.Values{"status": {strconv.Itoa(status)}, "ra": {retryAfter}}
		_, err := f.Fetch(context.Background(), "https://"+s.host()+"/file?"+q.Encode())
		var se *fetch.StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, status, se.Status)
		return err
	}

	for _, status := range []int{401, 403, 404, 410, 400, 204} {
		requirePermanent(t, get(status, "30"), nil)
	}
	require.Equal(t, 7*time.Second, requireTransient(t, get(429, "7")))
	require.Equal(t, 2*time.Minute, requireTransient(t, get(503, "120")))
	require.Equal(t, 10*time.Minute, requireTransient(t, get(429, "86400")), "capped")
	require.Zero(t, requireTransient(t, get(500, "")))
	require.Zero(t, requireTransient(t, get(502, "soon")))
	date := requireTransient(t, get(429, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)))
	require.Equal(t, 10*time.Minute, date, "an HTTP date an hour ahead, capped")
}

// TestErrorsNameURLsWithoutQueryOrToken: signed URLs carry tokens in the
// query, and Go's own errors quote whole URLs; none of it reaches the text.
func TestErrorsNameURLsWithoutQueryOrToken(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		http.NotFound(w, r)
	})
	t.Cleanup(func() { close(release) })
	gone := hangUp(t) // listed, but drops every connection

	f := newFetcher(t, s, fetch.Config{
		AllowedHosts: s.host() + "," + gone, APIHost: s.host(), Timeout: 300 * time.Millisecond,
	})
	const secret = "SECRET-Q"
	basic := base64.StdEncoding.EncodeToString([]byte(testEmail + "/token:" + testToken))
	for _, raw := range []string{
		"https://" + s.host() + "/missing?sig=" + secret,
		"https://" + s.host() + "/slow?sig=" + secret,
		"https://" + gone + "/file?sig=" + secret,
		"https://unlisted.example/file?sig=" + secret,
		"https://user:" + secret + "@" + s.host() + "/file",
		"https://" + s.host() + "/fi%zzle?sig=" + secret, // not a URL at all
	} {
		_, err := f.Fetch(context.Background(), raw)
		require.Error(t, err, raw)
		for _, leak := range []string{secret, testToken, basic} {
			require.NotContains(t, err.Error(), leak, raw)
		}
	}
	_, err := f.Fetch(context.Background(), "https://"+gone+"/file?sig="+secret)
	requireTransient(t, err) // a dropped connection: maybe back soon
}

// hangUp listens on a free port and closes every connection it accepts,
// a server that is going away; it returns "127.0.0.1:port".
func hangUp(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-stopped
	})
	return ln.Addr().String()
}

// TestMaxConcurrentBoundsDownloadsInFlight: with one slot, a second
// download waits for it (within its ctx) and never reaches the server.
func TestMaxConcurrentBoundsDownloadsInFlight(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 2), make(chan struct{})
	s := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
			_, _ = w.Write(statement)
		case <-r.Context().Done():
		}
	})
	f := newFetcher(t, s, fetch.Config{AllowedHosts: s.host(), MaxConcurrent: 1})

	first := make(chan error, 1)
	go func() {
		_, err := f.Fetch(context.Background(), "https://"+s.host()+"/first")
		first <- err
	}()
	await(t, entered)

	waiting, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := f.Fetch(waiting, "https://"+s.host()+"/second")
	requireTransient(t, err)
	require.ErrorContains(t, err, "waiting for a download slot")
	require.Empty(t, entered, "the second download never reached the server")

	close(release)
	require.NoError(t, await(t, first))
}
