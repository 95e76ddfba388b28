package outbox

import (
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// reconcileSetup is a schema, a portal with portalFixture's clients, a relay
// syncing into it and a reconciler comparing the two.
type reconcileSetup struct {
	*relaySetup
	m     *mongoSetup
	relay *Relay
	rec   *Reconciler
	reg   *prometheus.Registry
}

func setupReconcile(t *testing.T) *reconcileSetup {
	t.Helper()
	s := setupRelay(t)
	m := setupMongo(t)
	portalFixture(t, m)
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &reconcileSetup{relaySetup: s, m: m, reg: reg,
		relay: s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxCreditorDebtUpdate: m.sink}),
		rec:   NewReconciler(s.st, m.sink, time.Hour, reg, log)}
}

// synced records an auto-matched update about client-a's first creditor
// and lets the relay deliver it.
func (s *reconcileSetup) synced(t *testing.T, inquiryID uint64, at time.Time, amount float64) models.DebtSyncPayload {
	t.Helper()
	id := s.email(t, models.SyncPending)
	p := syncPayload(at)
	p.EmailID, p.DebtUpdateID, p.InquiryID, p.Amount = id, id, &inquiryID, amount
	msg := s.enqueue(t, models.OutboxCreditorDebtUpdate, id, p)
	require.Equal(t, 1, runOnce(t, s.ctx, s.relay))
	requireOutcome(t, s.row(t, msg.ID), "delivered", 1)
	return p
}

// editEntry changes element i of a client's creditor list as portal staff would.
func (s *reconcileSetup) editEntry(t *testing.T, client string, i int, op string, fields bson.D) {
	t.Helper()
	prefixed := bson.D{}
	for _, f := range fields {
		prefixed = append(prefixed, bson.E{Key: "final_creditor_list." + strconv.Itoa(i) + "." + f.Key, Value: f.Value})
	}
	_, err := s.m.clients.UpdateOne(s.ctx, bson.D{{Key: "_id", Value: client}}, bson.D{{Key: op, Value: prefixed}})
	require.NoError(t, err)
}

func (s *reconcileSetup) reconcile(t *testing.T) Report {
	t.Helper()
	rep, err := s.rec.runOnce(s.ctx)
	require.NoError(t, err)
	require.NotZero(t, rep.ID, "a report row is written")
	return rep
}

func (s *reconcileSetup) storedReport(t *testing.T, id uint64) (models.SyncDriftReport, DriftDetails) {
	t.Helper()
	var row models.SyncDriftReport
	require.NoError(t, s.db.Take(&row, id).Error)
	var d DriftDetails
	require.NoError(t, json.Unmarshal(row.Details, &d))
	return row, d
}

// metric reads a counter or gauge from the registry, 0 when absent.
func (s *reconcileSetup) metric(t *testing.T, name, kind string) float64 {
	t.Helper()
	families, err := s.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if kind != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != kind) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func TestReconcileInSyncResendsNothing(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	s.synced(t, 1, time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC), 1234.56)
	before := s.m.raw(t, "client-a")

	rep := s.reconcile(t)
	require.Equal(t, 1, rep.Checked)
	require.Equal(t, 1, rep.InSync)
	require.Zero(t, rep.Drifted)
	require.Zero(t, rep.Resent)
	require.Zero(t, rep.Errors)
	require.Equal(t, before, s.m.raw(t, "client-a"))

	row, d := s.storedReport(t, rep.ID)
	require.Equal(t, 1, row.Checked)
	require.Equal(t, 1, row.InSync)
	require.False(t, row.FinishedAt.Before(row.StartedAt))
	require.Empty(t, d.PGNewer)
	require.Empty(t, d.PortalNewer)
	require.Empty(t, d.Failed)
	require.Zero(t, s.metric(t, "matcher_reconcile_drift_total", DriftPGNewer))
	require.InDelta(t, float64(time.Now().Unix()), s.metric(t, "matcher_reconcile_last_run_timestamp_seconds", ""), 60)
}

