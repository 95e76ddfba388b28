package handlers

import (
	"context"
	"sync"
	"time"
)

// SessionStore keeps admin page sessions on the server, so that signing out
// ends a session for every copy of its cookie (DESIGN.md §5,
// admin_sessions). The signed cookie stays the cheap first check: the store
// is asked only about ids whose cookie's signature and expiry verify, so
// it never sees forged or expired ones.
type SessionStore interface {
	// Create records a session that lasts until expires.
	Create(ctx context.Context, id string, expires time.Time) error
	// Active reports whether a session whose signed cookie verifies may
	// still be used: it was not revoked and has not expired.
	Active(ctx context.Context, id string) (bool, error)
	// Revoke ends a session; revoking an unknown or ended one is no error.
	Revoke(ctx context.Context, id string) error
}

// memorySessions is the SessionStore when none is given: the service
// always gives the admin_sessions table (store.AdminSessions); handlers
// built without one (tests, tools) get this. It remembers the revocations
// of this process only, each until the session would have expired anyway;
// any id it did not revoke is active, as its signed cookie vouches for it.
// So sign-out ends a copied cookie on this process, but with several web
// processes, or after a restart, the copy works on the others until it
// expires: the table closes that gap.
type memorySessions struct {
	mu      sync.Mutex
	now     func() time.Time
	ttl     time.Duration
	revoked map[string]time.Time // id → when its session ends anyway
}

func newMemorySessions(ttl time.Duration, now func() time.Time) *memorySessions {
	return &memorySessions{now: now, ttl: ttl, revoked: map[string]time.Time{}}
}

// Create records nothing: a session is active until revoked.
func (m *memorySessions) Create(context.Context, string, time.Time) error { return nil }

// Active reports whether this process has not revoked id.
func (m *memorySessions) Active(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, revoked := m.revoked[id]
	return !revoked, nil
}

// Revoke remembers id for the longest a session can last, and forgets the
// revocations whose sessions have ended, so the map holds at most the
// sign-outs of one session lifetime.
func (m *memorySessions) Revoke(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, until := range m.revoked {
		if !now.Before(until) {
			delete(m.revoked, k)
		}
	}
	m.revoked[id] = now.Add(m.ttl)
	return nil
}
