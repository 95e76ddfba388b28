package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/background"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Portal is what the reconciler needs of the portal sink: the answer an
// entry holds now, and a way to deliver a payload again. *MongoSink is one.
type Portal interface {
	CurrentAmount(ctx context.Context, p models.DebtSyncPayload) (*float64, *time.Time, error)
	Deliver(ctx context.Context, msg models.OutboxMessage) error
}

// Drift kinds, the kind label of matcher_reconcile_drift_total.
const (
	// DriftPGNewer: the portal holds an older answer, or lost ours; re-sent.
	DriftPGNewer = "pg_newer"
	// DriftPortalNewer: the portal was edited after our sync; reported only.
	DriftPortalNewer = "portal_newer"
)

const (
	reconcileBatch        = 500
	reconcileQueryTimeout = 10 * time.Second
	// maxDetailIDs bounds the ids one report lists per kind.
	maxDetailIDs = 1000
	// maxUnavailable consecutive portal errors that are not "not found" end
	// the run early: the portal is down, and every further check would wait
	// for its own timeout.
	maxUnavailable = 3
)

// Report is the outcome of one reconciliation run, stored in sync_drift_reports.
type Report struct {
	ID         uint64
	StartedAt  time.Time
	FinishedAt time.Time
	Checked    int // latest synced update per inquiry compared with the portal
	InSync     int
	Drifted    int // pg_newer plus portal_newer
	Resent     int // pg_newer entries delivered again
	Errors     int
	Details    DriftDetails
}

// DriftDetails lists what drifted by email id and error code only: the
// report table must not hold client names or amounts.
type DriftDetails struct {
	PGNewer     []uint64     `json:"pg_newer"`
	PortalNewer []uint64     `json:"portal_newer"`
	Failed      []DriftError `json:"errors"`
	// Superseded counts older synced updates of an inquiry that has a newer one.
	Superseded int `json:"superseded"`
	// Truncated says a list hit its cap; the counts stay exact.
	Truncated bool `json:"truncated,omitempty"`
	// Aborted says the portal was unavailable and the run stopped early.
	Aborted bool `json:"aborted,omitempty"`
}

// DriftError is one update the reconciler could not check or re-send.
type DriftError struct {
	EmailID uint64 `json:"email_id"`
	// Code is client_not_found, creditor_not_found, rejected, unavailable,
	// bad_payload or resend_failed.
	Code string `json:"code"`
}

// Reconciler periodically compares the debt updates synced to the portal
// with what the portal holds now. Where PostgreSQL has the newer answer it
// delivers it again (the sink never writes an older answer over a newer
// one); where the portal was edited later it only reports. Each run writes
// one sync_drift_reports row. Runs of several processes are serialised by
// an advisory lock, and a run is skipped when another process ran recently.
type Reconciler struct {
	store    *store.Store
	portal   Portal
	interval time.Duration
	log      *slog.Logger
	drift    *prometheus.CounterVec
	lastRun  prometheus.Gauge

	*background.Loop
}

// reconcileLookback is how far back a run compares delivered syncs.
const reconcileLookback = 7 * 24 * time.Hour

// NewReconciler returns a reconciler running every interval (default 1h)
// over the updates synced within reconcileLookback.
func NewReconciler(st *store.Store, portal Portal, interval time.Duration, reg prometheus.Registerer, log *slog.Logger) *Reconciler {
	if interval <= 0 {
		interval = time.Hour
	}
	r := &Reconciler{store: st, portal: portal, interval: interval, log: log,
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "matcher_reconcile_drift_total",
			Help: "Portal entries found out of sync by kind (pg_newer re-sent, portal_newer reported).",
		}, []string{"kind"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "matcher_reconcile_last_run_timestamp_seconds",
			Help: "Unix time the last reconciliation run of this process finished.",
		}),
	}
	r.drift.WithLabelValues(DriftPGNewer)
	r.drift.WithLabelValues(DriftPortalNewer)
	reg.MustRegister(r.drift, r.lastRun)
	// The loop checks every interval/4 (and once at start, so frequent
	// restarts cannot starve it) but runs only when a run is due; another
	// process holding the lock is not a failure.
	r.Loop = background.NewLoop("portal reconciliation", max(interval/4, time.Millisecond), func(ctx context.Context) error {
		if _, err := r.run(ctx, true); err != nil && !errors.Is(err, store.ErrBusy) {
			return err
		}
		return nil
	}, log)
	return r
}

