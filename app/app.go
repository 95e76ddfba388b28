// Package app is the composition root: it loads the configuration, opens
// PostgreSQL and Redis, builds the services and runs what APP_MODE asks for,
// shutting everything down in order.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

const usage = `usage: matcher [serve|migrate|send-sample]

  serve        run the service (the default): APP_MODE=all|web|worker
  migrate      apply database migrations and exit
  send-sample  post a signed sample creditor reply to a running service
`

// Run runs the matcher command given by args until ctx is cancelled.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "send-sample" {
		return sendSample(ctx, args, getenv, stdout, stderr)
	}
	if cmd != "serve" && cmd != "migrate" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if len(args) > 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: %s takes no arguments, got %q", errUsage, cmd, args[0])
	}
	cfg, err := config.Load(getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	if cmd == "migrate" {
		return migrate(ctx, cfg, log)
	}
	tuneGC(cfg.AppMode, getenv)
	return serve(ctx, cfg, log)
}

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	db, err := store.OpenDB(ctx, cfg.DatabaseURL, 2) // no async pool: migrations write durably
	if err != nil {
		return err
	}
	st := store.New(db, db)
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	log.Info("migrations applied")
	return nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToLower(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// errUsage marks a command-line mistake, so ExitCode answers 2.
var errUsage = errors.New("usage")

// ExitCode maps Run's error to a process exit code: 2 for usage and
// configuration problems, 1 for anything else.
func ExitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "matcher:", err)
	if errors.Is(err, config.ErrInvalid) || errors.Is(err, errUsage) {
		return 2
	}
	return 1
}
