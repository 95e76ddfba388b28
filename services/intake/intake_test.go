package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// testEmail returns a valid email with dedup key and webhook id from key.
func testEmail(key string) Email {
	return Email{
		TicketID: "T-" + key, WebhookID: key, DedupKey: "webhook:" + key,
		FromEmail: "inkasso@example.com", FromName: "Inkasso", Subject: "Ihre Anfrage",
		BodyHTML: "<p>Die Forderung beträgt 100,00 EUR.</p>", BodyText: "Die Forderung beträgt 100,00 EUR.",
		ReceivedAt:  time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC),
		Attachments: []models.Attachment{{URL: "https://example.zendesk.com/a/1", Filename: "brief.pdf"}},
	}
}

// outcome is one Accept call's return.
type outcome struct {
	res Result
	err error
}

// acceptAll runs Accept for each email concurrently and returns the outcomes in order.
func acceptAll(ctx context.Context, s *Service, emails []Email) []outcome {
	out := make([]outcome, len(emails))
	var wg sync.WaitGroup
	for i, e := range emails {
		wg.Go(func() {
			res, err := s.Accept(ctx, e)
			out[i] = outcome{res, err}
		})
	}
	wg.Wait()
	return out
}

// inOneBatch runs Accept for each email concurrently and makes sure they
// are all written in one batch: the flusher slots are held until every
// request is queued, then one waiting call is handed the role.
func inOneBatch(t *testing.T, s *Service, emails []Email) []outcome {
	t.Helper()
	require.LessOrEqual(t, len(emails), store.MaxInsertRows)
	release := hooks(s).Hold()
	done := make(chan []outcome)
	go func() { done <- acceptAll(context.Background(), s, emails) }()
	awaitQueued(t, s, len(emails))
	release()
	return <-done
}

// storedEmail reads a row back.
func storedEmail(t *testing.T, db *gorm.DB, id uint64) models.IncomingEmail {
	t.Helper()
	var row models.IncomingEmail
	require.NoError(t, db.Take(&row, id).Error)
	return row
}

func countRows(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Model(&models.IncomingEmail{}).Count(&n).Error)
	return n
}

// readyIDs returns the ids in the queue's ready list.
func readyIDs(t *testing.T, e *env) map[uint64]int {
	t.Helper()
	vals, err := e.redis.Client.LRange(context.Background(), e.queue().Keys().Ready(), 0, -1).Result()
	require.NoError(t, err)
	ids := map[uint64]int{}
	for _, v := range vals {
		id, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
		ids[id]++
	}
	return ids
}

func TestAcceptStoresAndQueues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s := e.service(e.queue())
	in := testEmail("single-" + apptest.RandomID())
	in.Warnings = []string{"from_email given as Name <address>"}

	res, err := s.Accept(context.Background(), in)
	require.NoError(t, err)
	require.False(t, res.Duplicate)

	row := storedEmail(t, e.durable, res.ID)
	require.Equal(t, in.TicketID, row.ZendeskTicketID)
	require.Equal(t, in.WebhookID, *row.ZendeskWebhookID)
	require.Equal(t, in.DedupKey, row.DedupKey)
	require.Equal(t, in.FromEmail, row.FromEmail)
	require.Equal(t, in.FromName, row.FromName)
	require.Equal(t, in.Subject, row.Subject)
	require.Equal(t, in.BodyHTML, row.RawBodyHTML)
	require.Equal(t, in.BodyText, row.RawBodyText)
	require.True(t, in.ReceivedAt.Equal(row.ReceivedAt))
	require.JSONEq(t, `[{"url":"https://example.zendesk.com/a/1","filename":"brief.pdf"}]`, string(row.AttachmentURLs))
	require.Equal(t, models.SyncNotApplicable, row.SyncStatus)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
	require.NotNil(t, row.LastDispatchedAt)
	require.Equal(t, map[uint64]int{res.ID: 1}, readyIDs(t, e))
	require.JSONEq(t, `["from_email given as Name <address>"]`, string(row.IntakeWarnings))
	require.Nil(t, row.RawPayload, "a usable delivery keeps no raw payload")

	// Without a webhook id the column stays NULL, so it does not collide.
	in2 := testEmail("nowebhook-" + apptest.RandomID())
	in2.WebhookID, in2.Attachments = "", nil
	res2, err := s.Accept(context.Background(), in2)
	require.NoError(t, err)
	row2 := storedEmail(t, e.durable, res2.ID)
	require.Nil(t, row2.ZendeskWebhookID)
	require.JSONEq(t, `[]`, string(row2.AttachmentURLs))
	require.JSONEq(t, `[]`, string(row2.IntakeWarnings))
}

