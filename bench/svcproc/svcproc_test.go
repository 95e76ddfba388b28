package svcproc

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListeningPortAndLogLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "service.log")
	require.Equal(t, "", ListeningPort(path), "no log yet")
	require.NoError(t, os.WriteFile(path, []byte(`{"level":"INFO","msg":"migrations applied"}
{"time":"x","level":"INFO","msg":"http server listening","addr":"[::]:40407","mode":"all"}
{"level":"WARN","msg":"lease lost; result discarded","email_id":3}
`), 0o600))
	require.Equal(t, "40407", ListeningPort(path))
	require.Equal(t, map[string]int{"WARN lease lost; result discarded": 1}, LogLines(path, "WARN", "ERROR"))
}

func TestWithDatabaseOnlyLoopback(t *testing.T) {
	t.Parallel()
	u, err := WithDatabase("postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable", "bench_llm_x")
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres:postgres@127.0.0.1:5432/bench_llm_x?sslmode=disable", u)
	_, err = WithDatabase("postgres://postgres@db.example.com:5432/postgres", "bench_llm_x")
	require.Error(t, err)
}
