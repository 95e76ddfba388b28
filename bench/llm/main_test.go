package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

func TestParsePairs(t *testing.T) {
	t.Parallel()
	got, err := parsePairs("500ms/50, 10s/1")
	require.NoError(t, err)
	require.Equal(t, []setting{{latency: 500 * time.Millisecond, rps: 50}, {latency: 10 * time.Second, rps: 1}}, got)
	for _, bad := range []string{"500ms", "x/5", "1s/0", "1s/y"} {
		_, err := parsePairs(bad)
		require.Error(t, err, bad)
	}
}

func TestServiceEnvPointsClaudeAtTheFake(t *testing.T) {
	t.Parallel()
	o := options{maxInFlight: 256, redisAddr: "127.0.0.1:6379", extraEnv: []string{"WORKER_CONCURRENCY=2"}}
	env := serviceEnv(o, "postgres://127.0.0.1/x", "bench_llm_x", "s3cret", "http://127.0.0.1:4000")
	for _, kv := range []string{"LLM_PROVIDER=claude", "ANTHROPIC_BASE_URL=http://127.0.0.1:4000",
		"LLM_MAX_INFLIGHT=256", "REDIS_NAMESPACE=bench_llm_x", "LOG_LEVEL=info"} {
		require.Contains(t, env, kv)
	}
	require.Equal(t, "WORKER_CONCURRENCY=2", env[len(env)-1], "extra settings come last and win")
}

func TestSummarizeBindingAndSteadyRate(t *testing.T) {
	t.Parallel()
	// 100 emails finishing one every 100 ms: 10/s steady against a 20/s limit.
	var finished []time.Duration
	for i := range 100 {
		finished = append(finished, time.Duration(i)*100*time.Millisecond)
	}
	r := summarize(setting{latency: time.Second, rps: 20}, options{scale: 1, maxRate: 50, maxInFlight: 256, processes: 1},
		100, 0, finished, claudetestStats(100), 0)
	require.Equal(t, "requests", r.bindingName)
	require.InDelta(t, 20, r.binding, 1e-9)
	require.InDelta(t, 10, r.steady, 0.01)
	require.Equal(t, int64(500), r.perEmail.InputTokens)
}

func claudetestStats(calls int64) claudetest.Stats {
	return claudetest.Stats{Requests: calls, Succeeded: calls, InputTokens: 500 * calls, OutputTokens: 100 * calls}
}
