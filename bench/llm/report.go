package main

import (
	"fmt"
	"math"
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
