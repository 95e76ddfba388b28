package app

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/config"
)

// TestTuneGCFitsEachModeUnlessTheOperatorChose: web collects at 50 % heap
// growth, worker and all get the soft memory limit, and GOGC / GOMEMLIMIT
// given by the operator leave the runtime as it is.
func TestTuneGCFitsEachModeUnlessTheOperatorChose(t *testing.T) {
	// Not parallel: the settings are the process's.
	gcPercent := func() int {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	origPercent, origLimit := gcPercent(), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(origPercent)
		debug.SetMemoryLimit(origLimit)
	})
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		mode        string
		env         func(string) string
		wantPercent int
		wantLimit   int64
	}{
		{config.ModeWeb, env(), webGCPercent, math.MaxInt64},
		{config.ModeWeb, env("GOGC", "200"), 100, math.MaxInt64},
		{config.ModeWorker, env(), 100, workerMemoryLimit},
		{config.ModeAll, env(), 100, workerMemoryLimit},
		{config.ModeAll, env("GOMEMLIMIT", "1GiB"), 100, math.MaxInt64},
	} {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		tuneGC(tc.mode, tc.env)
		require.Equal(t, tc.wantPercent, gcPercent(), "%s %v", tc.mode, tc.env("GOGC"))
		require.Equal(t, tc.wantLimit, debug.SetMemoryLimit(-1), "%s %v", tc.mode, tc.env("GOMEMLIMIT"))
	}
}
