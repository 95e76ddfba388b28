package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
)

func printHeader() {
	fmt.Printf("%-8s %-7s %-14s %7s %9s %9s %6s %6s %8s %9s %8s %8s %8s %8s %7s %8s %5s\n",
		"latency", "limit/s", "binding", "emails", "drained/s", "binding/s", "share", "429s", "inflight", "ceiling/s",
		"in/mail", "out/mail", "write/ml", "read/ml", "cached", "heap", "scale")
}

// printResult prints one setting. share is the steady drain rate (between
// 10 % and 90 % of the backlog done) over what the binding limit allows;
// where the in-flight ceiling allows less than the limit (rate × latency >
// LLM_MAX_INFLIGHT), the ceiling is the bound and share is marked with *.
func printResult(r result) {
	bound := r.binding
	mark := ""
	if r.ceiling < bound {
		bound, mark = r.ceiling, "*"
	}
	share := 0.0
	if bound > 0 {
		share = r.steady / bound
	}
	rate429 := 0.0
	if r.requests > 0 {
		rate429 = float64(r.rateLimited) / float64(r.requests)
	}
	fmt.Printf("%-8s %-7g %-14s %7d %9.2f %9.2f %5.0f%%%s %5.1f%% %8d %9.1f %8d %8d %8d %8d %6.0f%% %6.1fMB %4.1f×\n",
		r.latency, r.rps, r.bindingName, r.emails, r.steady, r.binding, math.Round(share*100), mark, rate429*100,
		r.peakInFlight, r.ceiling, r.perEmail.InputTokens, r.perEmail.OutputTokens, r.perEmail.CacheWriteTokens,
		r.perEmail.CacheReadTokens, r.cachedShare*100, float64(r.peakHeap)/(1<<20), r.scale)
	if r.failures > 0 {
		fmt.Printf("  %d emails FAILED\n", r.failures)
	}
}

func printServiceHeader() {
	fmt.Printf("%-8s %-7s %-14s %7s %9s %9s %6s %6s %8s %9s %8s %6s %8s %8s %8s %8s %7s %9s %s\n",
		"latency", "limit/s", "binding", "emails", "drained/s", "binding/s", "share", "429s", "inflight", "ceiling/s",
		"calls/ml", "all/s", "in/call", "out/call", "write/cl", "read/cl", "cached", "peak RSS", "statuses")
}

// printServiceResult prints one setting of a -service run; the columns are
// printResult's, with the service's peak RSS and final statuses.
func printServiceResult(r result, sr serviceRun) {
	bound := r.binding
	mark := ""
	if r.ceiling < bound {
		bound, mark = r.ceiling, "*"
	}
	// The share is of model calls: emails/s × model calls per email (1
	// unless an email is retried or skips the model).
	calls := float64(r.succeeded) / float64(max(r.emails, 1))
	all := 0.0
	if sr.span > 0 {
		all = float64(r.emails) / sr.span.Seconds()
	}
	share := 0.0
	if bound > 0 {
		share = r.steady * calls / bound
	}
	rate429 := 0.0
	if r.requests > 0 {
		rate429 = float64(r.rateLimited) / float64(r.requests)
	}
	keys := slices.Sorted(maps.Keys(sr.statuses))
	var st []string
	for _, k := range keys {
		st = append(st, fmt.Sprintf("%s %d", k, sr.statuses[k]))
	}
	fmt.Printf("%-8s %-7g %-14s %7d %9.2f %9.2f %5.0f%%%s %5.1f%% %8d %9.1f %8.2f %6.1f %8d %8d %8d %8d %6.0f%% %9s %s\n",
		r.latency, r.rps, r.bindingName, r.emails, r.steady, r.binding, math.Round(share*100), mark, rate429*100,
		r.peakInFlight, r.ceiling, calls, all, r.perEmail.InputTokens, r.perEmail.OutputTokens, r.perEmail.CacheWriteTokens,
		r.perEmail.CacheReadTokens, r.cachedShare*100, procstat.MiB(sr.peakRSS), strings.Join(st, ", "))
	if r.failures > 0 {
		fmt.Printf("  %d emails FAILED\n", r.failures)
	}
	for _, k := range slices.Sorted(maps.Keys(sr.warnings)) {
		if strings.Contains(k, " not set: ") {
			continue // start-up notes on the integrations the run leaves off
		}
		fmt.Printf("  service log: %s × %d\n", k, sr.warnings[k])
	}
}