// concurrently runs test in parallel subtests, once for each way of sending
// emails at once: forced into one batch, and free-running. send stores the
// emails through a fresh service on e.
func concurrently(t *testing.T, test func(t *testing.T, e *env, send func([]Email) []outcome)) {
	ways := map[string]func(*testing.T, *Service, []Email) []outcome{
		"one batch": inOneBatch,
		"free":      func(_ *testing.T, s *Service, in []Email) []outcome { return acceptAll(context.Background(), s, in) },
	}
	for name, way := range ways {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, 8)
			s := e.service(e.queue())
			test(t, e, func(in []Email) []outcome { return way(t, s, in) })
		})
	}
}

func TestAcceptConcurrentDistinct(t *testing.T) {
	t.Parallel()
	concurrently(t, func(t *testing.T, e *env, send func([]Email) []outcome) {
		emails := make([]Email, 64)
		for i := range emails {
			emails[i] = testEmail(fmt.Sprintf("distinct-%s-%d", apptest.RandomID(), i))
		}
		out := send(emails)

		ids := map[uint64]bool{}
		for i, o := range out {
			require.NoError(t, o.err, "email %d", i)
			require.False(t, o.res.Duplicate, "email %d", i)
			require.False(t, ids[o.res.ID], "id %d given twice", o.res.ID)
			ids[o.res.ID] = true
			row := storedEmail(t, e.durable, o.res.ID)
			require.Equal(t, emails[i].DedupKey, row.DedupKey, "email %d got another's id", i)
			require.Equal(t, models.StatusQueued, row.ProcessingStatus)
			require.NotNil(t, row.LastDispatchedAt)
		}
		require.EqualValues(t, 64, countRows(t, e.durable))
		ready := readyIDs(t, e)
		require.Len(t, ready, 64)
		for id := range ids {
			require.Equal(t, 1, ready[id], "id %d pushed once", id)
		}
	})
}

func TestAcceptConcurrentIdentical(t *testing.T) {
	t.Parallel()
	concurrently(t, func(t *testing.T, e *env, send func([]Email) []outcome) {
		in := testEmail("same-" + apptest.RandomID())
		emails := make([]Email, 20)
		for i := range emails {
			emails[i] = in
		}
		out := send(emails)

		fresh := 0
		for i, o := range out {
			require.NoError(t, o.err, "delivery %d", i)
			require.Equal(t, out[0].res.ID, o.res.ID, "delivery %d", i)
			if !o.res.Duplicate {
				fresh++
			}
		}
		require.Equal(t, 1, fresh, "exactly one delivery is not a duplicate")
		require.EqualValues(t, 1, countRows(t, e.durable))
		require.Equal(t, models.StatusQueued, storedEmail(t, e.durable, out[0].res.ID).ProcessingStatus)
	})
}

func TestAcceptRepeatOfStoredEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s := e.service(e.queue())
	ctx := context.Background()
	in := testEmail("repeat-" + apptest.RandomID())
	first, err := s.Accept(ctx, in)
	require.NoError(t, err)

	// A repeat of a row still waiting for a worker is dispatched again.
	again, err := s.Accept(ctx, in)
	require.NoError(t, err)
	require.Equal(t, Result{ID: first.ID, Duplicate: true}, again)
	require.Equal(t, 2, readyIDs(t, e)[first.ID])

	// Another delivery with the same webhook id but another dedup key is
	// the same email too.
	other := in
	other.DedupKey = "invocation:" + apptest.RandomID()
	res, err := s.Accept(ctx, other)
	require.NoError(t, err)
	require.Equal(t, Result{ID: first.ID, Duplicate: true}, res)

	// Once a worker has it, a repeat is answered but not dispatched again.
	jobs, err := e.st.Claim(ctx, []uint64{first.ID}, "w1", time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	res, err = s.Accept(ctx, in)
	require.NoError(t, err)
	require.Equal(t, Result{ID: first.ID, Duplicate: true}, res)
	require.Equal(t, 3, readyIDs(t, e)[first.ID])
	row := storedEmail(t, e.durable, first.ID)
	require.Equal(t, models.StatusProcessing, row.ProcessingStatus)
	require.Equal(t, jobs[0].Token, *row.LeaseToken, "the worker keeps its lease")
}