// runOnce reconciles now, whenever the last run was.
func (r *Reconciler) runOnce(ctx context.Context) (Report, error) {
	return r.run(ctx, false)
}

// run reconciles under the advisory lock (store.WithReconcileLock); with
// onlyIfDue it returns an empty report when a run started within 90 % of
// the interval. It returns store.ErrBusy when another process holds the
// lock.
func (r *Reconciler) run(ctx context.Context, onlyIfDue bool) (Report, error) {
	var rep Report
	err := r.store.WithReconcileLock(ctx, func() error {
		if onlyIfDue {
			qctx, cancel := context.WithTimeout(ctx, reconcileQueryTimeout)
			recent, err := r.store.ReconciledWithin(qctx, r.interval*9/10)
			cancel()
			if err != nil || recent {
				return err
			}
		}
		var err error
		if rep, err = r.reconcile(ctx); err != nil {
			return err
		}
		return r.save(ctx, &rep)
	})
	if err != nil {
		return Report{}, err
	}
	if rep.ID != 0 {
		r.lastRun.Set(float64(rep.FinishedAt.Unix()))
		r.logReport(rep)
	}
	return rep, nil
}

// reconcile checks the latest synced update of every inquiry against the portal.
func (r *Reconciler) reconcile(ctx context.Context) (Report, error) {
	rep := Report{StartedAt: time.Now().UTC(), Details: DriftDetails{
		PGNewer: []uint64{}, PortalNewer: []uint64{}, Failed: []DriftError{},
	}}
	latest, err := r.latestSynced(ctx, &rep)
	if err != nil {
		return Report{}, err
	}
	unavailable := 0
	for _, s := range latest {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		if r.check(ctx, s, &rep) {
			unavailable = 0
			continue
		}
		unavailable++
		if unavailable >= maxUnavailable {
			rep.Details.Aborted = true
			break
		}
	}
	rep.FinishedAt = time.Now().UTC()
	return rep, nil
}

// synced is one delivered creditor_debt_update row and its payload.
type synced struct {
	msg models.OutboxMessage
	p   models.DebtSyncPayload
}

// latestSynced reads the rows delivered within reconcileLookback, page by page,
// and keeps per inquiry only the one with the newest response: an older
// answer is never authoritative, whatever order the rows were sent in.
func (r *Reconciler) latestSynced(ctx context.Context, rep *Report) ([]synced, error) {
	since := time.Now().Add(-reconcileLookback)
	newest := map[string]synced{}
	var after uint64
	for {
		qctx, cancel := context.WithTimeout(ctx, reconcileQueryTimeout)
		page, err := r.store.DeliveredSyncs(qctx, since, after, reconcileBatch)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, msg := range page {
			after = msg.ID
			var p models.DebtSyncPayload
			if err := json.Unmarshal(msg.Payload, &p); err != nil {
				rep.fail(msg.AggregateID, "bad_payload")
				continue
			}
			key := inquiryKey(p, msg)
			if cur, ok := newest[key]; ok {
				rep.Details.Superseded++
				if !newerAnswer(p, cur.p) {
					continue
				}
			}
			newest[key] = synced{msg: msg, p: p}
		}
		if len(page) < reconcileBatch {
			break
		}
	}
	out := make([]synced, 0, len(newest))
	for _, s := range newest {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].msg.ID < out[j].msg.ID })
	return out, nil
}

// inquiryKey groups the updates about one creditor of one client; without
// an inquiry an update stands alone.
func inquiryKey(p models.DebtSyncPayload, msg models.OutboxMessage) string {
	if p.InquiryID != nil {
		return "inquiry:" + strconv.FormatUint(*p.InquiryID, 10)
	}
	return "email:" + strconv.FormatUint(msg.AggregateID, 10)
}

