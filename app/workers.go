package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/outbox"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// workerServices builds the pool, scheduler and reaper, in start order.
func workerServices(ctx context.Context, cfg *config.Config, log *slog.Logger, db, async *gorm.DB,
	queue *workers.Queue, reg prometheus.Registerer) ([]service, error) {
	ex, err := newExtractor(cfg)
	if err != nil {
		return nil, err
	}
	wm := workers.NewMetrics(reg)
	m := matcher.New(db, matcher.Config{
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
	sinks, err := outboxSinks(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	relay := outbox.NewRelay(outbox.RelayConfig{Interval: cfg.OutboxInterval, MaxAttempts: cfg.OutboxMaxAttempts}, db, sinks, reg, log)
	return []service{reaper, sched, relay, pool}, nil
}

// outboxSinks connects the portal's MongoDB and the mail server, when configured.
func outboxSinks(ctx context.Context, cfg *config.Config, log *slog.Logger) (map[string]outbox.Sink, error) {
	sinks := map[string]outbox.Sink{}
	if cfg.MongoDBURL != "" {
		mongo, err := outbox.NewMongoSink(ctx, cfg.MongoDBURL, cfg.MongoDBDatabase)
		if err != nil {
			return nil, err
		}
		sinks[models.OutboxCreditorDebtUpdate] = mongo
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
	return sinks, nil
}

// newExtractor picks Claude or the German rules per LLM_PROVIDER.
func newExtractor(cfg *config.Config) (pipeline.Extractor, error) {
	if cfg.LLMProvider != "claude" {
		return rules.New(), nil
	}
	return claude.New(claude.Config{APIKey: cfg.AnthropicAPIKey, Model: cfg.AnthropicModel, BaseURL: cfg.AnthropicBaseURL})
}
