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
//	go run ./bench/llm                                  # 0.5/1.5/10 s × 1/20/50 requests/s
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
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "bound of the whole run (wall time)")
	flag.Parse()

	settings, err := parseSettings(latencies, limits)
	if err != nil || o.scale < 1 || o.maxRate <= 0 || o.processes < 1 || o.maxInFlight < 1 || o.backlog < 0 || o.backlog > 100_000 {
		fmt.Fprintln(os.Stderr, "llm: bad flags:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()

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
