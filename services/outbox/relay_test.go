package outbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// relaySetup is one test's migrated schema.
type relaySetup struct {
	ctx context.Context
	db  *apptest.DB
	st  *store.Store
}

func setupRelay(t *testing.T) *relaySetup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	db := apptest.NewDB(t)
	return &relaySetup{ctx: ctx, db: db, st: db.Store(t)}
}

// email stores a completed email with the given sync_status.
func (s *relaySetup) email(t *testing.T, sync string) uint64 {
	t.Helper()
	e := models.IncomingEmail{ZendeskTicketID: "4242", DedupKey: "k:" + apptest.RandomID(),
		FromEmail: "info@inkasso-a.de", ProcessingStatus: models.StatusCompleted, ReceivedAt: time.Now(),
		SyncStatus: sync, AttachmentURLs: models.JSON("[]")}
	require.NoError(t, s.db.Omit("id").Create(&e).Error)
	return e.ID
}

// enqueue inserts one outbox row on its own with store.EnqueueOutbox, as the
// reaper does for a crash-loop alert (the debt writer's rows come with the
// statement that completes the email, store.Finish), and returns it.
func (s *relaySetup) enqueue(t *testing.T, kind string, emailID uint64, payload any) models.OutboxMessage {
	t.Helper()
	added, err := s.st.EnqueueOutbox(s.ctx, kind, emailID, payload)
	require.NoError(t, err)
	require.True(t, added)
	var row models.OutboxMessage
	require.NoError(t, s.db.Where("idempotency_key = ?", models.OutboxKey(kind, emailID)).Take(&row).Error)
	return row
}

func (s *relaySetup) notification(t *testing.T) models.OutboxMessage {
	t.Helper()
	id := s.email(t, models.SyncNotApplicable)
	return s.enqueue(t, models.OutboxDebtNotification, id, models.DebtNotificationPayload{
		EmailID: id, TicketID: "4242", ClientName: "Mustermann, Max", CreditorName: "Inkasso A GmbH",
		NewAmount: 1234.56, ReferenceNumbers: []string{"AZ-1"}, Confidence: 0.9, MatchStatus: models.MatchAuto,
	})
}

// debtSync adds a pending email with a creditor_debt_update row for client-a's first creditor.
func (s *relaySetup) debtSync(t *testing.T, at time.Time) (models.OutboxMessage, models.DebtSyncPayload) {
	t.Helper()
	id := s.email(t, models.SyncPending)
	p := syncPayload(at)
	p.EmailID = id
	return s.enqueue(t, models.OutboxCreditorDebtUpdate, id, p), p
}

func (s *relaySetup) relay(t *testing.T, cfg RelayConfig, sinks map[string]Sink) *Relay {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = time.Minute
	}
	return NewRelay(cfg, s.st, sinks, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (s *relaySetup) row(t *testing.T, id uint64) models.OutboxMessage {
	t.Helper()
	var row models.OutboxMessage
	require.NoError(t, s.db.Take(&row, id).Error)
	return row
}

func (s *relaySetup) emailRow(t *testing.T, id uint64) models.IncomingEmail {
	t.Helper()
	var e models.IncomingEmail
	require.NoError(t, s.db.Take(&e, id).Error)
	return e
}

// makeDue lets the backoff of a row pass.
func (s *relaySetup) makeDue(t *testing.T, id uint64) {
	t.Helper()
	require.NoError(t, s.db.Exec("UPDATE outbox_messages SET next_attempt_at = now() - interval '1 second' WHERE id = ?", id).Error)
}

func (s *relaySetup) outboxCount(t *testing.T, emailID uint64, kind string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.db.Model(&models.OutboxMessage{}).Where("aggregate_id = ? AND aggregate_type = ?", emailID, kind).Count(&n).Error)
	return n
}

func requireOutcome(t *testing.T, row models.OutboxMessage, outcome string, attempts int) {
	t.Helper()
	require.NotNil(t, row.ProcessedAt, "row %d processed", row.ID)
	require.NotNil(t, row.Outcome)
	require.Equal(t, outcome, *row.Outcome)
	require.Equal(t, attempts, row.Attempts)
	require.Nil(t, row.LockedUntil, "the reservation is released")
}

func runOnce(t *testing.T, ctx context.Context, r *Relay) int {
	t.Helper()
	n, err := r.runOnce(ctx)
	require.NoError(t, err)
	return n
}

func TestRelayDeliversOnceAndMarks(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	ts := newTestSMTPServer(t)
	mail := smtpSinkFor(ts)
	first, second := s.notification(t), s.notification(t)
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxDebtNotification: mail})

	require.Equal(t, 2, runOnce(t, s.ctx, r))
	require.Len(t, ts.Mails(), 2)
	for _, msg := range []models.OutboxMessage{first, second} {
		row := s.row(t, msg.ID)
		requireOutcome(t, row, "delivered", 1)
		require.Nil(t, row.LastError)
	}
	require.Zero(t, runOnce(t, s.ctx, r), "processed rows are not claimed again")
	require.Len(t, ts.Mails(), 2)
}

