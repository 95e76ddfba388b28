package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
)

// Targets of issue 14.
const (
	targetPeakMiB = 120
	targetP99     = time.Second
)

// report prints the run and, with -summary, one SUMMARY line.
func report(w io.Writer, cfg config, forged *forgedStats, signed signedStats, peak procstat.Mem) {
	forgedTotal := forged.transport
	for _, n := range forged.status {
		forgedTotal += n
	}
	fmt.Fprintf(w, "run:          %s, %d forged clients × %d-byte bodies, signed at %.0f/s → %s\n",
		cfg.duration, cfg.clients, cfg.size, cfg.rate, cfg.url)
	fmt.Fprintf(w, "forged:       %d answered or cut off: %s, %d transport errors\n",
		forgedTotal, codes(forged.status), forged.transport)
	fmt.Fprintf(w, "signed:       %d sent: %s, %d transport errors; %d refusals without 503 + Retry-After\n",
		signed.sent, codes(signed.status), signed.transport, signed.noRetryAfter)
	lat := webhooks.LoadResult{Latencies: signed.latencies}
	p50, p99, top := lat.Percentile(50), lat.Percentile(99), lat.Percentile(100)
	fmt.Fprintf(w, "signed lat.:  p50 %s  p99 %s  max %s (target p99 < %s)\n", ms(p50), ms(p99), ms(top), targetP99)
	line := fmt.Sprintf("signed_sent=%d signed_ok=%d signed_503=%d signed_bad_refusals=%d signed_transport=%d signed_p99_ms=%.1f forged=%d",
		signed.sent, signed.status[200], signed.status[503], signed.noRetryAfter, signed.transport, msf(p99), forgedTotal)
	if cfg.rssPID > 0 {
		fmt.Fprintf(w, "rss pid %d:   peak sampled %s, VmHWM %s (target < %d MiB)\n",
			cfg.rssPID, procstat.MiB(peak.RSS), procstat.MiB(peak.HWM), targetPeakMiB)
		line += fmt.Sprintf(" rss_peak_mib=%.1f rss_hwm_mib=%.1f", procstat.Mebibytes(peak.RSS), procstat.Mebibytes(peak.HWM))
	}
	if cfg.summary {
		fmt.Fprintln(w, "SUMMARY forged", line)
	}
}

func codes(m map[int]int) string {
	if len(m) == 0 {
		return "no answers"
	}
	out := ""
	for _, c := range slices.Sorted(maps.Keys(m)) {
		out += fmt.Sprintf("%d×%d ", c, m[c])
	}
	return out[:len(out)-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", msf(d)) }

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
