package webhooks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRepliesAreRealisticSizes(t *testing.T) {
	t.Parallel()
	c := NewCorpus(7, 100)
	_, lmin, lmax, lmean, err := renderVariants(c, 500)
	require.NoError(t, err)
	require.GreaterOrEqual(t, lmin, 3000)
	require.LessOrEqual(t, lmax, 9000)
	require.InDelta(t, 5000, lmean, 1500)
	var r Reply
	require.NoError(t, json.Unmarshal(mustJSON(t, c.Reply(3, time.Now())), &r))
	require.NotEmpty(t, r.TicketID)
	require.Contains(t, r.FromEmail, "@")
}

func TestEuro(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1.234,56", euro(123456))
	require.Equal(t, "20,05", euro(2005))
	require.Equal(t, "1,234.56", euroEN(123456))
}

func TestCheckLoopback(t *testing.T) {
	t.Parallel()
	require.NoError(t, CheckLoopback("http://127.0.0.1:8080/x"))
	for _, u := range []string{"http://localhost:8080/x", "http://10.0.0.1/x", "https://127.0.0.1/x", "http://example.com/"} {
		require.Error(t, CheckLoopback(u), u)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
