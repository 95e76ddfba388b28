// Package background holds what the service's background work shares,
// whichever package runs it: the lifecycle of a periodic loop (the reaper,
// the scheduler, the outbox relay, the portal reconciler) and the backoff of
// a retried piece of work (a job, an outbox delivery). It sits below both
// workers and services, so neither has to import the other for it.
package background

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Loop runs a function now and then every interval, in the background, with
// the lifecycle every background service here shares (after River): Start
// returns at once; a failing run is logged and the loop goes on;
// context.Canceled is not a failure; Stop cancels a run in progress, waits
// for it, and is safe to call twice.
type Loop struct {
	name     string
	interval time.Duration
	run      func(ctx context.Context) error
	log      *slog.Logger

	cancel context.CancelFunc
	done   sync.WaitGroup
	once   sync.Once
}

// NewLoop returns a loop calling run every interval; name labels its log lines.
func NewLoop(name string, interval time.Duration, run func(ctx context.Context) error, log *slog.Logger) *Loop {
	return &Loop{name: name, interval: interval, run: run, log: log}
}

// Start runs the loop in the background until Stop.
func (l *Loop) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		t := time.NewTicker(l.interval)
		defer t.Stop()
		for {
			if err := l.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				l.log.Warn(l.name+" run failed", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop stops the loop and waits for the run in progress; safe twice.
func (l *Loop) Stop() {
	l.once.Do(func() {
		if l.cancel != nil {
			l.cancel()
			l.done.Wait()
		}
	})
}
