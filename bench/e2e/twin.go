package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/bench/svcproc"
)

// twinDir is bench/asynqtwin, a module of its own inside the service's.
const twinDir = "bench/asynqtwin"

// compareTwin runs the service (bin) and bench/asynqtwin rounds times each,
// alternating which goes first, every run on a fresh database with the same
// N, senders and WORKER_CONCURRENCY, and prints both rates, the CPU each
// costs per email and their ratio, then one SUMMARY compare line.
func compareTwin(ctx context.Context, o options, bin, tmp string, stdout, stderr io.Writer) error {
	root, err := svcproc.ModuleRoot()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "building %s …\n", twinDir)
	twin, err := svcproc.Build(ctx, filepath.Join(root, twinDir), ".", "asynqtwin", tmp)
	if err != nil {
		return err
	}
	var pairs [][2]report
	for round := range o.rounds {
		order := []string{"service", "asynq twin"}
		if round%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		var pair [2]report
		for _, name := range order {
			fmt.Fprintf(stdout, "\n=== round %d/%d: %s (load average %s)\n", round+1, o.rounds, name, loadAverage())
			b := bin
			if name != "service" {
				b = twin
			}
			r, err := measureFresh(ctx, o, b, tmp, stdout, stderr)
			if err != nil {
				return err
			}
			r.name = name
			r.print(stdout)
			if r.waitErr != nil {
				return fmt.Errorf("%s: %w", name, r.waitErr)
			}
			pair[map[string]int{"service": 0, "asynq twin": 1}[name]] = r
		}
		pairs = append(pairs, pair)
		printPair(stdout, round+1, pair)
	}
	printCompare(stdout, o, pairs)
	return nil
}

// cpuPerEmail is the CPU the run cost per terminal email, in ms: the
// process under test, PostgreSQL and Redis (all of their processes on the
// machine, so other work on it counts too).
type cpuPerEmail struct{ proc, pg, redis float64 }

func (c cpuPerEmail) total() float64 { return c.proc + c.pg + c.redis }

func perEmail(r report) cpuPerEmail {
	n := float64(max(r.stats.terminal(), 1))
	ms := func(s float64) float64 { return s * 1000 / n }
	return cpuPerEmail{ms(r.cpu.Target.Seconds()), ms(r.cpu.Postgres.Seconds()), ms(r.cpu.Redis.Seconds())}
}

func printPair(w io.Writer, round int, p [2]report) {
	fmt.Fprintf(w, "\n── round %d: service vs asynq twin ──\n", round)
	for _, r := range p {
		c := perEmail(r)
		fmt.Fprintf(w, "%-11s %6.0f emails/s   cpu ms/email: process %.2f, postgres %.2f, redis %.2f, total %.2f\n",
			r.name, r.emailsPerSec(), c.proc, c.pg, c.redis, c.total())
	}
	fmt.Fprintf(w, "ratio       %.2f (service emails/s ÷ twin emails/s)\n", ratio(p))
}

func ratio(p [2]report) float64 {
	if t := p[1].emailsPerSec(); t > 0 {
		return p[0].emailsPerSec() / t
	}
	return 0
}

// printCompare prints the SUMMARY compare line: per-round figures joined
// by commas, service first in each pair of keys.
func printCompare(w io.Writer, o options, pairs [][2]report) {
	join := func(f func([2]report) float64, prec int) string {
		parts := make([]string, len(pairs))
		for i, p := range pairs {
			parts[i] = fmt.Sprintf("%.*f", prec, f(p))
		}
		return strings.Join(parts, ",")
	}
	fmt.Fprintf(w, "\nSUMMARY compare rounds=%d n=%d workers=%d senders=%d service_emails_per_sec=%s twin_emails_per_sec=%s ratio=%s "+
		"service_cpu_ms_per_email=%s twin_cpu_ms_per_email=%s service_proc_ms=%s twin_proc_ms=%s service_pg_ms=%s twin_pg_ms=%s "+
		"service_redis_ms=%s twin_redis_ms=%s service_failed=%s twin_failed=%s load_avg=%s\n",
		len(pairs), o.count, o.workers, o.conc,
		join(func(p [2]report) float64 { return p[0].emailsPerSec() }, 0), join(func(p [2]report) float64 { return p[1].emailsPerSec() }, 0),
		join(ratio, 2),
		join(func(p [2]report) float64 { return perEmail(p[0]).total() }, 2), join(func(p [2]report) float64 { return perEmail(p[1]).total() }, 2),
		join(func(p [2]report) float64 { return perEmail(p[0]).proc }, 2), join(func(p [2]report) float64 { return perEmail(p[1]).proc }, 2),
		join(func(p [2]report) float64 { return perEmail(p[0]).pg }, 2), join(func(p [2]report) float64 { return perEmail(p[1]).pg }, 2),
		join(func(p [2]report) float64 { return perEmail(p[0]).redis }, 2), join(func(p [2]report) float64 { return perEmail(p[1]).redis }, 2),
		join(func(p [2]report) float64 { return float64(p[0].stats.Failed) }, 0), join(func(p [2]report) float64 { return float64(p[1].stats.Failed) }, 0),
		strings.ReplaceAll(loadAverage(), " ", "/"))
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
