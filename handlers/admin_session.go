package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// Admin page cookies. The session cookie holds an HMAC-signed expiry and a
// random nonce, never the admin token; the signing key is derived from the
// token, so rotating ADMIN_API_TOKEN signs every session out, and every web
// process can check the others' cookies without shared state. Sign-out is
// the SessionStore's part: it revokes the nonce on the server.
const (
	sessionCookie    = "matcher_admin_session"
	loginCSRFCookie  = "matcher_admin_login"
	csrfField        = "csrf_token"
	defaultAdminTTL  = 12 * time.Hour
	loginCSRFTTL     = 30 * time.Minute
	sessionNonceSize = 16
)

// sessions signs and checks admin page sessions.
type sessions struct {
	key []byte // nil when no admin token is configured: nobody can sign in
	ttl time.Duration
	now func() time.Time
}

func newSessions(adminToken string, ttl time.Duration, now func() time.Time) *sessions {
	s := &sessions{ttl: ttl, now: now}
	if s.ttl <= 0 {
		s.ttl = defaultAdminTTL
	}
	if adminToken != "" {
		mac := hmac.New(sha256.New, []byte(adminToken))
		mac.Write([]byte("creditor-matcher/admin-session/v1"))
		s.key = mac.Sum(nil)
	}
	return s
}

// session is a verified session value; its nonce keys the form token and,
// encoded, is its id in the SessionStore.
type session struct {
	nonce []byte
}

// id names the session in the SessionStore.
func (s session) id() string { return base64.RawURLEncoding.EncodeToString(s.nonce) }

// issue returns a new signed session value, the session and its expiry.
func (s *sessions) issue() (value string, sess session, expires time.Time) {
	expires = s.now().Add(s.ttl)
	payload := make([]byte, 8+sessionNonceSize)
	binary.BigEndian.PutUint64(payload, uint64(expires.Unix()))
	_, _ = rand.Read(payload[8:])
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.sign("session", payload)), session{nonce: payload[8:]}, expires
}

// verify checks the signature and expiry of a session value: the cheap
// first check, before the SessionStore is asked.
func (s *sessions) verify(v string) (session, bool) {
	if s.key == nil {
		return session{}, false
	}
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return session{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	given, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(payload) != 8+sessionNonceSize {
		return session{}, false
	}
	if !hmac.Equal(s.sign("session", payload), given) {
		return session{}, false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload)), 0)
	if !s.now().Before(exp) {
		return session{}, false
	}
	return session{nonce: payload[8:]}, true
}

// csrf is the session's form token: derived from the session, so the
// server stores nothing and a token is useless with another session.
func (s *sessions) csrf(sess session) string {
	return base64.RawURLEncoding.EncodeToString(s.sign("csrf", sess.nonce))
}

func (s *sessions) sign(purpose string, data []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write(data)
	return mac.Sum(nil)
}

// sameToken compares two form tokens in constant time; empty never matches.
func sameToken(want, given string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(given)) == 1
}

// randomToken returns a fresh unguessable token for the login form.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secureRequest reports whether the browser reached us over TLS, directly
// or through a proxy that terminates it (Render does); cookies get Secure
// then. Unlike HSTS it believes X-Forwarded-Proto from any peer: a forged
// "https" only makes the forger's own cookie stricter.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || forwardedProto(r) == "https"
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secureRequest(r),
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
		c.Expires = time.Now().Add(maxAge)
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
