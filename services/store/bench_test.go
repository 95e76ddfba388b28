package store_test

import (
	"context"
	"testing"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// BenchmarkFinish writes the pipeline's heaviest per-email statement: an
// auto-matched completion with its debt update, two outbox rows, the
// inquiry's answered flag and the attempt's end, through GORM (gorm, as
// Finish runs it) and with the same built statement run straight on the
// connection pool (pool). The allocations are the service's side of the
// cost; PostgreSQL's is the same for both (finish.go has the figures).
// Short runs on the shared machine:
// go test -run '^$' -bench Finish -benchtime 2000x ./services/store
func BenchmarkFinish(b *testing.B) {
	db := apptest.NewDB(b)
	st := db.Store(b)
	var inquiry uint64
	if err := db.Raw(`INSERT INTO creditor_inquiries (client_name, creditor_name) VALUES ('Erika', 'Stadtwerke')
		RETURNING id`).Scan(&inquiry).Error; err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, v := range []struct {
		name   string
		finish func(context.Context, *models.Job, store.Final) error
	}{{"gorm", st.Finish}, {"pool", st.FinishDirect}} {
		b.Run(v.name, func(b *testing.B) {
			jobs := matchingJobs(b, db, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				job := jobs[i]
				rec := &models.DebtRecord{
					Update: models.DebtUpdate{IncomingEmailID: job.Email.ID, CreditorInquiryID: &inquiry, ClientName: "Erika",
						CreditorName: "Stadtwerke", CreditorEmail: "a@b.de", Amount: 12.5, ReferenceNumbers: models.JSON(`["V-1"]`),
						MatchStatus: models.MatchAuto, MatchConfidence: 0.9},
					Notification: models.DebtNotificationPayload{EmailID: job.Email.ID, NewAmount: 12.5, ReferenceNumbers: []string{"V-1"}},
					Sync:         &models.DebtSyncPayload{EmailID: job.Email.ID, Amount: 12.5, ReferenceNumbers: []string{"V-1"}},
					Answered:     &inquiry,
				}
				m := store.Match{Status: models.MatchAuto, InquiryID: &inquiry, Confidence: 0.9, Details: models.JSON(`{"reason":"x"}`)}
				if err := v.finish(ctx, job, store.Completed(m, models.SyncPending, rec)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// matchingJobs stores n emails in matching, each under a lease with its
// open attempt, and returns their jobs.
func matchingJobs(b *testing.B, db *apptest.DB, n int) []*models.Job {
	b.Helper()
	var rows []models.IncomingEmail
	err := db.Raw(`WITH e AS (
  INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, received_at, processing_status, lease_token)
  SELECT 'b', 'bench-' || g || '-' || ?, 'a@b.de', now(), 'matching', md5(random()::text) FROM generate_series(1, ?) g
  RETURNING *), a AS (
  INSERT INTO email_attempts (incoming_email_id, attempt, worker, lease_token, started_at)
  SELECT id, 1, 'w', lease_token, now() FROM e)
SELECT * FROM e ORDER BY id`, apptest.RandomID(), n).Find(&rows).Error
	if err != nil {
		b.Fatal(err)
	}
	jobs := make([]*models.Job, len(rows))
	for i, e := range rows {
		jobs[i] = &models.Job{Email: e, Token: *e.LeaseToken, Attempt: 1, Worker: "w"}
	}
	return jobs
}
