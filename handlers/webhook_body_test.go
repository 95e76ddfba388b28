package handlers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// untouchedBody fails the test if the handler reads a byte of it.
type untouchedBody struct {
	t    *testing.T
	read bool
}

func (b *untouchedBody) Read([]byte) (int, error) {
	b.read = true
	return 0, io.EOF
}

// TestWebhookChecksBeforeReading: a request without good signature headers,
// or announcing a body over the limit, is answered without reading its body.
func TestWebhookChecksBeforeReading(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	body := whPayload(nil)
	ts := e.now.Format(time.RFC3339)
	cases := map[string]struct {
		headers map[string]string
		length  int64
		status  int
	}{
		"no signature":    {nil, int64(len(body)), http.StatusUnauthorized},
		"no timestamp":    {map[string]string{headerSignature: Sign(whSecret, ts, body)}, int64(len(body)), http.StatusUnauthorized},
		"stale timestamp": {signedHeaders(whSecret, e.now.Add(-time.Hour).Format(time.RFC3339), body), int64(len(body)), http.StatusUnauthorized},
		"not base64":      {map[string]string{headerSignatureTS: ts, headerSignature: "%%%"}, int64(len(body)), http.StatusUnauthorized},
		"short signature": {map[string]string{headerSignatureTS: ts, headerSignature: "YWJj"}, int64(len(body)), http.StatusUnauthorized},
		"over the limit":  {signedHeaders(whSecret, ts, body), whMaxBody + 1, http.StatusRequestEntityTooLarge},
		"huge, unsigned":  {nil, 1 << 40, http.StatusRequestEntityTooLarge},
		"good headers":    {signedHeaders(whSecret, ts, body), int64(len(body)), http.StatusBadRequest}, // the body never comes
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := &untouchedBody{t: t}
			req := httptest.NewRequest(http.MethodPost, webhookPath, src)
			req.ContentLength = tc.length
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			whError(t, rec, tc.status)
			if name == "good headers" {
				require.True(t, src.read, "good headers: the body is read (and found short)")
				return
			}
			require.False(t, src.read, "the body was read")
		})
	}
}

// rawConn speaks HTTP/1.1 by hand, to see exactly what the server sends.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// head sends a POST's request line and headers, with Content-Length n.
func (r *rawConn) head(n int, headers map[string]string) {
	r.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", webhookPath, n)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(r.c, b.String())
	require.NoError(r.t, err)
}

// response reads one response (an interim 100 has no body) and returns its
// status, headers and body.
func (r *rawConn) response() (int, http.Header, []byte) {
	r.t.Helper()
	res, err := http.ReadResponse(r.br, nil)
	require.NoError(r.t, err)
	if res.StatusCode == http.StatusContinue {
		return res.StatusCode, res.Header, nil
	}
	body, err := io.ReadAll(res.Body)
	require.NoError(r.t, err)
	return res.StatusCode, res.Header, body
}

// TestWebhookNoContinueBeforeHeadersAreGood: with Expect: 100-continue the
// server asks for the body only when the signature headers and the size
// are good; otherwise the refusal is the first thing the client hears.
func TestWebhookNoContinueBeforeHeadersAreGood(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	body := whPayload(nil)
	ts := e.now.Format(time.RFC3339)
	expect := func(h map[string]string) map[string]string {
		h["Expect"] = "100-continue"
		return h
	}
	for name, tc := range map[string]struct {
		headers map[string]string
		length  int
		status  int
	}{
		"no signature":    {expect(map[string]string{}), len(body), http.StatusUnauthorized},
		"bad signature":   {expect(map[string]string{headerSignatureTS: ts, headerSignature: "garbage"}), len(body), http.StatusUnauthorized},
		"stale timestamp": {expect(signedHeaders(whSecret, e.now.Add(-time.Hour).Format(time.RFC3339), body)), len(body), http.StatusUnauthorized},
		"too large":       {expect(signedHeaders(whSecret, ts, body)), whMaxBody + 1, http.StatusRequestEntityTooLarge},
	} {
		conn := dialRaw(t, srv.Listener.Addr().String())
		conn.head(tc.length, tc.headers)
		status, _, answer := conn.response()
		require.Equal(t, tc.status, status, "%s: the first answer (no 100 Continue before it): %s", name, answer)
	}

	// Good headers: the server asks for the body, then accepts it.
	conn := dialRaw(t, srv.Listener.Addr().String())
	conn.head(len(body), expect(signedHeaders(whSecret, ts, body)))
	status, _, _ := conn.response()
	require.Equal(t, http.StatusContinue, status)
	_, err := conn.c.Write(body)
	require.NoError(t, err)
	status, _, answer := conn.response()
	require.Equal(t, http.StatusOK, status, string(answer))
	require.Equal(t, int64(1), e.count(t))
}

// holdBudget starts a signed request that announces n body bytes and asks
// to continue; once the 100 arrives its reservation is held. It sends no
// body until the returned connection is closed.
func holdBudget(t *testing.T, e *whEnv, addr string, n int) *rawConn {
	t.Helper()
	conn := dialRaw(t, addr)
	h := signedHeaders(whSecret, e.now.Format(time.RFC3339), []byte("never sent"))
	h["Expect"] = "100-continue"
	conn.head(n, h)
	status, _, _ := conn.response()
	require.Equal(t, http.StatusContinue, status, "the reservation is granted")
	return conn
}

