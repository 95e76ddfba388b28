package webhooks

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// Percentile returns the p-th (0–100) latency, nearest rank.
func (r LoadResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Elapsed is the wall time of the run.
func (r LoadResult) Elapsed() time.Duration { return r.End.Sub(r.Start) }

// AcceptedPerSec is accepted webhooks over the run's wall time.
func (r LoadResult) AcceptedPerSec() float64 {
	if s := r.Elapsed().Seconds(); s > 0 {
		return float64(r.Accepted) / s
	}
	return 0
}

// Print writes the human report.
func (r LoadResult) Print(w io.Writer, concurrency int) {
	fmt.Fprintf(w, "requests:     %d sent, %d accepted, %d duplicate, %d transport errors in %s (%d senders)\n",
		r.Sent, r.Accepted, r.Duplicates, r.TransportErrors, r.Elapsed().Round(time.Millisecond), concurrency)
	fmt.Fprintf(w, "bodies:       %d–%d bytes, mean %d\n", r.BodyBytesMin, r.BodyBytesMax, r.BodyBytesMean)
	fmt.Fprintf(w, "accepted/s:   %.0f\n", r.AcceptedPerSec())
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprint(w, "status codes:")
	for _, c := range codes {
		fmt.Fprintf(w, " %d×%d", c, r.Status[c])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "latency:      p50 %s  p90 %s  p99 %s  max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)))
}

// Summary is one machine-readable line for bench/run.sh.
func (r LoadResult) Summary() string {
	return fmt.Sprintf("accepted=%d accepted_per_sec=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non200=%d",
		r.Accepted, r.AcceptedPerSec(), msf(r.Percentile(50)), msf(r.Percentile(90)), msf(r.Percentile(99)),
		msf(r.Percentile(100)), r.Sent-r.Status[200])
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", msf(d)) }

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
