package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// service is one background component with the River-style lifecycle.
type service interface {
	Start(ctx context.Context) error
	Stop()
}

// serve runs the HTTP server and, per APP_MODE, the background services,
// until ctx is cancelled; then it shuts down in order: stop accepting
// requests, stop fetching and finish jobs, then close Redis and PostgreSQL.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxOpenConns)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.AutoMigrate {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
	}
	rdb, err := workers.OpenRedis(ctx, workers.RedisConfig{
		URL: cfg.RedisURL, PoolSize: max(cfg.RedisPoolSize, cfg.WorkerConcurrency+6),
		DialTimeout: cfg.RedisDialTimeout, SocketTimeout: cfg.RedisSocketTimeout,
	})
	if err != nil {
		return err
	}
	defer rdb.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	queue := workers.NewQueue(rdb, cfg.RedisNamespace, instanceID())

	deps := handlers.Deps{
		Log: log, Metrics: handlers.NewMetrics(reg), Gatherer: reg,
		Checks: map[string]handlers.Pinger{
			"postgres": st.Ping,
			"redis":    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		},
		Webhook: handlers.WebhookConfig{
			Secret: cfg.WebhookSecret, Tolerance: cfg.WebhookTolerance,
			MaxBodyBytes: cfg.WebhookMaxBodyBytes, Timeout: 8 * time.Second,
			UnverifiedMaxBytes: cfg.WebhookUnverifiedMaxBytes,
		},
		AdminToken:            cfg.AdminAPIToken,
		AuthFailuresPerMinute: cfg.AuthFailuresPerMinute,
		TrustedProxies:        cfg.Proxies(),
	}
	if cfg.RunsWeb() {
		deps.Intake = intake.New(st, queue, log)
		deps.Jobs = jobs.New(st, queue, log)
		decisions := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "matcher_review_decisions_total",
			Help: "Review decisions applied, by action."}, []string{"action"})
		reg.MustRegister(decisions, review.NewCollector(st, log))
		deps.Reviews = review.NewService(st, debts.Writer{SyncEnabled: cfg.MongoDBURL != ""}, log,
			func(action string) { decisions.WithLabelValues(action).Inc() })
		// Admin page sessions live in admin_sessions, so a sign-out ends
		// the session on every web process and survives restarts.
		deps.Sessions = st.AdminSessions(time.Now)
		// Database-wide gauges come from web processes only, so worker
		// processes do not report the same figures again.
		reg.MustRegister(jobs.NewCollector(st, queue, log))
	}
	var background []service
	if cfg.RunsWorker() {
		background, err = workerServices(ctx, cfg, log, st, queue, reg)
		if err != nil {
			return err
		}
	}
	return run(ctx, cfg, log, handlers.NewServer(deps), background)
}

// run serves HTTP and starts the background services, then stops all in order.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, h http.Handler, background []service) error {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("http server listening", "addr", ln.Addr().String(), "mode", cfg.AppMode)

	var started []service
	defer func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Stop()
		}
	}()
	for _, s := range background {
		if err := s.Start(ctx); err != nil {
			_ = srv.Close()
			return err
		}
		started = append(started, s)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("http shutdown incomplete", "error", err)
	}
	return nil
}

// instanceID names this process's processing list and heartbeat.
func instanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), models.NewToken()[:8])
}