// requireRefused sends signed headers announcing n bytes and expects a 503
// with Retry-After in seconds, before the body is asked for.
func requireRefused(t *testing.T, e *whEnv, addr string, n int) {
	t.Helper()
	conn := dialRaw(t, addr)
	h := signedHeaders(whSecret, e.now.Format(time.RFC3339), []byte("never sent"))
	h["Expect"] = "100-continue"
	conn.head(n, h)
	status, header, answer := conn.response()
	require.Equal(t, http.StatusServiceUnavailable, status, string(answer))
	_, err := strconv.Atoi(header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in seconds: %q", header.Get("Retry-After"))
	var eb errorBody
	require.NoError(t, json.Unmarshal(answer, &eb))
	require.Equal(t, models.EUNAVAILABLE, eb.Error.Code)
}

// TestWebhookUnverifiedBytesBounded: bodies waiting for their signature
// check hold at most UnverifiedMaxBytes together, in two lanes: small
// bodies (up to 1/8 of the body limit, at most 64 KiB) in a quarter of it,
// so a queue of large ones does not hold up Zendesk's usual few-kilobyte
// replies, and large ones in the rest. A request that finds no room in its
// lane within BudgetWait gets 503 with Retry-After (Zendesk retries it)
// without being read; room given back lets the next one through.
func TestWebhookUnverifiedBytesBounded(t *testing.T) {
	t.Parallel()
	const small = whMaxBody / 8 // the small lane's largest body here
	e := newWHEnv(t, whOptions{webhook: func(c *WebhookConfig) {
		c.UnverifiedMaxBytes = 4 * whMaxBody // small lane: 1 body limit; large lane: 3
		c.BudgetWait = 200 * time.Millisecond
		c.BodyGrace = time.Minute // the holders below do not time out
	}})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	var large []*rawConn
	for range 3 {
		large = append(large, holdBudget(t, e, addr, whMaxBody))
	}
	requireRefused(t, e, addr, whMaxBody)
	requireRefused(t, e, addr, small+1)
	smallBody := func() []byte { return whPayload(nil) }
	requireAcceptedSoon(t, srv.URL, e, smallBody) // the small lane is free

	var smalls []*rawConn
	for range 8 {
		smalls = append(smalls, holdBudget(t, e, addr, small))
	}
	requireRefused(t, e, addr, 100)

	// A holder that goes away gives its room back.
	require.NoError(t, smalls[0].c.Close())
	requireAcceptedSoon(t, srv.URL, e, smallBody)
	require.NoError(t, large[0].c.Close())
	requireAcceptedSoon(t, srv.URL, e, func() []byte {
		return whPayload(map[string]any{"body_text": strings.Repeat("x", whMaxBody-1000)})
	})
	require.Equal(t, int64(3), e.count(t))
}

// requireAcceptedSoon posts fresh signed bodies until one is accepted: the
// room a closed connection gives back comes a moment later.
func requireAcceptedSoon(t *testing.T, base string, e *whEnv, body func() []byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := body()
		req, err := http.NewRequest(http.MethodPost, base+webhookPath, bytes.NewReader(b))
		require.NoError(t, err)
		for k, v := range signedHeaders(whSecret, e.now.Format(time.RFC3339), b) {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		answer, _ := io.ReadAll(res.Body)
		require.NoError(t, res.Body.Close())
		if res.StatusCode == http.StatusOK {
			return
		}
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, string(answer))
		require.True(t, time.Now().Before(deadline), "still no room after 10s")
	}
}

// TestWebhookSlowSenderLosesItsRoom: a body that stalls below the minimum
// rate is cut off (400) and its reservation given back.
func TestWebhookSlowSenderLosesItsRoom(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{webhook: func(c *WebhookConfig) {
		c.UnverifiedMaxBytes = whMaxBody
		c.BudgetWait = 10 * time.Second // waits longer than the slow sender may take
		c.BodyGrace = 100 * time.Millisecond
		c.MinBodyRate = 1024
	}})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	slow := holdBudget(t, e, srv.Listener.Addr().String(), whMaxBody)
	_, err := slow.c.Write([]byte(`{"ticket_id":`))
	require.NoError(t, err)
	// It stalls; the server cuts it off without any help from this side.
	status, _, answer := slow.response()
	require.Equal(t, http.StatusBadRequest, status, string(answer))
	require.Contains(t, string(answer), "too slowly")
	requireAcceptedSoon(t, srv.URL, e, func() []byte {
		return whPayload(map[string]any{"body_text": strings.Repeat("x", whMaxBody-1000)})
	})
}

// TestWebhookChunkedBodyLimit: a body without Content-Length reserves the
// whole limit and is cut off with 413 once it passes it.
func TestWebhookChunkedBodyLimit(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	post := func(body []byte) (int, []byte) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+webhookPath, io.MultiReader(bytes.NewReader(body)))
		require.NoError(t, err)
		req.ContentLength = -1 // unknown: the client sends it chunked
		for k, v := range signedHeaders(whSecret, e.now.Format(time.RFC3339), body) {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		answer, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, answer
	}
	big := whPayload(map[string]any{"body_text": strings.Repeat("Forderung ", whMaxBody/10+1)})
	status, answer := post(big)
	require.Equal(t, http.StatusRequestEntityTooLarge, status, string(answer))
	status, answer = post(whPayload(map[string]any{"body_text": strings.Repeat("x", whMaxBody-1000)}))
	require.Equal(t, http.StatusOK, status, string(answer))
	require.Equal(t, int64(1), e.count(t))
}
