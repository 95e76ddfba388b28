package outbox

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// receivedMail is one message the test SMTP server accepted.
type receivedMail struct {
	From string
	To   []string
	Data []byte
}

// testSMTPServer is a real SMTP server on 127.0.0.1 that collects what it receives.
type testSMTPServer struct {
	Host     string
	Port     int
	Username string
	Password string

	mu     sync.Mutex
	mails  []receivedMail
	reject map[string]*smtp.SMTPError // recipient → reply to RCPT TO
}

// newTestSMTPServer starts a server requiring AUTH PLAIN with fresh
// credentials and stops it, waiting for its goroutine, at cleanup.
func newTestSMTPServer(t *testing.T) *testSMTPServer {
	t.Helper()
	ts := &testSMTPServer{Username: "relay", Password: "s3cret", reject: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &testSMTPSession{server: ts}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(l.Addr().String())
	require.NoError(t, err)
	ts.Host = host
	ts.Port, err = strconv.Atoi(port)
	require.NoError(t, err)

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Serve registers l only once it runs; closing l here too ends a
		// Serve that had not started when Close ran.
		_ = l.Close()
		<-done
	})
	return ts
}

// Reject makes RCPT TO for addr fail with the given SMTP reply code.
func (ts *testSMTPServer) Reject(addr string, code int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.reject[addr] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "mailbox unavailable"}
}

// Unreject lets RCPT TO for addr succeed again.
func (ts *testSMTPServer) Unreject(addr string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.reject, addr)
}

// Mails returns a copy of what was accepted so far.
func (ts *testSMTPServer) Mails() []receivedMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMail(nil), ts.mails...)
}

type testSMTPSession struct {
	server *testSMTPServer
	authed bool
	from   string
	to     []string
}

func (s *testSMTPSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSMTPSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.server.Username || password != s.server.Password {
			return smtp.ErrAuthFailed // 535
		}
		s.authed = true
		return nil
	}), nil
}

func (s *testSMTPSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	if err := s.server.reject[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSMTPSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.mails = append(s.server.mails, receivedMail{From: s.from, To: s.to, Data: data})
	return nil
}

func (s *testSMTPSession) Reset() { s.from, s.to = "", nil }

func (s *testSMTPSession) Logout() error { return nil }
