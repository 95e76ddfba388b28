package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// adminSessions keeps the admin page's sessions on the server, so signing
// out ends every copy of a session's cookie on every web process (DESIGN.md
// §5). id is the session id the signed cookie carries. Expired rows are
// deleted a while after they end, oldest first, through the expiry index.
func adminSessions() *gormigrate.Migration {
	return sqlMigration("202612052002_admin_sessions", []string{`
CREATE TABLE admin_sessions (
  id          text PRIMARY KEY,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
)`,
		`CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires_at)`,
	}, []string{`DROP TABLE admin_sessions`})
}
