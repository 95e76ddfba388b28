package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/claude"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/outbox"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/services/store"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// workerServices builds the background services in start order: reaper,
// scheduler, outbox relay and pool, plus the portal reconciler when MongoDB
// is configured.
func workerServices(ctx context.Context, cfg *config.Config, log *slog.Logger, st *store.Store,
	queue *workers.Queue, reg prometheus.Registerer) ([]service, error) {
	ex, limiter, err := newExtractor(cfg, st, reg)
	if err != nil {
		return nil, err
	}
	wm := workers.NewMetrics(reg)
	m := matcher.New(st, matcher.Config{
		AutoThreshold: cfg.MatchAutoThreshold, ReviewThreshold: cfg.MatchReviewThreshold, MinGap: cfg.MatchMinGap,
	})
	writer := debts.Writer{SyncEnabled: cfg.MongoDBURL != ""}
	var scans read.Transcriber // nil: tesseract OCR
	if c, ok := ex.(*claude.Extractor); ok {
		scans = c.Transcriber() // scans and images through the same client and Limiter
	}
	stage, downloads, err := attachmentStage(ctx, cfg, st, log, scans)
	if err != nil {
		return nil, err
	}
	opts := []pipeline.Option{pipeline.WithAttachments(stage),
		pipeline.WithGuard(review.Limits{AmountMax: cfg.AmountMax, ChangeFraction: cfg.AmountChangeReview})}
	var demand func() int // nil: no model, the pool holds what its workers run
	if limiter != nil {
		// Model calls wait parked, without a worker slot; the pool holds as
		// many more jobs as the Limiter can have in flight.
		opts = append(opts, pipeline.ParkWhileExtracting())
		demand = limiter.Desired
	}
	proc := pipeline.New(st, ex, m, writer, wm.ObserveStage, opts...)
	pool := workers.NewPool(workers.PoolConfig{
		Concurrency: cfg.WorkerConcurrency, JobTimeout: cfg.JobTimeout, LeaseDuration: cfg.LeaseDuration,
		ShutdownTimeout: cfg.ShutdownTimeout, ModelDemand: demand,
		Retry: background.RetryPolicy{MaxRetries: cfg.JobMaxRetries, MinBackoff: cfg.JobMinBackoff, MaxBackoff: cfg.JobMaxBackoff},
	}, st, queue, proc, wm, log)
	sched := workers.NewScheduler(st, queue, 500*time.Millisecond, log)
	reaper := workers.NewReaper(workers.ReaperConfig{Interval: cfg.ReaperInterval, MaxRescues: cfg.MaxRescues}, st, queue, wm, log)
	sinks, portal, err := outboxSinks(ctx, cfg, log)
	if err != nil {
		downloads.Stop()
		return nil, err
	}
	relay := outbox.NewRelay(outbox.RelayConfig{Interval: cfg.OutboxInterval, MaxAttempts: cfg.OutboxMaxAttempts}, st, sinks, reg, log)
	// Services stop in reverse order: the downloads' directory goes after
	// the pool, the MongoDB client closes last.
	if portal == nil {
		return []service{downloads, reaper, sched, relay, pool}, nil
	}
	return []service{closer{func(ctx context.Context) { _ = portal.Close(ctx) }}, downloads, reaper, sched, relay, pool,
		outbox.NewReconciler(st, portal, cfg.ReconcileInterval, reg, log)}, nil
}

// closer releases a resource when the services stop.
type closer struct{ close func(context.Context) }

func (closer) Start(context.Context) error { return nil }

func (c closer) Stop() {
	if c.close == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.close(ctx)
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
	sinks[models.OutboxBudgetAlert] = mail
	sinks[models.OutboxReviewNeeded] = mail
	return sinks, portal, nil
}

// newExtractor picks Claude or the German rules per LLM_PROVIDER, and
// returns Claude's Limiter (nil for the rules).
func newExtractor(cfg *config.Config, st *store.Store, reg prometheus.Registerer) (pipeline.Extractor, *claude.Limiter, error) {
	if cfg.LLMProvider != "claude" {
		return rules.New(), nil, nil
	}
	// One Limiter for the process: every model call is paced by it, and
	// asks the daily token budget when one is set.
	limiter := claude.NewLimiter(claude.LimiterConfig{MaxInFlight: cfg.LLMMaxInFlight, Budget: tokenBudget(cfg, st)})
	registerLLMMetrics(reg, limiter)
	ex, err := claude.New(claude.Config{
		APIKey: cfg.AnthropicAPIKey, Model: cfg.AnthropicModel, BaseURL: cfg.AnthropicBaseURL, Limiter: limiter,
	})
	return ex, limiter, err
}
