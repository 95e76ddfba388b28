package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// EmailStats are the email gauges: how many emails are in each state, and
// how long the oldest claimable one has waited.
type EmailStats struct {
	ByStatus map[models.Status]int64
	// OldestWaitingSeconds is the age of the oldest received or queued
	// email by received_at; 0 when none waits.
	OldestWaitingSeconds float64
}

// ReadEmailStats reads the email gauges with one grouped query, which the
// (processing_status, received_at) index answers.
func (s *Store) ReadEmailStats(ctx context.Context) (EmailStats, error) {
	var rows []struct {
		ProcessingStatus models.Status
		N                int64
		Age              float64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT processing_status, count(*) AS n,
		COALESCE(EXTRACT(EPOCH FROM now() - min(received_at)), 0)::float8 AS age
		FROM incoming_emails GROUP BY processing_status`).Find(&rows).Error
	if err != nil {
		return EmailStats{}, fmt.Errorf("count emails: %w", err)
	}
	st := EmailStats{ByStatus: make(map[models.Status]int64, len(rows))}
	for _, r := range rows {
		st.ByStatus[r.ProcessingStatus] = r.N
		if slices.Contains(models.Claimable(), r.ProcessingStatus) {
			st.OldestWaitingSeconds = max(st.OldestWaitingSeconds, r.Age)
		}
	}
	return st, nil
}

// OutboxCounts are one outbox kind's gauges.
type OutboxCounts struct {
	Backlog int64 // not yet processed
	Failed  int64 // given up on
}

// ReadOutboxStats reads the outbox gauges by kind with one grouped query.
func (s *Store) ReadOutboxStats(ctx context.Context) (map[string]OutboxCounts, error) {
	var rows []struct {
		AggregateType string
		Backlog       int64
		Failed        int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT aggregate_type,
		count(*) FILTER (WHERE processed_at IS NULL) AS backlog,
		count(*) FILTER (WHERE outcome = ?) AS failed
		FROM outbox_messages GROUP BY aggregate_type`, models.DeliveryFailed).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	out := make(map[string]OutboxCounts, len(rows))
	for _, r := range rows {
		out[r.AggregateType] = OutboxCounts{Backlog: r.Backlog, Failed: r.Failed}
	}
	return out, nil
}
