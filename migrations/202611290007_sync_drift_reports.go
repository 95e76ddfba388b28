package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// syncDriftReports stores one row per reconciliation run between the synced
// debt updates and the portal's MongoDB. details holds ids and codes only,
// never names or amounts.
func syncDriftReports() *gormigrate.Migration {
	return sqlMigration("202611290007_sync_drift_reports", []string{`
CREATE TABLE sync_drift_reports (
  id           bigserial PRIMARY KEY,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL,
  checked      integer NOT NULL DEFAULT 0,
  in_sync      integer NOT NULL DEFAULT 0,
  drifted      integer NOT NULL DEFAULT 0,
  resent       integer NOT NULL DEFAULT 0,
  errors       integer NOT NULL DEFAULT 0,
  details      jsonb NOT NULL DEFAULT '{}'
)`,
		`CREATE INDEX sync_drift_reports_started_idx ON sync_drift_reports (started_at DESC)`,
		// The reconciler reads recent delivered portal syncs.
		`CREATE INDEX outbox_messages_delivered_sync_idx ON outbox_messages (processed_at)
  WHERE aggregate_type = 'creditor_debt_update' AND outcome = 'delivered'`,
	}, []string{`DROP INDEX IF EXISTS outbox_messages_delivered_sync_idx`, `DROP TABLE sync_drift_reports`})
}