func TestRelaySyncsPortalAndMarksEmailSynced(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	m := setupMongo(t)
	portalFixture(t, m)
	beforeA, beforeB := m.raw(t, "client-a"), m.raw(t, "client-b")
	msg, p := s.debtSync(t, time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC))
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxCreditorDebtUpdate: m.sink})

	require.Equal(t, 1, runOnce(t, s.ctx, r))
	requireOutcome(t, s.row(t, msg.ID), "delivered", 1)
	e := s.emailRow(t, p.EmailID)
	require.Equal(t, models.SyncSynced, e.SyncStatus)
	require.Nil(t, e.SyncError)

	requireAnswer(t, m.entry(t, "client-a", 0), p, 100) // claim_amount unchanged
	afterA := m.raw(t, "client-a")
	require.Equal(t, beforeA.Lookup("final_creditor_list", "1"), afterA.Lookup("final_creditor_list", "1"))
	require.Equal(t, beforeB, m.raw(t, "client-b"), "the other client is untouched")
}

func TestRelaySkipsWithoutSink(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	msg, p := s.debtSync(t, time.Now())
	note := s.notification(t)
	// No portal sink, and an SMTP sink without a server.
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxDebtNotification: NewSMTPSink(SMTPConfig{})})

	require.Equal(t, 2, runOnce(t, s.ctx, r))
	for _, id := range []uint64{msg.ID, note.ID} {
		row := s.row(t, id)
		requireOutcome(t, row, "skipped", 1)
		require.Nil(t, row.LastError, "skipping is no error")
	}
	e := s.emailRow(t, p.EmailID)
	require.Equal(t, models.SyncNotApplicable, e.SyncStatus)
	require.Nil(t, e.SyncError)
}

func TestRelayRetriesTransientErrorLater(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	ts := newTestSMTPServer(t)
	ts.Reject(testNotify, 451)
	note := s.notification(t)
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxDebtNotification: smtpSinkFor(ts)})

	require.Equal(t, 1, runOnce(t, s.ctx, r))
	row := s.row(t, note.ID)
	require.Nil(t, row.ProcessedAt)
	require.Nil(t, row.Outcome)
	require.Equal(t, 1, row.Attempts)
	require.NotNil(t, row.LastError)
	require.Contains(t, *row.LastError, "451")
	require.NotContains(t, *row.LastError, testNotify, "stored errors carry no addresses")
	require.True(t, row.NextAttemptAt.After(time.Now().Add(10*time.Second)), "backoff: next attempt in the future")
	require.Zero(t, runOnce(t, s.ctx, r), "not due yet")
	require.Empty(t, ts.Mails())

	ts.Unreject(testNotify)
	s.makeDue(t, note.ID)
	require.Equal(t, 1, runOnce(t, s.ctx, r))
	row = s.row(t, note.ID)
	requireOutcome(t, row, "delivered", 2)
	require.Nil(t, row.LastError, "a success clears the last error")
	require.Len(t, ts.Mails(), 1)
}

func TestRelayPermanentErrorFailsSync(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	m := setupMongo(t) // empty portal: the client is not found
	msg, p := s.debtSync(t, time.Now())
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxCreditorDebtUpdate: m.sink})

	require.Equal(t, 1, runOnce(t, s.ctx, r))
	row := s.row(t, msg.ID)
	requireOutcome(t, row, "failed", 1)
	require.NotNil(t, row.LastError)
	require.Contains(t, *row.LastError, ErrClientNotFound.Error())
	e := s.emailRow(t, p.EmailID)
	require.Equal(t, models.SyncFailed, e.SyncStatus)
	require.NotNil(t, e.SyncError)
	require.Contains(t, *e.SyncError, ErrClientNotFound.Error())
	require.NotContains(t, *e.SyncError, "Mustermann", "errors carry ids, not names")
}

