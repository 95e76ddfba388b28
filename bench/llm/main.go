// Command llm simulates a backlog of emails through the Claude extractor and
// its Limiter against the fake Messages API (services/claude/claudetest), for
// combinations of model latency and account rate limit, and reports how fast
// the backlog drains against the binding limit, the share of 429 answers, the
// calls in flight, tokens per email and the cached share.
//
// It is the first half of bench/llm: the extractor, the Limiter and a feeder
// that pulls emails into the model stage as the pool will (as many as
// Limiter.Desired says), with no database. Step two adds the real service.
//
// Time is compressed by up to -scale: latencies are divided and limits
// multiplied by it, which keeps calls in flight (rate × latency) and every
// ratio the same; the report is in real-world units. A setting is compressed
// only until it sends -max-rate requests a second of wall time: past that, on
// two shared cores, calls queue in the simulator itself between the Limiter
// and the fake, which real calls do not, and the Limiter's fixed time
// constants (and the fake's whole-second retry-after) would weigh -scale
// times more than they do in reality.
//
// With -service it drives the real service binary instead (built with go
// build, default settings, LLM_PROVIDER=claude pointed at the fake, a fresh
// database and Redis namespace per setting): it posts N signed webhooks at
// once and measures, in real time, until every email is terminal; it adds
// the service's peak RSS and the emails' final statuses to the report.
//
//	go run ./bench/llm                                  # 0.5/1.5/10 s × 1/20/50 requests/s
//	go run ./bench/llm -service -settings 500ms/50,1.5s/20,10s/1
//	go run ./bench/llm -service -settings 10s/30 -max-inflight 256
//	go run ./bench/llm -latencies 1.5s -limits 20 -processes 2
//	go run ./bench/llm -limits 20 -itpm 400000          # input tokens bind (per minute, real units)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/svcproc"
)

