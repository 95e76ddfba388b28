package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

// adminPages serves the server-rendered admin page under /admin.
type adminPages struct {
	log *slog.Logger
	svc JobService
	// reviews is the review queue; nil leaves the Review tab out.
	reviews ReviewService
	token   string
	sess    *sessions
	store   SessionStore
	pages   map[string]*template.Template
	now     func() time.Time
	// throttle counts failed sign-ins, together with wrong bearer tokens.
	throttle *authThrottle
}

func newAdminPages(d Deps, throttle *authThrottle) *adminPages {
	a := &adminPages{log: d.Log, svc: d.Jobs, reviews: d.Reviews, token: d.AdminToken, sess: newSessions(d.AdminToken, d.AdminSessionTTL, d.Now),
		store: d.Sessions, pages: parsePages(), now: d.Now, throttle: throttle}
	if a.store == nil {
		a.store = newMemorySessions(a.sess.ttl, d.Now)
	}
	return a
}

// Where requireSession leaves the session's form token and id.
const (
	csrfKey      = "admin_csrf"
	sessionIDKey = "admin_session_id"
)

// signedIn returns the session of the request's cookie when its signature
// and expiry verify and the store still holds it active.
func (a *adminPages) signedIn(c *gin.Context) (session, bool, error) {
	v, err := c.Cookie(sessionCookie)
	if err != nil {
		return session{}, false, nil
	}
	sess, ok := a.sess.verify(v)
	if !ok {
		return session{}, false, nil
	}
	active, err := a.store.Active(c.Request.Context(), sess.id())
	return sess, active, err
}

// requireSession admits requests with a valid session cookie and sends
// everyone else to the sign-in page. When the store cannot answer, it
// fails closed with an error page.
func (a *adminPages) requireSession(c *gin.Context) {
	sess, ok, err := a.signedIn(c)
	if err != nil {
		c.Abort()
		pageError(c, a.log, a.pages, "", fmt.Errorf("check admin session: %w", err))
		return
	}
	if !ok {
		target := "/admin/login"
		if c.Request.Method == http.MethodGet && c.Request.URL.Path != "/admin" {
			target += "?next=" + url.QueryEscape(c.Request.URL.Path)
		}
		c.Redirect(http.StatusSeeOther, target)
		c.Abort()
		return
	}
	c.Set(csrfKey, a.sess.csrf(sess))
	c.Set(sessionIDKey, sess.id())
	c.Next()
}

// checkCSRF refuses a form POST without the session's token.
func (a *adminPages) checkCSRF(c *gin.Context) bool {
	if sameToken(c.GetString(csrfKey), c.PostForm(csrfField)) {
		return true
	}
	a.log.WarnContext(c.Request.Context(), "admin form refused: bad csrf token", "route", c.FullPath())
	render(c, a.log, a.pages, http.StatusForbidden, "error", errorView{
		pageBase: pageBase{Title: "Forbidden", CSRF: c.GetString(csrfKey)},
		Heading:  "Forbidden", Message: "This form has expired. Reload the page and try again.",
	})
	return false
}

type loginView struct {
	pageBase
	LoginCSRF string
	Next      string
	Error     string
}

func (a *adminPages) loginForm(c *gin.Context) {
	if _, ok, err := a.signedIn(c); ok && err == nil {
		c.Redirect(http.StatusSeeOther, "/admin")
		return
	}
	a.showLogin(c, http.StatusOK, safeNext(c.Query("next")), "")
}

func (a *adminPages) showLogin(c *gin.Context, status int, next, problem string) {
	tok := randomToken()
	setCookie(c.Writer, c.Request, loginCSRFCookie, tok, "/admin/login", loginCSRFTTL)
	render(c, a.log, a.pages, status, "login", loginView{
		pageBase: pageBase{Title: "Sign in"}, LoginCSRF: tok, Next: next, Error: problem,
	})
}