// TestRelayLogsNoContentOrSecrets fails an alert (the mail server rejects
// the admin's address) and a portal sync (no such client) and checks the
// relay's log lines: ids, kinds and reply codes, never the addresses, names,
// subjects, amounts or error texts of the payloads, nor SMTP credentials.
func TestRelayLogsNoContentOrSecrets(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	ts := newTestSMTPServer(t)
	ts.Reject(testAdmin, 550)
	m := setupMongo(t) // empty portal: the client is not found
	alertEmail := s.email(t, models.SyncNotApplicable)
	alert := models.FailureAlertPayload{EmailID: alertEmail, FromEmail: "forderung@glaeubiger.example",
		Subject: "Ihre Anfrage Mustermann", Error: "extract: Gesamtforderung 1.234,56 EUR unreadable", FailedAt: time.Now()}
	s.enqueue(t, models.OutboxFailureAlert, alertEmail, alert)
	_, debt := s.debtSync(t, time.Now())
	var logs bytes.Buffer
	r := s.relay(t, RelayConfig{}, map[string]Sink{models.OutboxFailureAlert: smtpSinkFor(ts), models.OutboxCreditorDebtUpdate: m.sink})
	r.log = slog.New(slog.NewJSONHandler(&logs, nil))

	require.Equal(t, 2, runOnce(t, s.ctx, r))
	out := logs.String()
	require.Equal(t, 2, strings.Count(out, "outbox delivery failed"), out)
	require.Contains(t, out, "550")
	require.Contains(t, out, ErrClientNotFound.Error())
	for _, secret := range []string{testAdmin, ts.Password, alert.FromEmail, alert.Subject, alert.Error,
		debt.ClientName, "Mustermann", debt.ClientAktenzeichen, debt.CreditorName, debt.CreditorEmail, debt.Summary, "1234.56"} {
		require.NotContains(t, out, secret)
	}
}

func TestRelayFailsAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	msg, p := s.debtSync(t, time.Now())
	r := s.relay(t, RelayConfig{MaxAttempts: 2}, map[string]Sink{models.OutboxCreditorDebtUpdate: deadMongoSink(t)})

	require.Equal(t, 1, runOnce(t, s.ctx, r))
	row := s.row(t, msg.ID)
	require.Nil(t, row.ProcessedAt)
	e := s.emailRow(t, p.EmailID)
	require.Equal(t, models.SyncPending, e.SyncStatus, "still waiting for the portal")
	require.NotNil(t, e.SyncError)

	s.makeDue(t, msg.ID)
	require.Equal(t, 1, runOnce(t, s.ctx, r))
	requireOutcome(t, s.row(t, msg.ID), "failed", 2)
	require.Equal(t, models.SyncFailed, s.emailRow(t, p.EmailID).SyncStatus)
	s.makeDue(t, msg.ID)
	require.Zero(t, runOnce(t, s.ctx, r), "a failed row stays failed")
}