func main() {
	o := options{}
	var latencies, limits string
	flag.StringVar(&latencies, "latencies", "500ms,1.5s,10s", "median model latencies, comma-separated")
	flag.StringVar(&limits, "limits", "1,20,50", "account limits in requests per second, comma-separated")
	flag.Float64Var(&o.scale, "scale", 10, "most time compression: latencies ÷ scale, limits × scale")
	flag.Float64Var(&o.maxRate, "max-rate", 50, "compress a setting only until this many requests/s of wall time")
	flag.IntVar(&o.backlog, "backlog", 0, "emails per setting (0: max(300, the limit × max(30 s, 6 latencies)))")
	flag.IntVar(&o.maxInFlight, "max-inflight", 256, "LLM_MAX_INFLIGHT per process")
	flag.IntVar(&o.processes, "processes", 1, "processes sharing the account, each with its own Limiter")
	flag.Int64Var(&o.itpm, "itpm", 0, "input tokens per minute (0: ample, requests bind)")
	flag.Int64Var(&o.otpm, "otpm", 0, "output tokens per minute (0: ample, requests bind)")
	flag.DurationVar(&o.burst, "burst", time.Second, "how much refill the account's buckets hold (the docs: 60 RPM may be enforced as 1 request per second)")
	flag.DurationVar(&o.verbose, "v", 0, "print the Limiter's stats this often (wall time; 0 = never)")
	flag.BoolVar(&o.fixed, "fixed", false, "fixed latency instead of log-normal (p90 = 2 × median)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "bound of the whole run (wall time); with -service, of each setting")
	pairs := flag.String("settings", "", "latency/limit pairs instead of every combination, e.g. 500ms/50,10s/1")
	flag.BoolVar(&o.service, "service", false, "drive the real service binary (real time; -scale and -processes unused)")
	flag.StringVar(&o.bin, "bin", "", "with -service: prebuilt service binary (default: go build into a temp dir)")
	flag.StringVar(&o.pgAdmin, "pg", "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable", "with -service: admin connection (creates/drops each setting's database)")
	flag.StringVar(&o.redisAddr, "redis", "127.0.0.1:6379", "with -service: Redis address (each setting uses its own namespace)")
	env := flag.String("env", "", "with -service: extra service environment, comma-separated KEY=VALUE")
	flag.Parse()
	if *env != "" {
		o.extraEnv = strings.Split(*env, ",")
	}

	settings, err := parseSettings(latencies, limits)
	if *pairs != "" {
		settings, err = parsePairs(*pairs)
	}
	if err != nil || o.scale < 1 || o.maxRate <= 0 || o.processes < 1 || o.maxInFlight < 1 || o.backlog < 0 || o.backlog > 100_000 {
		fmt.Fprintln(os.Stderr, "llm: bad flags:", err)
		os.Exit(2)
	}
	timeout := o.timeout
	if o.service {
		timeout *= time.Duration(len(settings)) // -timeout bounds each setting
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	if o.service {
		if err := serviceMode(ctx, settings, o); err != nil {
			fmt.Fprintln(os.Stderr, "llm:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Printf("time compressed up to %.0f× (at most %.0f requests/s of wall time), %d process(es), LLM_MAX_INFLIGHT %d, bucket burst %s, latency %s\n",
		o.scale, o.maxRate, o.processes, o.maxInFlight, o.burst, map[bool]string{true: "fixed", false: "log-normal, p90 = 2 × median"}[o.fixed])
	printHeader()
	failed := false
	for _, s := range settings {
		r, err := run(ctx, s, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "llm:", err)
			os.Exit(1)
		}
		printResult(r)
		failed = failed || r.failures > 0
	}
	if m, err := procstat.ReadMem(os.Getpid()); err == nil {
		fmt.Printf("peak RSS of this process (simulator, extractors and fake API together): %s\n", procstat.MiB(m.HWM))
	}
	if failed {
		os.Exit(1)
	}
}

// setting is one combination of model latency and account limit.
type setting struct {
	latency time.Duration // median
	rps     float64       // requests per second the account allows
}

type options struct {
	scale       float64
	maxRate     float64
	backlog     int
	maxInFlight int
	processes   int
	itpm, otpm  int64
	burst       time.Duration
	fixed       bool
	verbose     time.Duration
	timeout     time.Duration
	service     bool
	bin         string
	pgAdmin     string
	redisAddr   string
	extraEnv    []string
}

func parseSettings(latencies, limits string) ([]setting, error) {
	var out []setting
	for _, l := range strings.Split(latencies, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(l))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("latency %q", l)
		}
		for _, r := range strings.Split(limits, ",") {
			rps, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
			if err != nil || rps <= 0 || rps > 1000 {
				return nil, fmt.Errorf("limit %q", r)
			}
			out = append(out, setting{latency: d, rps: rps})
		}
	}
	return out, nil
}

// parsePairs reads latency/limit pairs, e.g. "500ms/50,10s/1".
func parsePairs(pairs string) ([]setting, error) {
	var out []setting
	for _, p := range strings.Split(pairs, ",") {
		l, r, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok {
			return nil, fmt.Errorf("setting %q: want latency/limit", p)
		}
		s, err := parseSettings(l, r)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// serviceMode runs every setting against the real service binary.
func serviceMode(ctx context.Context, settings []setting, o options) error {
	if !strings.HasPrefix(o.redisAddr, "127.0.0.1:") {
		return fmt.Errorf("-redis must point at 127.0.0.1")
	}
	tmp, err := os.MkdirTemp("", "bench-llm-")
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
		fmt.Println("building the service …")
		if bin, err = svcproc.Build(ctx, root, ".", "matcher", tmp); err != nil {
			return err
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("real service, default settings but LLM_PROVIDER=claude, LLM_MAX_INFLIGHT %d%s; real time; bucket burst %s; latency %s; load average %s\n",
		o.maxInFlight, strings.Join(append([]string{""}, o.extraEnv...), ", "), o.burst,
		map[bool]string{true: "fixed", false: "log-normal, p90 = 2 × median"}[o.fixed], strings.Join(strings.Fields(string(load))[:3], " "))
	if o.itpm > 0 || o.otpm > 0 {
		fmt.Printf("account token limits per minute (0: ample): input %d, output %d\n", o.itpm, o.otpm)
	}
	printServiceHeader()
	var failed error
	for _, s := range settings {
		o.processes = 1
		r, sr, err := runService(ctx, s, o, bin, tmp)
		if err != nil && r.emails == 0 {
			return err
		}
		printServiceResult(r, sr)
		if err != nil {
			failed = err
		} else if r.failures > 0 {
			failed = fmt.Errorf("%d emails failed", r.failures)
		}
	}
	return failed
}
