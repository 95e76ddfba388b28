package background

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryPolicyDelay(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxRetries: 5, MinBackoff: time.Second, MaxBackoff: 10 * time.Second}
	for n := 1; n <= 8; n++ {
		d := p.Delay(n, 0)
		require.LessOrEqual(t, d, 10*time.Second)
		require.GreaterOrEqual(t, d, 500*time.Millisecond)
	}
	require.Equal(t, time.Minute, p.Delay(1, time.Minute))
	// Grows: the 4th retry waits longer than the 1st's maximum.
	require.Greater(t, p.Delay(4, 0), 1500*time.Millisecond)
}