// newerAnswer orders answers by response time, then by debt update id.
func newerAnswer(a, b models.DebtSyncPayload) bool {
	if !a.ResponseReceivedAt.Equal(b.ResponseReceivedAt) {
		return a.ResponseReceivedAt.After(b.ResponseReceivedAt)
	}
	return a.DebtUpdateID > b.DebtUpdateID
}

// check compares one update with the portal and re-sends it when PostgreSQL
// is newer. It returns false when the portal could not be reached.
func (r *Reconciler) check(ctx context.Context, s synced, rep *Report) bool {
	rep.Checked++
	amount, at, err := r.portal.CurrentAmount(ctx, s.p)
	if err != nil {
		code := portalErrorCode(err)
		rep.fail(s.p.EmailID, code)
		return code != "unavailable"
	}
	kind := driftKind(s.p, amount, at)
	if kind == "" {
		rep.InSync++
		return true
	}
	rep.Drifted++
	r.drift.WithLabelValues(kind).Inc()
	if kind == DriftPortalNewer {
		rep.Details.PortalNewer = appendID(rep.Details.PortalNewer, s.p.EmailID, &rep.Details)
		return true
	}
	rep.Details.PGNewer = appendID(rep.Details.PGNewer, s.p.EmailID, &rep.Details)
	if err := r.portal.Deliver(ctx, s.msg); err != nil {
		rep.fail(s.p.EmailID, "resend_failed")
		return portalErrorCode(err) != "unavailable"
	}
	rep.Resent++
	return true
}

// driftKind classifies the portal's entry against our answer: "" when the
// amounts agree; portal_newer when its answer is as recent as ours or more
// (an equal time with another amount means staff edited it after our sync);
// pg_newer when it holds an older answer or none.
func driftKind(p models.DebtSyncPayload, amount *float64, at *time.Time) string {
	if amount != nil && math.Round(*amount*100) == math.Round(p.Amount*100) {
		return ""
	}
	ours := p.ResponseReceivedAt.UTC().Truncate(time.Millisecond)
	if at != nil && !at.Before(ours) {
		return DriftPortalNewer
	}
	return DriftPGNewer
}

// portalErrorCode names a portal error without its text.
func portalErrorCode(err error) string {
	var perm *models.PermanentError
	switch {
	case errors.Is(err, ErrClientNotFound):
		return "client_not_found"
	case errors.Is(err, ErrCreditorNotFound):
		return "creditor_not_found"
	case errors.As(err, &perm):
		return "rejected"
	}
	return "unavailable"
}

func (rep *Report) fail(emailID uint64, code string) {
	rep.Errors++
	if len(rep.Details.Failed) >= maxDetailIDs {
		rep.Details.Truncated = true
		return
	}
	rep.Details.Failed = append(rep.Details.Failed, DriftError{EmailID: emailID, Code: code})
}

func appendID(ids []uint64, id uint64, d *DriftDetails) []uint64 {
	if len(ids) >= maxDetailIDs {
		d.Truncated = true
		return ids
	}
	return append(ids, id)
}

// save writes the report; it runs even when the run's ctx ends meanwhile,
// so finished work is not lost to a shutdown.
func (r *Reconciler) save(ctx context.Context, rep *Report) error {
	row := models.SyncDriftReport{StartedAt: rep.StartedAt, FinishedAt: rep.FinishedAt, Checked: rep.Checked,
		InSync: rep.InSync, Drifted: rep.Drifted, Resent: rep.Resent, Errors: rep.Errors,
		Details: models.MustJSON(rep.Details)}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reconcileQueryTimeout)
	defer cancel()
	if err := r.store.SaveDriftReport(qctx, &row); err != nil {
		return err
	}
	rep.ID = row.ID
	return nil
}

func (r *Reconciler) logReport(rep Report) {
	level := slog.LevelInfo
	if rep.Drifted > 0 || rep.Errors > 0 {
		level = slog.LevelWarn
	}
	r.log.Log(context.Background(), level, "portal reconciliation finished", "report_id", rep.ID,
		"checked", rep.Checked, "in_sync", rep.InSync, "drifted", rep.Drifted, "resent", rep.Resent,
		"errors", rep.Errors, "aborted", rep.Details.Aborted, "duration", rep.FinishedAt.Sub(rep.StartedAt))
}
