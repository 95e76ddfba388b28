package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/svcproc"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

// serviceRun is what a -service run adds to a result.
type serviceRun struct {
	peakRSS  int64 // VmHWM of the service process
	statuses map[string]int
	warnings map[string]int // WARN/ERROR log lines by message
	posted   int
	span     time.Duration // first email received → last terminal
}

// runService drains one backlog through the real service binary bin: a
// fresh database and Redis namespace, a fake Messages API with the
// setting's latency and limits in real time, N signed webhooks posted at
// once, and the figures read when every email is terminal.
func runService(ctx context.Context, s setting, o options, bin, tmp string) (result, serviceRun, error) {
	var sr serviceRun
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	n := o.backlog
	if n == 0 {
		// About a minute of the binding limit, at least six latencies.
		n = max(60, int(math.Ceil(s.rps*max(60, 6*s.latency.Seconds()))))
	}
	itpm, otpm := limitsOf(s, o)
	latency := claudetest.LogNormalLatency(s.latency, 2*s.latency, 1)
	if o.fixed {
		latency = claudetest.FixedLatency(s.latency)
	}
	srv := claudetest.New(claudetest.Options{
		Limits: claudetest.Limits{
			RequestsPerMinute:     int64(math.Round(s.rps * 60)),
			InputTokensPerMinute:  itpm,
			OutputTokensPerMinute: otpm,
			Burst:                 o.burst,
		},
		Latency: latency,
	})
	defer srv.Close()

	id := "bench_llm_" + webhooks.RandomHex(5)
	dbURL, err := svcproc.WithDatabase(o.pgAdmin, id)
	if err != nil {
		return result{}, sr, err
	}
	if err := svcproc.CreateDatabase(ctx, o.pgAdmin, id); err != nil {
		return result{}, sr, err
	}
	defer func() {
		if err := svcproc.DropDatabase(o.pgAdmin, id); err != nil {
			fmt.Fprintln(os.Stderr, "llm:", err)
		}
	}()
	defer svcproc.CleanRedis(o.redisAddr, id)

	secret := webhooks.RandomHex(16)
	logPath := filepath.Join(tmp, id+".log")
	env := serviceEnv(o, dbURL, id, secret, srv.URL())
	svc, err := svcproc.Start(ctx, bin, logPath, env)
	if err != nil {
		return result{}, sr, err
	}
	defer svc.Stop()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return result{}, sr, fmt.Errorf("connect run database: %w", err)
	}
	defer conn.Close(context.Background())

	sampler := procstat.Sample(ctx, svc.PID(), 50*time.Millisecond)
	load, err := webhooks.Run(ctx, webhooks.LoadConfig{
		URL: "http://127.0.0.1:" + svc.Port + "/api/v1/zendesk/webhook", Secret: secret,
		Concurrency: 16, Count: n, RunID: id, Corpus: webhooks.NewCorpus(7, 500),
	})
	if err != nil {
		sampler.Stop()
		return result{}, sr, err
	}
	sr.posted = load.Accepted
	if load.Accepted != n {
		sampler.Stop()
		return result{}, sr, fmt.Errorf("posted %d webhooks, %d accepted (%v)", n, load.Accepted, load.Status)
	}
	pattern := id + "-%"
	waitErr := waitTerminal(ctx, conn, pattern, o.timeout)
	mem := sampler.Stop()
	sr.peakRSS = mem.HWM
	finished, statuses, err := finishTimes(ctx, conn, pattern, &sr.span)
	if err != nil {
		return result{}, sr, err
	}
	sr.statuses = statuses
	svc.Stop()
	sr.warnings = svcproc.LogLines(logPath, "WARN", "ERROR")
	o.scale = 1
	r := summarize(s, o, n, statuses["failed"], finished, srv.Stats(), 0)
	if waitErr != nil {
		return r, sr, waitErr
	}
	_ = os.Remove(logPath)
	return r, sr, nil
}

// serviceEnv is the service's environment: default settings but for the
// model provider pointed at the fake and what -env adds.
func serviceEnv(o options, dbURL, id, secret, apiURL string) []string {
	env := []string{"APP_MODE=all", "PORT=0", "DATABASE_URL=" + dbURL, "REDIS_URL=redis://" + o.redisAddr + "/0",
		"REDIS_NAMESPACE=" + id, "WEBHOOK_SECRET=" + secret, "LOG_LEVEL=info",
		"LLM_PROVIDER=claude", "ANTHROPIC_API_KEY=sk-bench", "ANTHROPIC_BASE_URL=" + apiURL,
		"LLM_MAX_INFLIGHT=" + strconv.Itoa(o.maxInFlight)}
	return append(env, o.extraEnv...)
}

// waitTerminal polls once a second until none of the run's emails is
// pending, or the bound passes.
func waitTerminal(ctx context.Context, conn *pgx.Conn, pattern string, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	for {
		var left int
		err := conn.QueryRow(ctx, `
SELECT count(*) FROM incoming_emails
WHERE processing_status NOT IN ('completed','not_creditor_reply','failed')
  AND zendesk_webhook_id LIKE $1`, pattern).Scan(&left)
		if err != nil {
			return fmt.Errorf("count pending: %w", err)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d emails still not terminal after %s", left, bound)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// finishTimes reads when each of the run's emails finished (failed ones
// aside), relative to the first one received, the count per status and the
// span until the last terminal email.
func finishTimes(ctx context.Context, conn *pgx.Conn, pattern string, span *time.Duration) ([]time.Duration, map[string]int, error) {
	rows, err := conn.Query(ctx, `
SELECT processing_status,
  coalesce(extract(epoch FROM completed_at - min(created_at) OVER ())::float8, -1)
FROM incoming_emails WHERE zendesk_webhook_id LIKE $1`, pattern)
	if err != nil {
		return nil, nil, fmt.Errorf("read finish times: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	statuses := map[string]int{}
	for rows.Next() {
		var status string
		var secs float64
		if err := rows.Scan(&status, &secs); err != nil {
			return nil, nil, fmt.Errorf("read finish times: %w", err)
		}
		statuses[status]++
		if secs >= 0 && status != "failed" {
			out = append(out, time.Duration(secs*float64(time.Second)))
		}
		if d := time.Duration(secs * float64(time.Second)); d > *span {
			*span = d
		}
	}
	slices.Sort(out)
	return out, statuses, rows.Err()
}