func TestRelaysInParallelDeliverEachMailOnce(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	ts := newTestSMTPServer(t)
	mail := smtpSinkFor(ts)
	const rows = 50
	ids := map[uint64]bool{}
	for range rows {
		ids[s.notification(t).ID] = true
	}
	relays := make([]*Relay, 3)
	for i := range relays {
		relays[i] = s.relay(t, RelayConfig{Batch: 4}, map[string]Sink{models.OutboxDebtNotification: mail})
	}

	var wg sync.WaitGroup
	claimed := make([]int, len(relays))
	errs := make([]error, len(relays))
	for i, r := range relays {
		wg.Go(func() {
			for {
				n, err := r.runOnce(s.ctx)
				if err != nil || n == 0 {
					errs[i] = err
					return
				}
				claimed[i] += n
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range relays {
		require.NoError(t, errs[i])
		total += claimed[i]
	}
	require.Equal(t, rows, total, "each row claimed by exactly one relay")

	mails := ts.Mails()
	require.Len(t, mails, rows)
	seen := map[string]bool{}
	for _, m := range mails {
		id := parseMail(t, m.Data).header.Get("Message-Id")
		require.False(t, seen[id], "mail %s received twice", id)
		seen[id] = true
	}
	for id := range ids {
		requireOutcome(t, s.row(t, id), "delivered", 1)
	}
}

// slowSink takes delay per delivery and counts the deliveries of each row.
type slowSink struct {
	delay time.Duration
	mu    sync.Mutex
	sent  map[uint64]int
}

func (s *slowSink) Deliver(ctx context.Context, msg models.OutboxMessage) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[msg.ID]++
	return nil
}

// TestRelaySlowBatchDoesNotOutlastReservation: a batch's deliveries take
// longer together than its reservation. The relay must not start a delivery
// its reservation may not cover, or a second relay claims the rest of the
// batch once the reservation ends and sends those rows again.
func TestRelaySlowBatchDoesNotOutlastReservation(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	const rows = 5
	for range rows {
		s.notification(t)
	}
	sink := &slowSink{delay: 600 * time.Millisecond, sent: map[uint64]int{}}
	cfg := RelayConfig{LockFor: 2 * time.Second, Batch: 10}
	relays := []*Relay{
		s.relay(t, cfg, map[string]Sink{models.OutboxDebtNotification: sink}),
		s.relay(t, cfg, map[string]Sink{models.OutboxDebtNotification: sink}),
	}
	open := func() (n int64, err error) {
		err = s.db.Model(&models.OutboxMessage{}).Where("processed_at IS NULL").Count(&n).Error
		return n, err
	}

	var wg sync.WaitGroup
	errs := make([]error, len(relays))
	for i, r := range relays {
		wg.Go(func() {
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
				if _, errs[i] = r.runOnce(s.ctx); errs[i] != nil {
					return
				}
				var left int64
				if left, errs[i] = open(); errs[i] != nil || left == 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Len(t, sink.sent, rows)
	for id, n := range sink.sent {
		require.Equal(t, 1, n, "row %d delivered %d times", id, n)
		requireOutcome(t, s.row(t, id), "delivered", 1)
	}
}

// TestRelayCrashBetweenSendAndMark emulates a relay that claimed rows and
// delivered them, then died before marking: its reservation expires and a
// live relay delivers the rows again. MongoDB ends identical; the mail is
// sent again with the same Message-ID, so it is recognisable as a duplicate.
func TestRelayCrashBetweenSendAndMark(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	m := setupMongo(t)
	portalFixture(t, m)
	ts := newTestSMTPServer(t)
	mail := smtpSinkFor(ts)
	sinks := map[string]Sink{models.OutboxCreditorDebtUpdate: m.sink, models.OutboxDebtNotification: mail}
	syncRow, p := s.debtSync(t, time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC))
	note := s.enqueue(t, models.OutboxDebtNotification, p.EmailID, models.DebtNotificationPayload{
		EmailID: p.EmailID, TicketID: "4242", NewAmount: p.Amount, MatchStatus: models.MatchAuto,
	})

	// The dead relay: claims with the relay's own query, delivers, never marks.
	claimed, err := s.st.ClaimOutbox(s.ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	for _, msg := range claimed {
		require.NoError(t, sinks[msg.AggregateType].Deliver(s.ctx, msg))
	}
	afterFirst := m.raw(t, "client-a")
	require.Len(t, ts.Mails(), 1)

	live := s.relay(t, RelayConfig{}, sinks)
	require.Zero(t, runOnce(t, s.ctx, live), "the dead relay's reservation is respected until it ends")

	require.NoError(t, s.db.Exec("UPDATE outbox_messages SET locked_until = now() - interval '1 second' WHERE id IN ?",
		[]uint64{syncRow.ID, note.ID}).Error)
	require.Equal(t, 2, runOnce(t, s.ctx, live))
	requireOutcome(t, s.row(t, syncRow.ID), "delivered", 2)
	requireOutcome(t, s.row(t, note.ID), "delivered", 2)
	require.Equal(t, models.SyncSynced, s.emailRow(t, p.EmailID).SyncStatus)

	require.Equal(t, afterFirst, m.raw(t, "client-a"), "the repeated portal write is idempotent")
	require.Equal(t, int64(1), s.outboxCount(t, p.EmailID, models.OutboxCreditorDebtUpdate))
	require.Equal(t, int64(1), s.outboxCount(t, p.EmailID, models.OutboxDebtNotification))
	mails := ts.Mails()
	require.Len(t, mails, 2)
	require.Equal(t, parseMail(t, mails[0].Data).header.Get("Message-Id"), parseMail(t, mails[1].Data).header.Get("Message-Id"))

	// The dead relay wakes up and marks its stale claims: rows another relay
	// finished keep their outcome, and the email stays synced.
	for _, msg := range claimed {
		require.NoError(t, live.mark(s.ctx, msg, "failed", models.Permanent(errors.New("late"))))
	}
	require.NoError(t, s.st.SkipOutbox(s.ctx, claimed))
	requireOutcome(t, s.row(t, syncRow.ID), "delivered", 2)
	requireOutcome(t, s.row(t, note.ID), "delivered", 2)
	require.Equal(t, models.SyncSynced, s.emailRow(t, p.EmailID).SyncStatus)
}

func TestRelayStartStop(t *testing.T) {
	t.Parallel()
	s := setupRelay(t)
	ts := newTestSMTPServer(t)
	note := s.notification(t)
	r := s.relay(t, RelayConfig{Interval: 20 * time.Millisecond}, map[string]Sink{models.OutboxDebtNotification: smtpSinkFor(ts)})
	require.NoError(t, r.Start(s.ctx))
	apptest.Eventually(t, 20*time.Second, func() bool { return s.row(t, note.ID).ProcessedAt != nil }, "row delivered by the running relay")
	r.Stop()
	r.Stop()
	require.Len(t, ts.Mails(), 1)
}

func TestNewRelayDefaults(t *testing.T) {
	t.Parallel()
	r := NewRelay(RelayConfig{}, nil, nil, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Positive(t, r.cfg.Interval)
	require.Equal(t, 10, r.cfg.MaxAttempts)
	require.Equal(t, "retry", r.outcome(models.OutboxMessage{Attempts: 1}, models.Transient(io.ErrUnexpectedEOF, 0)))
}
