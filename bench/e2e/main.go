// Command e2e measures the matcher end to end: it builds and starts the real
// binary (APP_MODE=all, LLM_PROVIDER=rules) on a fresh database, seeds the
// inquiries the replies answer, posts N signed webhooks through the load
// runner, waits until every email is terminal, and reports emails/s, queue
// wait and latency percentiles (computed by PostgreSQL), the service's peak
// RSS and where the CPU went. It drops its database and Redis keys after.
// With -attachments every reply carries a real file (text PDF, DOCX, XLSX,
// scan), served by a fake Zendesk on 127.0.0.1 that the service may reach.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/svcproc"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

type options struct {
	count, conc, workers, cases int
	load, wait                  time.Duration
	bin, cpuProfile, memProfile string
	pgAdmin                     string
	redisAddr, logLevel         string
	keep, summary, seed         bool
	attachments                 bool
	extraEnv                    []string
	// twin also runs bench/asynqtwin, the same pipeline on asynq, in the
	// same run: rounds times each, interleaved (twin.go).
	twin   bool
	rounds int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.count, "n", 20000, "emails to post")
	fs.IntVar(&o.conc, "c", 32, "concurrent webhook senders")
	fs.IntVar(&o.workers, "workers", 8, "WORKER_CONCURRENCY of the service")
	fs.IntVar(&o.cases, "inquiries", 2000, "creditor inquiries to seed (the replies answer them)")
	fs.DurationVar(&o.load, "d", 2*time.Minute, "stop posting after this long")
	fs.DurationVar(&o.wait, "wait", 150*time.Second, "after posting, give up waiting for terminal statuses after this long")
	fs.StringVar(&o.bin, "bin", "", "prebuilt service binary (default: go build into a temp dir)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "build the profiling variant (bench/profiled) and write the service's CPU profile here")
	fs.StringVar(&o.memProfile, "memprofile", "", "build the profiling variant and write the service's allocations (pprof allocs) here when it stops")
	fs.StringVar(&o.pgAdmin, "pg", "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable", "admin connection (creates/drops the run's database)")
	fs.StringVar(&o.redisAddr, "redis", "127.0.0.1:6379", "Redis address (the run uses its own namespace)")
	fs.StringVar(&o.logLevel, "log-level", "info", "LOG_LEVEL of the service")
	fs.BoolVar(&o.seed, "seed", true, "seed the inquiries (false: every reply is a no_match, the matcher scores nothing)")
	fs.BoolVar(&o.keep, "keep", false, "keep the run's database")
	fs.BoolVar(&o.summary, "summary", false, "also print one machine-readable SUMMARY line")
	fs.BoolVar(&o.attachments, "attachments", false, "attach a real file to every reply (text PDF, DOCX, XLSX, scan in turn), served by a fake Zendesk on 127.0.0.1")
	fs.BoolVar(&o.twin, "twin", false, "also run bench/asynqtwin (the same pipeline on asynq) with the same N and concurrency, interleaved, and compare")
	fs.IntVar(&o.rounds, "rounds", 1, "with -twin: rounds of service + twin")
	env := fs.String("env", "", "extra service environment, comma-separated KEY=VALUE")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.count = min(max(o.count, 1), webhooks.MaxCount)
	o.wait = min(max(o.wait, time.Second), webhooks.MaxDuration)
	o.rounds = min(max(o.rounds, 1), 20)
	if *env != "" {
		o.extraEnv = strings.Split(*env, ",")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if !isLoopbackPG(o.pgAdmin) || !strings.HasPrefix(o.redisAddr, "127.0.0.1:") {
		return fmt.Errorf("-pg and -redis must point at 127.0.0.1")
	}
	tmp, err := os.MkdirTemp("", "bench-e2e-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.bin
	if bin == "" {
		root, err := svcproc.ModuleRoot()
		if err != nil {
			return err
		}
		pkg := "."
		if o.cpuProfile != "" || o.memProfile != "" {
			pkg = "./bench/profiled"
		}
		fmt.Fprintf(stdout, "building %s …\n", pkg)
		if bin, err = svcproc.Build(ctx, root, pkg, "matcher", tmp); err != nil {
			return err
		}
	}
	if o.twin {
		return compareTwin(ctx, o, bin, tmp, stdout, stderr)
	}
	r, err := measureFresh(ctx, o, bin, tmp, stdout, stderr)
	if err != nil {
		return err
	}
	r.name = "service"
	r.print(stdout)
	return r.waitErr
}

// measureFresh measures bin on a database and Redis namespace of its own,
// dropped after.
func measureFresh(ctx context.Context, o options, bin, tmp string, stdout, stderr io.Writer) (report, error) {
	id := "bench_e2e_" + webhooks.RandomHex(5)
	if err := svcproc.CreateDatabase(ctx, o.pgAdmin, id); err != nil {
		return report{}, err
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(stdout, "kept database %s\n", id)
			return
		}
		if err := svcproc.DropDatabase(o.pgAdmin, id); err != nil {
			fmt.Fprintln(stderr, "e2e:", err)
		}
	}()
	defer svcproc.CleanRedis(o.redisAddr, id)
	return measure(ctx, o, bin, id, tmp, stdout)
}

// measure runs bin on database id, seeds it and returns the run's report
// (its waitErr set when emails were left pending).
func measure(ctx context.Context, o options, bin, id, tmp string, stdout io.Writer) (report, error) {
	dbURL, err := svcproc.WithDatabase(o.pgAdmin, id)
	if err != nil {
		return report{}, err
	}
	secret := webhooks.RandomHex(16)
	logPath := filepath.Join(tmp, "service.log")
	env := serviceEnv(o, dbURL, id, secret)
	var files []webhooks.Attachment
	if o.attachments {
		zd, err := startAttachmentServer(tmp)
		if err != nil {
			return report{}, err
		}
		defer zd.close()
		files, env = zd.files, append(env, zd.env...)
	}
	svc, err := svcproc.Start(ctx, bin, logPath, env)
	if err != nil {
		return report{}, err
	}
	defer svc.Stop()

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return report{}, fmt.Errorf("connect run database: %w", err)
	}
	defer conn.Close(context.Background())
	corpus := webhooks.NewCorpus(uint64(time.Now().UnixNano()), o.cases)
	corpus.Files = files
	if o.seed {
		if err := seedInquiries(ctx, conn, corpus.Cases()); err != nil {
			return report{}, err
		}
	}
	fmt.Fprintf(stdout, "posting %d emails with %d senders to pid %d (WORKER_CONCURRENCY=%d) …\n", o.count, o.conc, svc.PID(), o.workers)
	r, waitErr, err := observe(ctx, o, svc, conn, webhooks.LoadConfig{
		URL: "http://127.0.0.1:" + svc.Port + "/api/v1/zendesk/webhook", Secret: secret,
		Concurrency: o.conc, Count: o.count, Duration: o.load, RunID: id, Corpus: corpus,
	})
	if err != nil {
		return report{}, err
	}
	r.logs = svcproc.LogLines(logPath, "WARN", "ERROR") // complete now that the service stopped
	r.waitErr = waitErr
	if o.attachments {
		if err := printAttachments(ctx, conn, stdout); err != nil {
			return report{}, err
		}
	}
	return r, nil
}

