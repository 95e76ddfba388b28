package handlers

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageBase is what the layout needs from every page.
type pageBase struct {
	Title string
	CSRF  string // empty on pages shown before sign-in
	Tab   string // the header tab to mark: "jobs" or "review"
}

// parsePages parses each page together with the layout. The templates are
// compiled into the binary, so a parse error is a build defect: panic early.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{"ts": formatTime, "dur": formatSeconds, "num": formatInt, "conf": formatConfidence, "short": shortText,
		"size": formatBytes, "tokens": formatUsage, "euro": euroPtr, "inc": func(n int) int { return n + 1 }, "pct": func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "list", "detail", "error", "reviews", "review"} {
		pages[name] = template.Must(template.New(name).Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// render writes a page with the admin security headers. It renders into a
// buffer first so a template error still yields a clean 500.
func render(c *gin.Context, log *slog.Logger, pages map[string]*template.Template, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		log.ErrorContext(c.Request.Context(), "render admin page", "page", name, "error", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// pageHeaders keeps admin pages out of caches and frames and forbids any
// script, remote resource or foreign form target.
func pageHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

type errorView struct {
	pageBase
	Heading string
	Message string
	Fields  map[string]string
}

// clientError returns err's domain error and its status from the one code
// table when that is a 4xx a page may show as is; ok is false for anything
// else, which is internal: logged, and shown only generically.
func clientError(err error) (e *models.Error, status int, ok bool) {
	if errors.As(err, &e) {
		status, ok = statusOf[e.Code]
	}
	return e, status, ok && status < 500
}

// pageError renders err as an HTML page, with the status of the one code
// table; internal errors are logged and shown generically.
func pageError(c *gin.Context, log *slog.Logger, pages map[string]*template.Template, csrf string, err error) {
	e, status, ok := clientError(err)
	if !ok {
		log.ErrorContext(c.Request.Context(), "admin page failed", "route", c.FullPath(), "error", err)
		e = &models.Error{Code: models.EINTERNAL, Message: "Something went wrong; try again shortly."}
		status = http.StatusInternalServerError
	}
	render(c, log, pages, status, "error", errorView{
		pageBase: pageBase{Title: http.StatusText(status), CSRF: csrf},
		Heading:  http.StatusText(status), Message: e.Message, Fields: e.Fields,
	})
}

func formatTime(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	case *time.Time:
		if t == nil {
			return "—"
		}
		return formatTime(*t)
	}
	return ""
}

func formatSeconds(s *float64) string {
	if s == nil {
		return "—"
	}
	return (time.Duration(*s * float64(time.Second))).Round(time.Millisecond).String()
}

func formatInt(n *int) string {
	if n == nil {
		return "—"
	}
	return strconv.Itoa(*n)
}

// formatUsage is a model usage as staff read it: tokens by kind and the
// calls; a dash when no model was called.
func formatUsage(u models.LLMUsage) string {
	if u.IsZero() {
		return "—"
	}
	s := fmt.Sprintf("%d in · %d out · %d cache write · %d cache read (%d calls", u.InputTokens, u.OutputTokens,
		u.CacheWriteTokens, u.CacheReadTokens, u.Calls)
	if u.RateLimited > 0 {
		s += fmt.Sprintf(", %d rate-limited", u.RateLimited)
	}
	return s + ")"
}

// formatBytes is a file size in B, KiB or MiB.
func formatBytes(n *int64) string {
	switch {
	case n == nil:
		return "—"
	case *n < 1<<10:
		return fmt.Sprintf("%d B", *n)
	case *n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(*n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(*n)/(1<<20))
}

func formatConfidence(f *float64) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", *f*100)
}

// shortText cuts an error message for the list; the detail shows it whole.
func shortText(s *string) string {
	if s == nil {
		return ""
	}
	const n = 80
	if utf8.RuneCountInString(*s) <= n {
		return *s
	}
	return string([]rune(*s)[:n-1]) + "…"
}

// prettyJSON indents a jsonb document for display; empty for NULL or an empty document.
func prettyJSON(j models.JSON) string {
	if len(j) == 0 || string(j) == "null" || string(j) == "[]" || string(j) == "{}" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, j, "", "  "); err != nil {
		return string(j)
	}
	return buf.String()
}

// euroPtr shows an optional amount; "—" for none.
func euroPtr(f *float64) string {
	if f == nil {
		return "—"
	}
	return euro(*f)
}
