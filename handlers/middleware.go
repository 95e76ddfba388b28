package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
)

const headerRequestID = "X-Request-Id"

// validRequestID keeps a caller's request id only when it is short and plain,
// so it cannot inject into logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// requestLog tags each request with an id (taken from or added to
// X-Request-Id) and logs method, route, status and duration — never bodies,
// query strings or headers.
func requestLog(log *slog.Logger, m *Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader(headerRequestID)
		if !validRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Header(headerRequestID, id)
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		status := c.Writer.Status()
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Observe(d.Seconds())
		level := slog.LevelInfo
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			level = slog.LevelDebug
		}
		attrs := []any{"request_id", id, "method", c.Request.Method, "route", route, "status", status,
			"duration_ms", float64(d.Microseconds()) / 1000}
		if more, ok := c.Get(logAttrsKey); ok {
			attrs = append(attrs, more.([]any)...)
		}
		log.Log(c.Request.Context(), level, "request", attrs...)
	}
}

// logAttrsKey holds attributes a handler adds to its request's log line.
const logAttrsKey = "log_attrs"

// addLogAttrs adds key-value pairs (ids and counts only) to the request's
// one log line.
func addLogAttrs(c *gin.Context, kv ...any) {
	prev, _ := c.Get(logAttrsKey)
	list, _ := prev.([]any)
	c.Set(logAttrsKey, append(list, kv...))
}

// requireToken admits requests bearing the admin token, compared in constant
// time. With no token configured (development), admin routes stay closed.
// A wrong token counts against the client's address; an address past the
// limit gets 429 until its window ends (authThrottle).
func requireToken(log *slog.Logger, token string, throttle *authThrottle) gin.HandlerFunc {
	return func(c *gin.Context) {
		addr := c.ClientIP()
		if wait, blocked := throttle.blocked(addr); blocked {
			log.WarnContext(c.Request.Context(), "admin api refused: too many failed authentications")
			c.Header("Retry-After", retryAfter(wait))
			writeError(c, log, models.Errorf(models.ETOOMANY, "too many failed authentications from this address, retry later"))
			return
		}
		header := c.GetHeader("Authorization")
		given, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || !tokenMatches(token, given) {
			if header != "" { // a guess; a request without credentials is none
				throttle.fail(addr)
			}
			c.Header("WWW-Authenticate", `Bearer realm="admin"`)
			writeError(c, log, models.Errorf(models.EUNAUTHORIZED, "missing or invalid admin token"))
			return
		}
		c.Next()
	}
}

// noStore keeps answers that carry personal data out of every cache.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// tokenMatches compares in constant time; an unset token never matches.
func tokenMatches(want, given string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.TrimSpace(given))) == 1
}