// observe is the measured window: it posts the load, waits until the run's
// emails are terminal (waitErr when they are not within o.wait), reads the
// figures and stops the service, as PostgreSQL's counters are complete only
// once its backends have exited.
func observe(ctx context.Context, o options, svc *svcproc.Service, conn *pgx.Conn, load webhooks.LoadConfig) (r report, waitErr, err error) {
	pgBefore, err := readPGCounters(ctx, conn)
	if err != nil {
		return r, nil, err
	}
	before := procstat.TakeCPU(svc.PID())
	sampler := procstat.Sample(ctx, svc.PID(), 20*time.Millisecond)
	r.opts = o
	if r.load, err = webhooks.Run(ctx, load); err != nil {
		sampler.Stop()
		return r, nil, err
	}
	pattern := load.RunID + "-%"
	r.left, waitErr = waitTerminal(ctx, conn, pattern, o.wait)
	r.mem = sampler.Stop()
	r.cpu = procstat.TakeCPU(svc.PID()).Minus(before)
	if r.stats, err = readStats(ctx, conn, pattern); err != nil {
		return r, nil, err
	}
	svc.Stop()
	pgAfter, err := readPGCounters(ctx, conn)
	if err != nil {
		return r, nil, err
	}
	r.pg = pgAfter.minus(pgBefore)
	return r, waitErr, nil
}

// serviceEnv is the service's environment for a run on database dbURL and
// Redis namespace id.
func serviceEnv(o options, dbURL, id, secret string) []string {
	env := []string{"APP_MODE=all", "PORT=0", "DATABASE_URL=" + dbURL, "REDIS_URL=redis://" + o.redisAddr + "/0",
		"REDIS_NAMESPACE=" + id, "WEBHOOK_SECRET=" + secret, "LLM_PROVIDER=rules",
		"WORKER_CONCURRENCY=" + strconv.Itoa(o.workers), "LOG_LEVEL=" + o.logLevel}
	for name, path := range map[string]string{"BENCH_CPUPROFILE": o.cpuProfile, "BENCH_MEMPROFILE": o.memProfile} {
		if path != "" {
			abs, _ := filepath.Abs(path)
			env = append(env, name+"="+abs)
		}
	}
	return append(env, o.extraEnv...)
}

// isLoopbackPG says whether a postgres URL points at 127.0.0.1.
func isLoopbackPG(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Hostname() == "127.0.0.1"
}
