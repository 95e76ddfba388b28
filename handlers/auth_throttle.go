package handlers

import (
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Throttle defaults and bounds.
const (
	defaultAuthFailuresPerMinute = 20
	throttleWindow               = time.Minute
	// maxThrottledAddrs bounds the map: beyond it, once the expired
	// windows are swept, new addresses share one overflow window, so a
	// spread-out attack is throttled as a whole instead of growing memory.
	maxThrottledAddrs = 10_000
	overflowKey       = "overflow"
)

// authThrottle counts failed admin authentications (wrong bearer tokens,
// failed sign-ins) per client address in fixed one-minute windows, from an
// address's first failure on. An address that has failed limit times gets
// 429 on every admin authentication until its window ends, even with the
// right token; a success resets nothing, neither its own count nor others'.
//
// It lives in the process: with several web processes an address gets
// limit failures per minute from each. That is enough for its purpose: the
// admin token has at least 16 characters, so guessing it at a few dozen
// tries a minute is hopeless either way, and the throttle only stops a
// flood from costing work and filling logs. Redis would share the count at
// the price of a round trip on every admin request, and of a choice
// between failing open or closed while Redis is down.
type authThrottle struct {
	mu        sync.Mutex
	limit     int
	now       func() time.Time
	windows   map[string]*failWindow
	lastSweep time.Time
}

type failWindow struct {
	start    time.Time
	failures int
}

func newAuthThrottle(limit int, now func() time.Time) *authThrottle {
	if limit <= 0 {
		limit = defaultAuthFailuresPerMinute
	}
	return &authThrottle{limit: limit, now: now, windows: map[string]*failWindow{}}
}

// blocked reports whether addr has used up its failures, and how long it
// must wait (at least a second) until its window ends.
func (t *authThrottle) blocked(addr string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	w := t.windows[t.key(addr, now, false)]
	if w == nil || w.failures < t.limit || !now.Before(w.start.Add(throttleWindow)) {
		return 0, false
	}
	return max(w.start.Add(throttleWindow).Sub(now), time.Second), true
}

// fail counts one failed authentication from addr.
func (t *authThrottle) fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := t.key(addr, now, true)
	w := t.windows[k]
	if w == nil || !now.Before(w.start.Add(throttleWindow)) {
		w = &failWindow{start: now}
		t.windows[k] = w
	}
	w.failures++
}

// key is addr's map key: an IPv6 address counts by its /64, which one
// client usually holds whole. A new address finds room by sweeping ended
// windows (at most once a second) or shares the overflow window. Called
// with mu held.
func (t *authThrottle) key(addr string, now time.Time, adding bool) string {
	k := addr
	if ip, err := netip.ParseAddr(addr); err == nil && ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		k = p.String()
	}
	if _, ok := t.windows[k]; ok || len(t.windows) < maxThrottledAddrs {
		return k
	}
	if adding && now.Sub(t.lastSweep) >= time.Second {
		t.lastSweep = now
		for kk, w := range t.windows {
			if !now.Before(w.start.Add(throttleWindow)) {
				delete(t.windows, kk)
			}
		}
		if len(t.windows) < maxThrottledAddrs {
			return k
		}
	}
	return overflowKey
}

// retryAfter formats a wait as whole seconds, rounded up, for Retry-After.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
