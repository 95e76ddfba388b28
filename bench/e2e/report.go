package main

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
)

type report struct {
	name    string // "service" or "asynq twin"
	waitErr error  // emails left pending
	opts    options
	load    webhooks.LoadResult
	stats   stats
	mem     procstat.Mem
	cpu     procstat.CPUSnapshot // deltas over the measured window
	left    int
	logs    map[string]int
	pg      pgCounters
}

func (r report) emailsPerSec() float64 {
	if r.stats.Span <= 0 {
		return 0
	}
	return float64(r.stats.terminal()) / r.stats.Span
}

func (r report) print(w io.Writer) {
	st := r.stats
	fmt.Fprintln(w, "── webhook intake (while the workers run) ──")
	r.load.Print(w, r.opts.conc)
	fmt.Fprintf(w, "── end to end (%s) ──\n", r.name)
	fmt.Fprintf(w, "emails:       %d terminal of %d accepted (%d completed, %d not_creditor_reply, %d failed; %d still pending)\n",
		st.terminal(), r.load.Accepted, st.Completed, st.NotReply, st.Failed, r.left)
	fmt.Fprintf(w, "matching:     %d auto_matched, %d debt_updates rows, %d retries, %d attempts\n",
		st.AutoMatched, st.DebtUpdates, st.Retries, st.Attempts)
	fmt.Fprintf(w, "throughput:   %.0f emails/s (terminal emails over first created_at → last completed_at: %.2fs, WORKER_CONCURRENCY=%d)\n",
		r.emailsPerSec(), st.Span, r.opts.workers)
	fmt.Fprintf(w, "queue wait:   %s   (started_at − created_at)\n", quad(st.Wait))
	fmt.Fprintf(w, "processing:   %s   (completed_at − started_at)\n", quad(st.Work))
	fmt.Fprintf(w, "latency:      %s   (completed_at − created_at)\n", quad(st.Latency))
	fmt.Fprintf(w, "service RSS:  peak sampled %s, VmHWM %s\n", procstat.MiB(r.mem.RSS), procstat.MiB(r.mem.HWM))
	fmt.Fprintf(w, "cpu seconds:  service %.1f, postgres %.1f, redis %.1f, bench tool %.1f; whole machine %.1f (2 cores)\n",
		r.cpu.Target.Seconds(), r.cpu.Postgres.Seconds(), r.cpu.Redis.Seconds(), r.cpu.Self.Seconds(), r.cpu.Machine.Seconds())
	if n := float64(max(st.Total, 1)); r.pg.Commits > 0 {
		fmt.Fprintf(w, "postgres/email: %.1f commits, %.1f rollbacks, %.0f rows returned, %.0f fetched, %.1f inserted, %.1f updated (%.1f HOT), %.2f seq scans, %.1f idx scans\n",
			float64(r.pg.Commits)/n, float64(r.pg.Rollbacks)/n, float64(r.pg.Returned)/n, float64(r.pg.Fetched)/n,
			float64(r.pg.Inserted)/n, float64(r.pg.Updated)/n, float64(r.pg.HotUpdated)/n, float64(r.pg.SeqScans)/n, float64(r.pg.IdxScans)/n)
	}
	fmt.Fprint(w, "service log:  WARN/ERROR lines:")
	if len(r.logs) == 0 {
		fmt.Fprint(w, " none")
	}
	for _, k := range slices.Sorted(maps.Keys(r.logs)) {
		fmt.Fprintf(w, " [%s ×%d]", k, r.logs[k])
	}
	fmt.Fprintln(w)
	if r.opts.summary {
		kind := "e2e"
		if r.name == "asynq twin" {
			kind = "twin"
		}
		fmt.Fprintf(w, "SUMMARY %s emails_per_sec=%.0f terminal=%d failed=%d wait_p50_ms=%.1f wait_p99_ms=%.1f "+
			"latency_p50_ms=%.1f latency_p99_ms=%.1f rss_peak_mib=%.1f rss_hwm_mib=%.1f %s\n",
			kind, r.emailsPerSec(), st.terminal(), st.Failed, st.Wait[0]*1000, st.Wait[2]*1000,
			st.Latency[0]*1000, st.Latency[2]*1000, procstat.Mebibytes(r.mem.RSS), procstat.Mebibytes(r.mem.HWM), r.load.Summary())
	}
}

func quad(q [4]float64) string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", sec(q[0]), sec(q[1]), sec(q[2]), sec(q[3]))
}

func sec(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}
