package app

import (
	"runtime/debug"

	"github.com/lawfirm/creditor-email-matcher/config"
)

// tuneGC fits the garbage collector to the mode's memory budget, unless
// the operator set GOGC (web) or GOMEMLIMIT (worker, all).
//
// A web process's heap is mostly request bodies in flight. Collecting at
// 50 % growth rather than Go's 100 % keeps its RSS well inside the 60 MB
// budget under 32 concurrent senders, for about 75 µs more CPU per webhook.
//
// A worker or all process keeps Go's 100 % but gets a soft memory limit
// of 32 MiB, for its 80 MB budget: its heap objects under 8 workers and 32
// senders take 9–23 MiB, but without a limit the heap's spikes took the
// peak RSS to 68.6–70.5 MiB in 60,000-email runs, and with it to 64.1–64.3,
// at the same throughput. The collector works harder only near the limit
// (bench/README.md).
func tuneGC(mode string, getenv func(string) string) {
	switch {
	case mode == config.ModeWeb && getenv("GOGC") == "":
		debug.SetGCPercent(webGCPercent)
	case mode != config.ModeWeb && getenv("GOMEMLIMIT") == "":
		debug.SetMemoryLimit(workerMemoryLimit)
	}
}

const (
	// webGCPercent is the garbage collector's target in APP_MODE=web.
	webGCPercent = 50
	// workerMemoryLimit is the soft memory limit in APP_MODE=worker and all.
	workerMemoryLimit = 32 << 20
)
