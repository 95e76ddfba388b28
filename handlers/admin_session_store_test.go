package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMemorySessionsForgetEndedRevocations: a revocation is kept as long as
// its session could last, then dropped, so the map stays small.
func TestMemorySessionsForgetEndedRevocations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeNow{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	m := newMemorySessions(time.Hour, clock.now)
	require.NoError(t, m.Create(ctx, "a", clock.t.Add(time.Hour)))
	active, err := m.Active(ctx, "a")
	require.NoError(t, err)
	require.True(t, active)
	require.NoError(t, m.Revoke(ctx, "a"))
	active, _ = m.Active(ctx, "a")
	require.False(t, active)

	clock.t = clock.t.Add(time.Hour)
	require.NoError(t, m.Revoke(ctx, "b"))
	require.Len(t, m.revoked, 1, "a's session has ended: its revocation is forgotten")
	active, _ = m.Active(ctx, "b")
	require.False(t, active)
}
