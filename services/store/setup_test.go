package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// fixture is one test's migrated schema and the store on it.
type fixture struct {
	ctx context.Context
	db  *apptest.DB
	st  *store.Store
}

func setup(t *testing.T) fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	db := apptest.NewDB(t)
	return fixture{ctx: ctx, db: db, st: db.Store(t)}
}

// insertEmail stores a minimal email in status, with lease token when not empty.
func insertEmail(t *testing.T, db *gorm.DB, status models.Status, token string) uint64 {
	t.Helper()
	var tok *string
	if token != "" {
		tok = &token
	}
	var id uint64
	require.NoError(t, db.Raw(`INSERT INTO incoming_emails
		(zendesk_ticket_id, dedup_key, from_email, received_at, processing_status, lease_token)
		VALUES ('42', ?, 'inkasso@example.de', now(), ?, ?) RETURNING id`,
		"k-"+models.NewToken(), status, tok).Scan(&id).Error)
	require.NotZero(t, id)
	return id
}

func (f fixture) insert(t *testing.T, status models.Status, token string) uint64 {
	t.Helper()
	return insertEmail(t, f.db.DB, status, token)
}

// job stores an email in status under token, with its open attempt, and
// returns the job as a worker holds it.
func (f fixture) job(t *testing.T, status models.Status, token string) *models.Job {
	t.Helper()
	id := f.insert(t, status, token)
	require.NoError(t, f.db.Exec(`INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
		VALUES (?, 1, 'w', ?, now())`, id, token).Error)
	return &models.Job{Email: models.IncomingEmail{ID: id, ProcessingStatus: status, FromEmail: "inkasso@example.de"},
		Token: token, Attempt: 1, Worker: "w"}
}

func (f fixture) email(t *testing.T, id uint64) models.IncomingEmail {
	t.Helper()
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, id).Error)
	return e
}

func (f fixture) attempts(t *testing.T, id uint64) []models.EmailAttempt {
	t.Helper()
	var a []models.EmailAttempt
	require.NoError(t, f.db.Where("incoming_email_id = ?", id).Order("id").Find(&a).Error)
	return a
}

func (f fixture) outboxCount(t *testing.T, id uint64, kind string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, f.db.Model(&models.OutboxMessage{}).Where("aggregate_id = ? AND aggregate_type = ?", id, kind).
		Count(&n).Error)
	return n
}

// behindLock runs first in a transaction, starts second while that
// transaction holds its row locks, commits once second waits for one of
// them, and returns when second is done.
func behindLock(t *testing.T, db *gorm.DB, first func(tx *gorm.DB), second func()) {
	t.Helper()
	lock := apptest.BeginLock(t, db)
	first(lock.Tx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		second()
	}()
	lock.WaitBlocking(t, db)
	lock.Commit(t)
	<-done
}