func TestReconcileResendsWhenPortalHoldsOlderAnswer(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	at := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	p := s.synced(t, 1, at, 1234.56)
	// An older answer was written over ours (e.g. restored from a backup).
	s.editEntry(t, "client-a", 0, "$set", bson.D{
		{Key: "current_debt_amount", Value: 50.0}, {Key: "response_received_at", Value: at.Add(-24 * time.Hour)},
	})

	rep := s.reconcile(t)
	require.Equal(t, 1, rep.Drifted)
	require.Equal(t, 1, rep.Resent)
	require.Equal(t, []uint64{p.EmailID}, rep.Details.PGNewer)
	requireAnswer(t, s.m.entry(t, "client-a", 0), p, 100)
	require.Equal(t, 1.0, s.metric(t, "matcher_reconcile_drift_total", DriftPGNewer))
	_, d := s.storedReport(t, rep.ID)
	require.Equal(t, []uint64{p.EmailID}, d.PGNewer)

	// The portal lost the answer entirely.
	s.editEntry(t, "client-a", 0, "$unset", bson.D{{Key: "current_debt_amount", Value: ""}, {Key: "response_received_at", Value: ""}})
	rep = s.reconcile(t)
	require.Equal(t, 1, rep.Resent)
	requireAnswer(t, s.m.entry(t, "client-a", 0), p, 100)

	rep = s.reconcile(t)
	require.Equal(t, 1, rep.InSync, "fixed")
	require.Zero(t, rep.Resent)
}

func TestReconcileReportsNewerPortalEditOnly(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	at := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	p := s.synced(t, 1, at, 1234.56)

	// Staff corrected the amount later in the portal.
	s.editEntry(t, "client-a", 0, "$set", bson.D{
		{Key: "current_debt_amount", Value: 777.0}, {Key: "response_received_at", Value: at.Add(time.Hour)},
	})
	edited := s.m.raw(t, "client-a")
	rep := s.reconcile(t)
	require.Equal(t, 1, rep.Drifted)
	require.Zero(t, rep.Resent)
	require.Equal(t, []uint64{p.EmailID}, rep.Details.PortalNewer)
	require.Equal(t, edited, s.m.raw(t, "client-a"), "a newer portal edit is never overwritten")

	// Staff changed the amount and left our response time as it was.
	s.editEntry(t, "client-a", 0, "$set", bson.D{
		{Key: "current_debt_amount", Value: 888.0}, {Key: "response_received_at", Value: at},
	})
	edited = s.m.raw(t, "client-a")
	rep = s.reconcile(t)
	require.Equal(t, []uint64{p.EmailID}, rep.Details.PortalNewer)
	require.Equal(t, edited, s.m.raw(t, "client-a"))
	require.Equal(t, 2.0, s.metric(t, "matcher_reconcile_drift_total", DriftPortalNewer))
	require.Zero(t, s.metric(t, "matcher_reconcile_drift_total", DriftPGNewer))
}

func TestReconcileTrustsOnlyTheNewestUpdatePerInquiry(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	t0 := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	newer := s.synced(t, 7, t0.Add(2*time.Hour), 200)
	// An older reply processed later: delivered, but the sink kept the newer answer.
	older := s.synced(t, 7, t0.Add(time.Hour), 100)
	requireAnswer(t, s.m.entry(t, "client-a", 0), newer, 100)

	rep := s.reconcile(t)
	require.Equal(t, 1, rep.Checked)
	require.Equal(t, 1, rep.InSync)
	require.Equal(t, 1, rep.Details.Superseded)
	require.Zero(t, rep.Drifted)

	s.editEntry(t, "client-a", 0, "$set", bson.D{
		{Key: "current_debt_amount", Value: 5.0}, {Key: "response_received_at", Value: t0},
	})
	rep = s.reconcile(t)
	require.Equal(t, []uint64{newer.EmailID}, rep.Details.PGNewer)
	require.NotContains(t, rep.Details.PGNewer, older.EmailID)
	requireAnswer(t, s.m.entry(t, "client-a", 0), newer, 100)
}