// TestDispatchLeavesClaimedRowsAlone: a repeat that read its original as
// queued just before a worker claimed it dispatches it again; the queued
// mark must not take the row back from the worker.
func TestDispatchLeavesClaimedRowsAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	s := e.service(e.queue())
	ctx := context.Background()
	res, err := s.Accept(ctx, testEmail("claimed-"+apptest.RandomID()))
	require.NoError(t, err)
	jobs, err := e.st.Claim(ctx, []uint64{res.ID}, "w1", time.Minute)
	require.NoError(t, err)
	require.Len(t, jobs, 1)

	s.dispatch(ctx, res.ID)
	row := storedEmail(t, e.durable, res.ID)
	require.Equal(t, models.StatusProcessing, row.ProcessingStatus)
	require.Equal(t, jobs[0].Token, *row.LeaseToken)
}

// TestAcceptAnswersOnlyOnADurableCommit: the email is stored through the
// durable pool, so a success means its commit was flushed; the
// asynchronous pool carries only the queued mark.
func TestAcceptAnswersOnlyOnADurableCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	s := newService(store.New(apptest.ClosedDB(t), e.async), e.queue())
	_, err := s.Accept(context.Background(), testEmail("durable-"+apptest.RandomID()))
	require.ErrorIs(t, err, ErrUnavailable)
	require.Zero(t, countRows(t, e.async))
}

func TestAcceptBadRowFailsAlone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	// A constraint only one row of the batch breaks. The schema's own
	// CHECKs are on columns the webhook does not set, so the test adds one
	// to its private schema.
	require.NoError(t, e.durable.Exec(`ALTER TABLE incoming_emails ADD CONSTRAINT test_no_poison CHECK (subject <> 'poison')`).Error)
	s := e.service(e.queue())
	stored := testEmail("stored-" + apptest.RandomID())
	orig, err := s.Accept(context.Background(), stored)
	require.NoError(t, err)

	emails := make([]Email, 10)
	for i := range emails {
		emails[i] = testEmail(fmt.Sprintf("bad-%s-%d", apptest.RandomID(), i))
	}
	emails[3].Subject = "poison"                // check_violation
	emails[6].BodyText = "NUL \x00 is not text" // invalid byte sequence
	emails[8] = stored                          // a repeat in the same batch
	out := inOneBatch(t, s, emails)

	for i, o := range out {
		switch i {
		case 3, 6:
			require.ErrorIs(t, o.err, ErrUnavailable, "email %d", i)
		case 8:
			require.NoError(t, o.err)
			require.Equal(t, Result{ID: orig.ID, Duplicate: true}, o.res)
		default:
			require.NoError(t, o.err, "email %d", i)
			require.False(t, o.res.Duplicate)
			require.Equal(t, models.StatusQueued, storedEmail(t, e.durable, o.res.ID).ProcessingStatus)
		}
	}
	require.EqualValues(t, 1+7, countRows(t, e.durable))
}

func TestAcceptPostgresUnavailable(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *gorm.DB{"closed pool": apptest.ClosedDB, "unreachable": apptest.UnreachableDB} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			r := apptest.NewRedis(t)
			s := newService(store.New(db, db), queueOn(r.Client, r.Namespace))
			_, err := s.Accept(context.Background(), testEmail("down-"+apptest.RandomID()))
			require.ErrorIs(t, err, ErrUnavailable)

			// Every request of a batch fails, none hangs.
			emails := []Email{testEmail("down-a"), testEmail("down-b"), testEmail("down-c")}
			for i, o := range inOneBatch(t, s, emails) {
				require.ErrorIs(t, o.err, ErrUnavailable, "email %d", i)
			}
			n, err := r.Client.LLen(context.Background(), queueOn(r.Client, r.Namespace).Keys().Ready()).Result()
			require.NoError(t, err)
			require.Zero(t, n, "nothing pushed")
		})
	}
}

func TestAcceptRedisDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	s := e.service(queueOn(down, e.redis.Namespace))

	emails := make([]Email, 5)
	for i := range emails {
		emails[i] = testEmail(fmt.Sprintf("noredis-%s-%d", apptest.RandomID(), i))
	}
	out := inOneBatch(t, s, emails)
	for i, o := range out {
		require.NoError(t, o.err, "email %d", i)
		row := storedEmail(t, e.durable, o.res.ID)
		require.Equal(t, models.StatusReceived, row.ProcessingStatus, "left for the reaper")
		require.Nil(t, row.LastDispatchedAt)
	}
	// A repeat is answered from PostgreSQL as well.
	res, err := s.Accept(context.Background(), emails[0])
	require.NoError(t, err)
	require.Equal(t, Result{ID: out[0].res.ID, Duplicate: true}, res)
}

func TestAcceptContextEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s := e.service(e.queue())

	// Ended before the call: nothing is queued or stored.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Accept(ctx, testEmail("early-"+apptest.RandomID()))
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)

	// Ended while waiting behind busy flushers: the call returns at once,
	// its request leaves the queue, and the others are stored.
	release := hooks(s).Hold()
	gone := testEmail("gone-" + apptest.RandomID())
	stay := []Email{testEmail("stay-a-" + apptest.RandomID()), testEmail("stay-b-" + apptest.RandomID())}
	ctx, cancel = context.WithCancel(context.Background())
	var (
		wg     sync.WaitGroup
		goneTo = make(chan error, 1)
		stayed []outcome
	)
	wg.Go(func() { _, err := s.Accept(ctx, gone); goneTo <- err })
	awaitQueued(t, s, 1)
	wg.Go(func() { stayed = acceptAll(context.Background(), s, stay) })
	awaitQueued(t, s, 3)
	cancel()
	err = <-goneTo
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
	awaitQueued(t, s, 2)
	release()
	wg.Wait()
	for _, o := range stayed {
		require.NoError(t, o.err)
		require.False(t, o.res.Duplicate)
	}
	require.EqualValues(t, 2, countRows(t, e.durable))

	// Zendesk's retry of the abandoned delivery is stored then.
	res, err := s.Accept(context.Background(), gone)
	require.NoError(t, err)
	require.False(t, res.Duplicate)
	require.EqualValues(t, 3, countRows(t, e.durable))
	require.True(t, hooks(s).Idle(), "no flusher role left behind")
}

// TestAcceptDeadlinesUnderLoad ends some calls' contexts at random moments:
// every call that succeeds has its row, and a redelivery of every email,
// abandoned or not, ends with exactly one row per email.
func TestAcceptDeadlinesUnderLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 8)
	s := e.service(e.queue())
	emails := make([]Email, 200)
	for i := range emails {
		emails[i] = testEmail(fmt.Sprintf("load-%s-%d", apptest.RandomID(), i))
	}
	out := make([]outcome, len(emails))
	var wg sync.WaitGroup
	for i, in := range emails {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			defer cancel()
			res, err := s.Accept(ctx, in)
			out[i] = outcome{res, err}
		})
	}
	wg.Wait()
	for i, o := range out {
		if o.err != nil {
			require.ErrorIs(t, o.err, ErrUnavailable)
			require.True(t, errors.Is(o.err, context.DeadlineExceeded), "email %d: %v", i, o.err)
			continue
		}
		require.Equal(t, emails[i].DedupKey, storedEmail(t, e.durable, o.res.ID).DedupKey)
	}
	for i, o := range acceptAll(context.Background(), s, emails) {
		require.NoError(t, o.err)
		if out[i].err == nil {
			require.Equal(t, Result{ID: out[i].res.ID, Duplicate: true}, o.res)
		}
	}
	require.EqualValues(t, len(emails), countRows(t, e.durable))
	require.True(t, hooks(s).Idle())
}

// awaitQueued waits until n calls are queued in s's batcher.
func awaitQueued(t *testing.T, s *Service, n int) {
	t.Helper()
	apptest.Eventually(t, 10*time.Second, func() bool { return hooks(s).Queued() == n }, "%d requests queued", n)
}

// unusableBody is a signed delivery's body whose content intake cannot
// use: no ticket_id, a bad from_email, a subject of the wrong type, and
// bytes no text column could hold (invalid UTF-8, an escaped NUL), which
// only raw_payload keeps exactly.
func unusableBody(key string) []byte {
	return []byte("{\"key\":\"" + key + "\",\"from_email\":\"nope\",\"subject\":7,\"from_name\":\"N\\u0000\xff\",\"body_text\":\"x\"}")
}

// alerts returns the failure_alert rows of the email id.
func alerts(t *testing.T, db *gorm.DB, id uint64) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	require.NoError(t, db.Where("aggregate_type = ? AND aggregate_id = ?", models.OutboxFailureAlert, id).Find(&rows).Error)
	return rows
}

