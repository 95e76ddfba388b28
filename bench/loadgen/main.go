// Command loadgen posts signed, realistic Zendesk webhooks to a running
// matcher on 127.0.0.1 at a fixed concurrency, for a bounded count or time,
// and reports accepted/s, status codes and latency percentiles; with -rss-pid
// it also reports the peak RSS of that process during the run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	url := fs.String("url", "http://127.0.0.1:8080/api/v1/zendesk/webhook", "webhook URL (127.0.0.1 only)")
	secret := fs.String("secret", getenv("WEBHOOK_SECRET"), "webhook secret (default $WEBHOOK_SECRET)")
	conc := fs.Int("c", 32, "concurrent senders")
	count := fs.Int("n", 20000, fmt.Sprintf("requests to send (at most %d)", webhooks.MaxCount))
	dur := fs.Duration("d", 2*time.Minute, fmt.Sprintf("stop after this long (at most %s)", webhooks.MaxDuration))
	cases := fs.Int("cases", 2000, "distinct inquiries the replies refer to")
	seed := fs.Uint64("seed", 1, "corpus seed")
	rssPID := fs.Int("rss-pid", 0, "sample this process's RSS during the run and print its peak")
	summary := fs.Bool("summary", false, "also print one machine-readable SUMMARY line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := webhooks.CheckLoopback(*url); err != nil {
		return err
	}
	runID := "bench-" + webhooks.RandomHex(6)
	var sampler *procstat.Sampler
	var cpu0 procstat.CPUSnapshot
	if *rssPID > 0 {
		if _, err := procstat.ReadMem(*rssPID); err != nil {
			return err
		}
		sampler = procstat.Sample(ctx, *rssPID, 20*time.Millisecond)
		cpu0 = procstat.TakeCPU(*rssPID)
	}
	res, err := webhooks.Run(ctx, webhooks.LoadConfig{
		URL: *url, Secret: *secret, Concurrency: *conc, Count: *count, Duration: *dur,
		RunID: runID, Corpus: webhooks.NewCorpus(*seed, *cases),
	})
	var peak procstat.Mem
	if sampler != nil {
		peak = sampler.Stop()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "run:          %s → %s\n", runID, *url)
	res.Print(stdout, *conc)
	line := res.Summary()
	if sampler != nil {
		fmt.Fprintf(stdout, "rss pid %d:   peak sampled %s, VmHWM %s\n", *rssPID, procstat.MiB(peak.RSS), procstat.MiB(peak.HWM))
		d := procstat.TakeCPU(*rssPID).Minus(cpu0)
		fmt.Fprintf(stdout, "cpu seconds:  pid %d %.1f, postgres %.1f, redis %.1f, loadgen %.1f; whole machine %.1f (2 cores)\n",
			*rssPID, d.Target.Seconds(), d.Postgres.Seconds(), d.Redis.Seconds(), d.Self.Seconds(), d.Machine.Seconds())
		line += fmt.Sprintf(" rss_peak_mib=%.1f rss_hwm_mib=%.1f", procstat.Mebibytes(peak.RSS), procstat.Mebibytes(peak.HWM))
	}
	if *summary {
		fmt.Fprintln(stdout, "SUMMARY loadgen", line)
	}
	if res.Accepted == 0 {
		return fmt.Errorf("no webhook was accepted")
	}
	return nil
}
