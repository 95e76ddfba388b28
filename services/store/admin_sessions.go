package store

import (
	"context"
	"fmt"
	"time"
)

// AdminSessions keeps the admin page's sessions in admin_sessions, so that
// signing out on one web process ends the session on all of them, and a
// restart forgets nothing. It is the handlers.SessionStore of the service
// (the interface is declared where it is used; this type satisfies it).
// Times come from now, the clock that also signs the session cookies.
type AdminSessions struct {
	store *Store
	now   func() time.Time
}

// AdminSessions returns the sessions table's store; now is the clock the
// cookies are signed with (time.Now in the service).
func (s *Store) AdminSessions(now func() time.Time) *AdminSessions {
	return &AdminSessions{store: s, now: now}
}

// Expired sessions are deleted when a session is created: those that ended
// more than sessionGrace ago, at most sessionSweep of them each time. A
// sign-in is rare and the sweep goes through the expiry index, so it costs
// the sign-in next to nothing, and the table holds about a day of sessions.
const (
	sessionGrace = 24 * time.Hour
	sessionSweep = 100
)

// Create records the session id, which lasts until expires, and deletes
// some long-expired sessions in the same statement. Durable: a sign-in
// that is answered must be known to every process.
func (a *AdminSessions) Create(ctx context.Context, id string, expires time.Time) error {
	err := a.store.db.WithContext(ctx).Exec(`WITH swept AS (
  DELETE FROM admin_sessions WHERE id IN (
    SELECT id FROM admin_sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?)
)
INSERT INTO admin_sessions (id, expires_at, created_at) VALUES (?, ?, ?)`,
		a.now().Add(-sessionGrace), sessionSweep, id, expires, a.now()).Error
	if err != nil {
		return fmt.Errorf("create admin session: %w", err)
	}
	return nil
}

// Active reports whether the session id exists, was not revoked and has
// not expired. An id the table does not know is not active.
func (a *AdminSessions) Active(ctx context.Context, id string) (bool, error) {
	var active []bool
	err := a.store.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM admin_sessions
  WHERE id = ? AND revoked_at IS NULL AND expires_at > ?)`, id, a.now()).Find(&active).Error
	if err != nil {
		return false, fmt.Errorf("check admin session: %w", err)
	}
	return len(active) == 1 && active[0], nil
}

// Revoke ends the session id; an unknown or already revoked one is no
// error. The row stays until it expires, recording when it ended.
func (a *AdminSessions) Revoke(ctx context.Context, id string) error {
	err := a.store.db.WithContext(ctx).Exec(`UPDATE admin_sessions SET revoked_at = ?
WHERE id = ? AND revoked_at IS NULL`, a.now(), id).Error
	if err != nil {
		return fmt.Errorf("revoke admin session: %w", err)
	}
	return nil
}