// login trades the admin token for a signed session cookie.
func (a *adminPages) login(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	want, _ := c.Cookie(loginCSRFCookie)
	if !sameToken(want, c.PostForm(csrfField)) {
		a.showLogin(c, http.StatusForbidden, next, "The sign-in form expired. Please try again.")
		return
	}
	addr := c.ClientIP()
	if wait, blocked := a.throttle.blocked(addr); blocked {
		a.log.WarnContext(c.Request.Context(), "admin sign-in refused: too many failed authentications")
		c.Header("Retry-After", retryAfter(wait))
		a.showLogin(c, http.StatusTooManyRequests, next, "Too many failed sign-ins from your address. Please wait a minute, then try again.")
		return
	}
	if !tokenMatches(a.token, c.PostForm("token")) {
		a.throttle.fail(addr)
		a.log.WarnContext(c.Request.Context(), "admin sign-in refused")
		a.showLogin(c, http.StatusUnauthorized, next, "That token is not valid.")
		return
	}
	value, sess, expires := a.sess.issue()
	if err := a.store.Create(c.Request.Context(), sess.id(), expires); err != nil {
		pageError(c, a.log, a.pages, "", fmt.Errorf("create admin session: %w", err))
		return
	}
	setCookie(c.Writer, c.Request, loginCSRFCookie, "", "/admin/login", 0)
	setCookie(c.Writer, c.Request, sessionCookie, value, "/admin", a.sess.ttl)
	a.log.InfoContext(c.Request.Context(), "admin signed in")
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session on the server, so a copy of the cookie stops
// working too, and clears it in the browser.
func (a *adminPages) logout(c *gin.Context) {
	if !a.checkCSRF(c) {
		return
	}
	setCookie(c.Writer, c.Request, sessionCookie, "", "/admin", 0)
	if err := a.store.Revoke(c.Request.Context(), c.GetString(sessionIDKey)); err != nil {
		pageError(c, a.log, a.pages, "", fmt.Errorf("revoke admin session: %w", err))
		return
	}
	a.log.InfoContext(c.Request.Context(), "admin signed out")
	c.Redirect(http.StatusSeeOther, "/admin/login")
}

// safeNext keeps a post-login redirect on the admin page itself.
func safeNext(next string) string {
	if strings.ContainsAny(next, "\\?#") || strings.Contains(next, "//") || path.Clean(next) != next {
		return "/admin"
	}
	if next == "/admin" || strings.HasPrefix(next, "/admin/") {
		return next
	}
	return "/admin"
}

type filterForm struct{ Status, From, Since, Until, Limit string }

type statusCount struct {
	Status models.Status
	Count  int64
	URL    string
	Active bool
}

type listView struct {
	pageBase
	Filter   filterForm
	Statuses []models.Status
	Counts   []statusCount
	AllCount int64
	AllURL   string
	Page     jobs.Page
	NextURL  string
	FirstURL string
	Error    *models.Error
}

// list shows the counts, the filter form and one page of jobs.
func (a *adminPages) list(c *gin.Context) {
	q := c.Request.URL.Query()
	v := listView{
		pageBase: pageBase{Title: "Jobs", CSRF: c.GetString(csrfKey), Tab: "jobs"},
		Filter:   filterForm{Status: q.Get("status"), From: q.Get("from"), Since: q.Get("since"), Until: q.Get("until"), Limit: q.Get("limit")},
		Statuses: models.AllStatuses,
		Page:     jobs.Page{Jobs: []jobs.Summary{}},
	}
	status := http.StatusOK
	f, err := listFilter(q, time.RFC3339, "2006-01-02T15:04", "2006-01-02")
	if err == nil {
		v.Page, err = a.svc.List(c.Request.Context(), f)
	}
	if err != nil {
		// A bad filter is shown above the list; anything else is an error page.
		var ok bool
		if v.Error, status, ok = clientError(err); !ok {
			pageError(c, a.log, a.pages, v.CSRF, err)
			return
		}
	}
	a.fillLinks(&v, q)
	render(c, a.log, a.pages, status, "list", v)
}

// fillLinks builds the status chips and pager links, keeping the other filters.
func (a *adminPages) fillLinks(v *listView, q url.Values) {
	link := func(set map[string]string) string {
		l := url.Values{}
		for _, k := range []string{"status", "from", "since", "until", "limit"} {
			if s := q.Get(k); s != "" {
				l.Set(k, s)
			}
		}
		for k, s := range set {
			if s == "" {
				l.Del(k)
			} else {
				l.Set(k, s)
			}
		}
		if len(l) == 0 {
			return "/admin"
		}
		return "/admin?" + l.Encode()
	}
	v.AllURL = link(map[string]string{"status": ""})
	for _, st := range models.AllStatuses {
		n := v.Page.ByStatus[st]
		v.AllCount += n
		v.Counts = append(v.Counts, statusCount{Status: st, Count: n, URL: link(map[string]string{"status": string(st)}), Active: string(st) == v.Filter.Status})
	}
	if v.Page.NextCursor != nil {
		v.NextURL = link(map[string]string{"cursor": *v.Page.NextCursor})
	}
	if q.Get("cursor") != "" {
		v.FirstURL = link(nil)
	}
}

type detailView struct {
	pageBase
	D            jobs.Detail
	Timeline     []timelineEntry
	Extracted    string
	MatchDetails string
	Attachments  string
	Notice       string
	Problem      string
	Warnings     []string // intake_warnings
	PayloadShown int      // bytes of a raw payload shown at most
	// Review links the review screen: "open" while the email waits for a
	// decision, "decided" after one, empty for an email never held.
	Review string
}

// notices are the fixed messages a redirect may ask the detail page to show.
var notices = map[string]string{
	"retried": "Job queued again; a worker will pick it up shortly.",
}

var problems = map[string]string{
	"not_failed":  "Only failed jobs can be retried, and this one is no longer failed.",
	"undecodable": "This delivery still cannot be used (see the error and the raw payload below); nothing was changed.",
}

// warningList reads intake_warnings for the page; a list it cannot read
// shows as none.
func warningList(doc models.JSON) []string {
	var list []string
	if len(doc) > 0 && json.Unmarshal(doc, &list) != nil {
		return nil
	}
	return list
}

func (a *adminPages) detail(c *gin.Context) {
	csrf := c.GetString(csrfKey)
	id, err := jobID(c.Param("id"))
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	d, err := a.svc.Get(c.Request.Context(), id)
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	render(c, a.log, a.pages, http.StatusOK, "detail", detailView{
		pageBase:     pageBase{Title: "Job " + strconv.FormatUint(id, 10), CSRF: csrf, Tab: "jobs"},
		D:            d,
		Timeline:     timeline(d, a.now().UTC()),
		Extracted:    prettyJSON(d.ExtractedData),
		MatchDetails: prettyJSON(d.MatchDetails),
		Attachments:  prettyJSON(d.AttachmentURLs),
		Notice:       notices[c.Query("notice")],
		Problem:      problems[c.Query("problem")],
		Warnings:     warningList(d.IntakeWarnings),
		PayloadShown: jobs.MaxRawPayloadShown,
		Review:       reviewState(d, a.reviews != nil),
	})
}

// retry re-queues a failed job from its detail page.
func (a *adminPages) retry(c *gin.Context) {
	if !a.checkCSRF(c) {
		return
	}
	id, err := jobID(c.Param("id"))
	if err == nil {
		err = a.svc.Retry(c.Request.Context(), id)
	}
	back := "/admin/jobs/" + strconv.FormatUint(id, 10)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, back+"?notice=retried")
	case models.ErrorCode(err) == models.ECONFLICT && fieldsOf(err) != nil:
		c.Redirect(http.StatusSeeOther, back+"?problem=undecodable")
	case models.ErrorCode(err) == models.ECONFLICT:
		c.Redirect(http.StatusSeeOther, back+"?problem=not_failed")
	default:
		pageError(c, a.log, a.pages, c.GetString(csrfKey), err)
	}
}

// fieldsOf returns the fields a domain error names, nil for none.
func fieldsOf(err error) map[string]string {
	var e *models.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// reviewState says whether the detail page links the review screen.
func reviewState(d jobs.Detail, enabled bool) string {
	switch {
	case !enabled:
		return ""
	case d.MatchStatus != nil && *d.MatchStatus == models.MatchNeedsReview:
		return "open"
	case len(d.ReviewDecisions) > 0:
		return "decided"
	}
	return ""
}
