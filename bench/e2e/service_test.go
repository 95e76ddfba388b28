package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOnlyLoopbackPostgres(t *testing.T) {
	t.Parallel()
	require.True(t, isLoopbackPG("postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"))
	require.False(t, isLoopbackPG("postgres://postgres@db.example.com:5432/postgres"))
}

func TestServiceEnv(t *testing.T) {
	t.Parallel()
	o := options{workers: 8, redisAddr: "127.0.0.1:6379", logLevel: "info", extraEnv: []string{"DB_MAX_OPEN_CONNS=4"}}
	env := serviceEnv(o, "postgres://127.0.0.1/x", "bench_e2e_x", "s3cret")
	require.Contains(t, env, "REDIS_NAMESPACE=bench_e2e_x")
	require.Contains(t, env, "WORKER_CONCURRENCY=8")
	require.Equal(t, "DB_MAX_OPEN_CONNS=4", env[len(env)-1], "extra settings come last and win")
	for _, kv := range env {
		require.NotContains(t, kv, "BENCH_")
	}
	o.cpuProfile, o.memProfile = "cpu.pprof", "mem.pprof"
	env = serviceEnv(o, "postgres://127.0.0.1/x", "bench_e2e_x", "s3cret")
	cwd, err := os.Getwd()
	require.NoError(t, err)
	require.Contains(t, env, "BENCH_CPUPROFILE="+filepath.Join(cwd, "cpu.pprof"), "the profile path is absolute")
	require.Contains(t, env, "BENCH_MEMPROFILE="+filepath.Join(cwd, "mem.pprof"))
}
