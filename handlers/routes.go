package handlers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Deps are everything the HTTP edge needs; nil services leave their routes out
// (a worker-mode process serves only health and metrics).
type Deps struct {
	Log        *slog.Logger
	Metrics    *Metrics
	Gatherer   prometheus.Gatherer
	Checks     map[string]Pinger
	Intake     Acceptor // nil in worker mode
	Webhook    WebhookConfig
	AdminToken string
	Now        func() time.Time
	// Jobs serves the admin API and page; nil leaves them out (worker mode).
	Jobs JobService
	// Reviews serves the review queue; nil leaves its routes out.
	Reviews ReviewService
	// AdminSessionTTL is how long an admin page sign-in lasts (default 12h).
	AdminSessionTTL time.Duration
	// Sessions keeps admin page sessions on the server: the service passes
	// the admin_sessions table (store.AdminSessions). nil, as in tests
	// that do not care, keeps this process's sign-outs in memory only (see
	// memorySessions).
	Sessions SessionStore
	// AuthFailuresPerMinute is how many failed admin authentications one
	// client address may make per minute before it gets 429 (default 20).
	AuthFailuresPerMinute int
	// TrustedProxies (IPs or CIDRs) are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; none by default.
	TrustedProxies []string
}

// NewServer returns the service's HTTP handler with every route.
func NewServer(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	proxies, err := parseProxies(d.TrustedProxies)
	if err == nil {
		err = proxies.apply(r)
	}
	if err != nil { // config.Validate refuses such a list first
		d.Log.Error("trusted proxies ignored", "error", err)
		proxies = nil
		_ = proxies.apply(r)
	}
	r.Use(requestLog(d.Log, d.Metrics), recovery(d.Log), hsts(proxies))
	r.NoRoute(func(c *gin.Context) { writeError(c, d.Log, models.Errorf(models.ENOTFOUND, "no such route")) })
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method not allowed"}})
	})

	r.GET("/healthz", handleHealthz)
	r.HEAD("/healthz", handleHealthz)
	r.GET("/readyz", handleReadyz(d.Checks))
	r.HEAD("/readyz", handleReadyz(d.Checks))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))

	if d.Intake != nil {
		r.POST("/api/v1/zendesk/webhook", handleWebhook(d.Log, d.Webhook, d.Intake, d.Metrics, d.Now))
	}

	r.GET("/api/v1/openapi.json", handleOpenAPI)
	if d.Jobs != nil {
		throttle := newAuthThrottle(d.AuthFailuresPerMinute, d.Now)
		admin := r.Group("/api/v1", noStore, requireToken(d.Log, d.AdminToken, throttle))
		admin.GET("/jobs", handleListJobs(d.Log, d.Jobs))
		admin.POST("/jobs/retry", handleRetryJobs(d.Log, d.Jobs))
		admin.GET("/jobs/:id", handleGetJob(d.Log, d.Jobs))
		admin.POST("/jobs/:id/retry", handleRetryJob(d.Log, d.Jobs))
		if d.Reviews != nil {
			admin.GET("/reviews", handleListReviews(d.Log, d.Reviews))
			admin.POST("/jobs/:id/review", handleDecideReview(d.Log, d.Reviews))
		}

		pages := newAdminPages(d, throttle)
		signin := r.Group("/admin/login", pageHeaders)
		signin.GET("", pages.loginForm)
		signin.POST("", pages.login)
		ui := r.Group("/admin", pageHeaders, pages.requireSession)
		ui.GET("", pages.list)
		ui.GET("/jobs/:id", pages.detail)
		ui.POST("/jobs/:id/retry", pages.retry)
		if d.Reviews != nil {
			ui.GET("/reviews", pages.reviewQueue)
			ui.GET("/reviews/:id", pages.reviewScreen)
			ui.POST("/reviews/:id", pages.decide)
		}
		ui.POST("/logout", pages.logout)
	}
	return r
}