// TestAcceptStoresUnusableFailed: an email with Problems is stored failed
// at once, durably, with its raw payload byte for byte, its warnings, a
// processing error naming the fields and exactly one failure alert; it is
// not queued. Zendesk's retry of the same body is a duplicate and alerts
// nobody again.
func TestAcceptStoresUnusableFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	s := e.service(e.queue())
	raw := unusableBody(apptest.RandomID())
	in, err := Decode(raw, time.Now())
	require.NoError(t, err)
	require.Equal(t, []string{"from_email", "subject", "ticket_id"}, slices.Sorted(maps.Keys(in.Problems)))

	res, err := s.Accept(context.Background(), in)
	require.NoError(t, err)
	require.True(t, res.Failed)
	require.False(t, res.Duplicate)
	row := storedEmail(t, e.durable, res.ID)
	require.Equal(t, models.StatusFailed, row.ProcessingStatus)
	require.Equal(t, raw, row.RawPayload)
	require.JSONEq(t, `["from_name contained NUL characters or invalid UTF-8 (removed)"]`, string(row.IntakeWarnings))
	want := "unusable delivery: from_email: must be a valid e-mail address; subject: must be a string; ticket_id: required"
	require.NotNil(t, row.ProcessingError)
	require.Equal(t, want, *row.ProcessingError)
	require.NotNil(t, row.CompletedAt)
	require.Empty(t, row.ZendeskTicketID, "no usable ticket: empty, not invented")
	require.Empty(t, row.FromEmail)
	require.Equal(t, "N\uFFFD", row.FromName, "usable fields are kept")
	require.Equal(t, "x", row.RawBodyText)
	require.WithinDuration(t, time.Now(), row.ReceivedAt, time.Minute, "no received_at: the time of receipt")
	require.Empty(t, readyIDs(t, e), "nothing queued")

	sent := alerts(t, e.durable, res.ID)
	require.Len(t, sent, 1)
	require.Equal(t, models.OutboxKey(models.OutboxFailureAlert, res.ID), sent[0].IdempotencyKey)
	var p models.FailureAlertPayload
	require.NoError(t, json.Unmarshal(sent[0].Payload, &p))
	require.Equal(t, res.ID, p.EmailID)
	require.Equal(t, want, p.Error)

	// Zendesk's retry of the same body, also several at once: duplicates.
	again, err := Decode(raw, time.Now())
	require.NoError(t, err)
	for _, o := range acceptAll(context.Background(), s, []Email{again, again, again, again}) {
		require.NoError(t, o.err)
		require.Equal(t, Result{ID: res.ID, Duplicate: true}, o.res)
	}
	require.EqualValues(t, 1, countRows(t, e.durable))
	require.Len(t, alerts(t, e.durable, res.ID), 1, "one alert, whatever the repeats")
}

// TestAcceptUnusableConcurrently: identical unusable deliveries racing
// each other store one row with one alert.
func TestAcceptUnusableConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 8)
	s := e.service(e.queue())
	in, err := Decode(unusableBody(apptest.RandomID()), time.Now())
	require.NoError(t, err)
	emails := make([]Email, 12)
	for i := range emails {
		emails[i] = in
	}
	var id uint64
	failed := 0
	for _, o := range acceptAll(context.Background(), s, emails) {
		require.NoError(t, o.err)
		if id == 0 {
			id = o.res.ID
		}
		require.Equal(t, id, o.res.ID)
		if o.res.Failed {
			failed++
		}
	}
	require.Equal(t, 1, failed, "one call stored it, the others got duplicates")
	require.EqualValues(t, 1, countRows(t, e.durable))
	require.Len(t, alerts(t, e.durable, id), 1)
}

// TestAcceptUnusablePostgresDown: an unusable email that cannot be stored
// is answered unavailable, so Zendesk delivers it again.
func TestAcceptUnusablePostgresDown(t *testing.T) {
	t.Parallel()
	db := apptest.ClosedDB(t)
	r := apptest.NewRedis(t)
	s := newService(store.New(db, db), queueOn(r.Client, r.Namespace))
	in, err := Decode(unusableBody(apptest.RandomID()), time.Now())
	require.NoError(t, err)
	_, err = s.Accept(context.Background(), in)
	require.ErrorIs(t, err, ErrUnavailable)
}