func TestReconcileCountsErrorsWithoutNames(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	p := s.synced(t, 1, time.Now().UTC(), 1234.56)
	_, err := s.m.clients.DeleteOne(s.ctx, bson.D{{Key: "_id", Value: "client-a"}})
	require.NoError(t, err)

	rep := s.reconcile(t)
	require.Equal(t, 1, rep.Checked)
	require.Equal(t, 1, rep.Errors)
	require.Equal(t, []DriftError{{EmailID: p.EmailID, Code: "client_not_found"}}, rep.Details.Failed)
	row, _ := s.storedReport(t, rep.ID)
	require.Equal(t, 1, row.Errors)
	for _, secret := range []string{"Mustermann", "Inkasso", "1234", "123/24"} {
		require.NotContains(t, string(row.Details), secret, "reports hold ids and codes only")
	}
}

func TestReconcileAbortsWhenPortalUnavailable(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	for i := range 5 {
		s.synced(t, uint64(i+1), time.Now().UTC(), 10)
	}
	rec := NewReconciler(s.st, deadMongoSink(t), time.Hour, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	rep, err := rec.runOnce(s.ctx)
	require.NoError(t, err)
	require.True(t, rep.Details.Aborted)
	require.Equal(t, maxUnavailable, rep.Checked, "stops after a few unreachable checks")
	require.Equal(t, maxUnavailable, rep.Errors)
	require.Equal(t, "unavailable", rep.Details.Failed[0].Code)
}

func TestReconcileLooksBackOnlySoFar(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	p := s.synced(t, 1, time.Now().UTC(), 1234.56)
	require.NoError(t, s.db.Exec("UPDATE outbox_messages SET processed_at = now() - interval '8 days' WHERE aggregate_id = ?", p.EmailID).Error)
	require.Zero(t, s.reconcile(t).Checked)
}

func TestReconcilerStartRunsWhenDueAndStops(t *testing.T) {
	t.Parallel()
	s := setupReconcile(t)
	s.synced(t, 1, time.Now().UTC(), 1234.56)
	count := func() int64 {
		var n int64
		require.NoError(t, s.db.Model(&models.SyncDriftReport{}).Count(&n).Error)
		return n
	}

	require.NoError(t, s.rec.Start(s.ctx))
	apptest.Eventually(t, 20*time.Second, func() bool { return count() == 1 }, "first run at start")
	s.rec.Stop()
	s.rec.Stop()

	rep, err := s.rec.run(s.ctx, true)
	require.NoError(t, err)
	require.Zero(t, rep.ID, "not due again within the interval")
	require.Equal(t, int64(1), count())

	// Another process holds the lock: this one neither waits nor runs.
	require.NoError(t, s.db.Store(t).WithReconcileLock(s.ctx, func() error {
		_, err := s.rec.runOnce(s.ctx)
		require.ErrorIs(t, err, store.ErrBusy)
		return nil
	}))
	require.Equal(t, int64(1), count())
}

func TestDriftKind(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	p := models.DebtSyncPayload{Amount: 100, ResponseReceivedAt: at}
	amount := func(v float64) *float64 { return &v }
	when := func(d time.Duration) *time.Time { t := at.Add(d); return &t }

	require.Empty(t, driftKind(p, amount(100.001), when(-time.Hour)), "same cents, in sync")
	require.Equal(t, DriftPGNewer, driftKind(p, nil, nil))
	require.Equal(t, DriftPGNewer, driftKind(p, amount(5), nil))
	require.Equal(t, DriftPGNewer, driftKind(p, amount(5), when(-time.Millisecond)))
	require.Equal(t, DriftPortalNewer, driftKind(p, amount(5), when(0)))
	require.Equal(t, DriftPortalNewer, driftKind(p, amount(5), when(time.Minute)))
	require.Equal(t, DriftPortalNewer, driftKind(p, nil, when(time.Minute)))
}

// Compile-time check: the MongoDB sink is what the reconciler needs.
var _ Portal = (*MongoSink)(nil)
