package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/outbox"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// workerServices builds the background services in start order: reaper,
// scheduler, outbox relay and pool, plus the portal reconciler when MongoDB
// is configured.
func workerServices(ctx context.Context, cfg *config.Config, log *slog.Logger, db, async *gorm.DB,
	queue *workers.Queue, reg prometheus.Registerer) ([]service, error) {
	ex, err := newExtractor(cfg)
	if err != nil {
		return nil, err
	}
	wm := workers.NewMetrics(reg)
	m := matcher.New(async, matcher.Config{
		AutoThreshold: cfg.MatchAutoThreshold, ReviewThreshold: cfg.MatchReviewThreshold, MinGap: cfg.MatchMinGap,
	})
	writer := debts.Writer{SyncEnabled: cfg.MongoDBURL != ""}
	proc := pipeline.New(db, async, ex, m, writer, wm.ObserveStage)
	pool := workers.NewPool(workers.PoolConfig{
		Concurrency: cfg.WorkerConcurrency, JobTimeout: cfg.JobTimeout, LeaseDuration: cfg.LeaseDuration,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Retry:           workers.RetryPolicy{MaxRetries: cfg.JobMaxRetries, MinBackoff: cfg.JobMinBackoff, MaxBackoff: cfg.JobMaxBackoff},
	}, db, async, queue, proc, wm, log)
	sched := workers.NewScheduler(db, queue, 500*time.Millisecond, log)
	reaper := workers.NewReaper(workers.ReaperConfig{Interval: cfg.ReaperInterval, MaxRescues: cfg.MaxRescues}, db, queue, wm, log)
	sinks, portal, err := outboxSinks(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	relay := outbox.NewRelay(outbox.RelayConfig{Interval: cfg.OutboxInterval, MaxAttempts: cfg.OutboxMaxAttempts}, db, sinks, reg, log)
	if portal == nil {
		return []service{reaper, sched, relay, pool}, nil
	}
	// Services stop in reverse order: the MongoDB client closes last.
	return []service{closer{portal}, reaper, sched, relay, pool,
		outbox.NewReconciler(db, portal, cfg.ReconcileInterval, reg, log)}, nil
}

// closer disconnects the portal's MongoDB when the services stop.
type closer struct{ portal *outbox.MongoSink }

func (closer) Start(context.Context) error { return nil }

func (c closer) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.portal.Close(ctx)
}

// outboxSinks connects the portal's MongoDB and the mail server, when configured.
func outboxSinks(ctx context.Context, cfg *config.Config, log *slog.Logger) (map[string]outbox.Sink, *outbox.MongoSink, error) {
	sinks := map[string]outbox.Sink{}
	var portal *outbox.MongoSink
	if cfg.MongoDBURL != "" {
		var err error
		if portal, err = outbox.NewMongoSink(ctx, cfg.MongoDBURL, cfg.MongoDBDatabase); err != nil {
			return nil, nil, err
		}
		sinks[models.OutboxCreditorDebtUpdate] = portal
	} else {
		log.Warn("MONGODB_URL not set: portal sync is off, debt updates stay in PostgreSQL")
	}
	mail := outbox.NewSMTPSink(outbox.SMTPConfig{
		Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, AdminEmail: cfg.AdminEmail, NotifyEmail: cfg.NotifyEmail, AdminBaseURL: cfg.PublicBaseURL,
	})
	if !mail.Configured() {
		log.Warn("SMTP_HOST or SMTP_FROM not set: failure alerts and debt notifications are marked skipped")
	}
	sinks[models.OutboxFailureAlert] = mail
	sinks[models.OutboxDebtNotification] = mail
	return sinks, portal, nil
}

// newExtractor picks Claude or the German rules per LLM_PROVIDER.
func newExtractor(cfg *config.Config) (pipeline.Extractor, error) {
	if cfg.LLMProvider != "claude" {
		return rules.New(), nil
	}
	// One Limiter for the process: every model call is paced by it.
	limiter := claude.NewLimiter(claude.LimiterConfig{MaxInFlight: cfg.LLMMaxInFlight})
	return claude.New(claude.Config{
		APIKey: cfg.AnthropicAPIKey, Model: cfg.AnthropicModel, BaseURL: cfg.AnthropicBaseURL, Limiter: limiter,
	})
}
