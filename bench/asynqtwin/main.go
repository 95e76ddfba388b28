// Command asynqtwin is the matcher built the way a team would build it
// without this service's queue: the same webhook edge and intake INSERT
// (handlers, services/intake, services/store), the same parser, rules
// extractor, matcher and debt decision, with asynq (v0.26.0) for dispatch
// and retries and the final writes as plain guarded UPDATEs and INSERTs in
// one transaction; the service's outbox relay delivers the outbox rows both
// write. It has no leases and no fencing (a stalled handler and
// its retry can both write), no visible stages, no resume and no reaper
// (an id asynq lost stays received). It reads the service's environment
// (config.Load) and logs "http server listening" like the service, so
// bench/e2e -twin runs it exactly as it runs the service and measures both
// with the same load and the same figures.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/outbox"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := run(ctx, log)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "asynqtwin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxOpenConns)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	// The same pool settings as the service's durable pool: the twin's
	// writes are the plain kind, durable, one pool.
	db, err := store.OpenDB(ctx, cfg.DatabaseURL, cfg.DBMaxOpenConns)
	if err != nil {
		return err
	}
	defer closeDB(db)
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("redis url: %w", err)
	}
	redisOpt := asynq.RedisClientOpt{Addr: ropt.Addr, DB: ropt.DB, Password: ropt.Password}
	queue := cfg.RedisNamespace
	client := asynq.NewClient(redisOpt)
	defer client.Close()

	w := &worker{db: db, extractor: rules.New(), debts: debts.Writer{SyncEnabled: cfg.MongoDBURL != ""},
		matcher: matcher.New(st, matcher.Config{AutoThreshold: cfg.MatchAutoThreshold,
			ReviewThreshold: cfg.MatchReviewThreshold, MinGap: cfg.MatchMinGap}),
		limits: review.Limits{AmountMax: cfg.AmountMax, ChangeFraction: cfg.AmountChangeReview}, store: st}
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency: cfg.WorkerConcurrency, Queues: map[string]int{queue: 1},
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return min(cfg.JobMinBackoff<<min(n, 16), cfg.JobMaxBackoff)
		},
		ErrorHandler: asynq.ErrorHandlerFunc(w.failed),
		Logger:       quietLogger{log}, LogLevel: asynq.WarnLevel,
		ShutdownTimeout: cfg.ShutdownTimeout,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskType, w.process)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	defer srv.Shutdown()

	// The twin writes the same outbox rows, so it runs the service's relay
	// to deliver them (with no MongoDB or SMTP configured, as in bench/e2e,
	// it marks them skipped): otherwise the service alone would pay for it.
	reg := prometheus.NewRegistry()
	mail := outbox.NewSMTPSink(outbox.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
		Password: cfg.SMTPPassword, From: cfg.SMTPFrom, AdminEmail: cfg.AdminEmail, NotifyEmail: cfg.NotifyEmail})
	relay := outbox.NewRelay(outbox.RelayConfig{Interval: cfg.OutboxInterval, MaxAttempts: cfg.OutboxMaxAttempts}, st,
		map[string]outbox.Sink{models.OutboxFailureAlert: mail, models.OutboxDebtNotification: mail}, reg, log)
	if err := relay.Start(ctx); err != nil {
		return fmt.Errorf("start outbox relay: %w", err)
	}
	defer relay.Stop()
	h := handlers.NewServer(handlers.Deps{
		Log: log, Metrics: handlers.NewMetrics(reg), Gatherer: reg,
		Checks: map[string]handlers.Pinger{"postgres": st.Ping},
		Intake: intake.New(st, pusher{client: client, queue: queue, retries: cfg.JobMaxRetries}, log),
		Webhook: handlers.WebhookConfig{Secret: cfg.WebhookSecret, Tolerance: cfg.WebhookTolerance,
			MaxBodyBytes: cfg.WebhookMaxBodyBytes, Timeout: 8 * time.Second,
			UnverifiedMaxBytes: cfg.WebhookUnverifiedMaxBytes},
	})
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	// Logged at the level bench/e2e reads, whatever LOG_LEVEL says.
	log.Log(ctx, slog.LevelWarn+1, "http server listening", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

const taskType = "email"

// pusher hands stored ids to asynq, one task each, as intake's Pusher.
type pusher struct {
	client  *asynq.Client
	queue   string
	retries int
}

// Push enqueues the batch's ids concurrently, as the batch's webhook
// requests would each enqueue its own (asynq has no batch enqueue; one
// after another, intake's batches waited on a round trip per id).
func (p pusher) Push(ctx context.Context, ids ...uint64) error {
	var g errgroup.Group
	g.SetLimit(32)
	for _, id := range ids {
		g.Go(func() error {
			task := asynq.NewTask(taskType, strconv.AppendUint(nil, id, 10))
			if _, err := p.client.EnqueueContext(ctx, task, asynq.Queue(p.queue), asynq.MaxRetry(p.retries)); err != nil {
				return fmt.Errorf("enqueue %d: %w", id, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// quietLogger sends asynq's warnings and errors to the log, without content.
type quietLogger struct{ log *slog.Logger }

func (quietLogger) Debug(...any)     {}
func (quietLogger) Info(...any)      {}
func (l quietLogger) Warn(a ...any)  { l.log.Warn("asynq", "msg", fmt.Sprint(a...)) }
func (l quietLogger) Error(a ...any) { l.log.Error("asynq", "msg", fmt.Sprint(a...)) }
func (l quietLogger) Fatal(a ...any) { l.log.Error("asynq fatal", "msg", fmt.Sprint(a...)); os.Exit(1) }
