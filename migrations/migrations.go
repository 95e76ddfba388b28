// Package migrations holds the schema as gormigrate migrations, one per file.
// A migration never changes once it has landed; add a new one instead.
package migrations

import (
	"context"
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// all lists every migration in order; each file appends nothing itself so
// the order is visible in one place.
func all() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		incomingEmails(),
		emailAttempts(),
		creditorInquiries(),
		debtUpdates(),
		outboxMessages(),
		inquiryMatchIndexes(),
		syncDriftReports(),
		inquirySenderRecencyIndexes(),
		incomingEmailsLZ4(),
		incomingEmailsToastTarget(),
		incomingEmailsFewerIndexes(),
		emailAttachments(),
		readingAttachmentsStatus(),
		incomingEmailsRawPayload(),
		adminSessions(),
		outboxReviewBudgetKinds(),
		emailAttemptStages(),
		emailAttemptsLLMUsage(),
		llmTokenDays(),
		attemptRateLimited(),
		reviewQueue(),
	}
}

// Run applies every pending migration under a Postgres advisory lock, so
// several processes starting at once migrate one after another. The lock is
// per schema, so isolated test schemas do not wait for each other.
func Run(ctx context.Context, db *gorm.DB) error {
	return db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		const key = "hashtext(current_schema() || ':creditor-matcher-migrations')"
		if err := conn.Exec("SELECT pg_advisory_lock(" + key + ")").Error; err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		// Unlock even when ctx is cancelled: the pooled session would keep the lock.
		defer conn.WithContext(context.WithoutCancel(ctx)).Exec("SELECT pg_advisory_unlock(" + key + ")")
		m := gormigrate.New(conn, &gormigrate.Options{
			TableName:      "schema_migrations",
			IDColumnName:   "id",
			IDColumnSize:   255,
			UseTransaction: true,
		}, all())
		if err := m.Migrate(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// sqlMigration builds a migration from plain SQL statements.
func sqlMigration(id string, up, down []string) *gormigrate.Migration {
	exec := func(stmts []string) gormigrate.MigrateFunc {
		return func(tx *gorm.DB) error {
			for _, s := range stmts {
				if err := tx.Exec(s).Error; err != nil {
					return fmt.Errorf("%s: %w", id, err)
				}
			}
			return nil
		}
	}
	return &gormigrate.Migration{ID: id, Migrate: exec(up), Rollback: gormigrate.RollbackFunc(exec(down))}
}
