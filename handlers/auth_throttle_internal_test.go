package handlers

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeNow is a settable clock.
type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

func TestAuthThrottleCountsIPv6ByPrefix(t *testing.T) {
	t.Parallel()
	clock := &fakeNow{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	th := newAuthThrottle(2, clock.now)
	th.fail("2001:db8:1:2::1")
	th.fail("2001:db8:1:2:ffff::9") // same /64
	_, blocked := th.blocked("2001:db8:1:2::77")
	require.True(t, blocked, "one /64 is one client")
	_, blocked = th.blocked("2001:db8:1:3::1")
	require.False(t, blocked, "another /64")
	th.fail("192.0.2.1")
	_, blocked = th.blocked("192.0.2.1")
	require.False(t, blocked)

	clock.t = clock.t.Add(59 * time.Second)
	wait, blocked := th.blocked("2001:db8:1:2::1")
	require.True(t, blocked)
	require.Equal(t, "1", retryAfter(wait))
	clock.t = clock.t.Add(time.Second)
	_, blocked = th.blocked("2001:db8:1:2::1")
	require.False(t, blocked, "the window has ended")
}

// TestAuthThrottleBounded: the map never grows past its bound; beyond it,
// new addresses share one window, and ended windows make room again.
func TestAuthThrottleBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeNow{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	th := newAuthThrottle(1, clock.now)
	for i := range maxThrottledAddrs {
		th.fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	require.Len(t, th.windows, maxThrottledAddrs)
	th.fail("192.0.2.1")
	require.Len(t, th.windows, maxThrottledAddrs+1, "the overflow window")
	_, blocked := th.blocked("192.0.2.99")
	require.True(t, blocked, "new addresses share the overflow window while the map is full")

	clock.t = clock.t.Add(throttleWindow)
	th.fail("192.0.2.1")
	require.Len(t, th.windows, 1, "ended windows were swept")
	_, blocked = th.blocked("192.0.2.99")
	require.False(t, blocked)
}
