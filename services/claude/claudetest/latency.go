package claudetest

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// FixedLatency answers every request after d.
func FixedLatency(d time.Duration) func() time.Duration {
	return func() time.Duration { return d }
}

// LogNormalLatency draws latencies from a log-normal distribution with the
// given median and 90th percentile (p90 >= median), the usual shape of model
// response times: most answers near the median, a long tail. seed makes a
// run repeatable. Safe for concurrent use.
func LogNormalLatency(median, p90 time.Duration, seed uint64) func() time.Duration {
	// For a log-normal, p90 = median · exp(1.2816 σ).
	sigma := 0.0
	if p90 > median && median > 0 {
		sigma = math.Log(float64(p90)/float64(median)) / 1.2815515655446004
	}
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func() time.Duration {
		mu.Lock()
		z := rng.NormFloat64()
		mu.Unlock()
		return time.Duration(float64(median) * math.Exp(sigma*z))
	}
}
