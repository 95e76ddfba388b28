package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAdminSessions: a session is active from Create until it is revoked
// or expires; an unknown one never is; revoking twice, or an unknown id, is
// no error.
func TestAdminSessions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := f.st.AdminSessions(func() time.Time { return now })
	active := func(id string) bool {
		t.Helper()
		ok, err := s.Active(f.ctx, id)
		require.NoError(t, err)
		return ok
	}
	require.NoError(t, s.Create(f.ctx, "a", now.Add(time.Hour)))
	require.NoError(t, s.Create(f.ctx, "b", now.Add(time.Hour)))
	require.True(t, active("a"))
	require.False(t, active("unknown"))

	require.NoError(t, s.Revoke(f.ctx, "a"))
	require.NoError(t, s.Revoke(f.ctx, "a"))
	require.NoError(t, s.Revoke(f.ctx, "unknown"))
	require.False(t, active("a"))
	require.True(t, active("b"), "only the revoked session ends")

	now = now.Add(time.Hour)
	require.False(t, active("b"), "expired")
	var revokedAt []time.Time
	require.NoError(t, f.db.Raw(`SELECT revoked_at FROM admin_sessions WHERE id = 'a'`).Find(&revokedAt).Error)
	require.Len(t, revokedAt, 1, "a revoked session is kept until it expires, with when it ended")
}

// TestAdminSessionsSweep: creating a session deletes sessions that ended
// more than a day ago, at most 100 at a time, and keeps the rest.
func TestAdminSessionsSweep(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := f.st.AdminSessions(func() time.Time { return now })
	for i := range 130 {
		require.NoError(t, s.Create(f.ctx, fmt.Sprintf("old-%d", i), now.Add(-time.Duration(i)*time.Minute)))
	}
	require.NoError(t, s.Create(f.ctx, "recent", now.Add(time.Hour)))
	count := func() int64 {
		var n int64
		require.NoError(t, f.db.Raw(`SELECT count(*) FROM admin_sessions`).Find(&n).Error)
		return n
	}
	require.EqualValues(t, 131, count(), "nothing ended more than a day ago yet")

	now = now.Add(25 * time.Hour)
	require.NoError(t, s.Create(f.ctx, "new-1", now.Add(time.Hour)))
	require.EqualValues(t, 131-100+1, count(), "at most 100 swept per sign-in")
	require.NoError(t, s.Create(f.ctx, "new-2", now.Add(time.Hour)))
	var left []string
	require.NoError(t, f.db.Raw(`SELECT id FROM admin_sessions ORDER BY id`).Find(&left).Error)
	require.Equal(t, []string{"new-1", "new-2", "recent"}, left, "the sweep takes the oldest first, then the rest")
}
