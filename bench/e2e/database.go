package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
)

// seedInquiries writes the corpus's cases as the inquiries replies answer,
// so the matcher does its real work (candidates, scoring, debt_updates).
func seedInquiries(ctx context.Context, conn *pgx.Conn, cases []webhooks.Case) error {
	cols := make([][]string, 8)
	for _, c := range cases {
		row := []string{c.ClientName(), c.Aktenzeichen, c.Creditor.Name, c.Creditor.Email,
			strconv.FormatFloat(float64(c.AmountCents)/100, 'f', 2, 64), c.Reference, c.Ticket, c.SentAt.Format(time.RFC3339)}
		for i, v := range row {
			cols[i] = append(cols[i], v)
		}
	}
	_, err := conn.Exec(ctx, `
INSERT INTO creditor_inquiries (client_name, client_aktenzeichen, creditor_name, creditor_email,
  debt_amount, reference_number, zendesk_ticket_id, sent_at, status)
SELECT a, b, c, d, e::numeric, f, g, h::timestamptz, 'sent'
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS t(a, b, c, d, e, f, g, h)`, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7])
	if err != nil {
		return fmt.Errorf("seed inquiries: %w", err)
	}
	// Without statistics the planner scans every inquiry per reply instead of
	// using the match indexes; a live table has them from autovacuum.
	if _, err := conn.Exec(ctx, "ANALYZE creditor_inquiries"); err != nil {
		return fmt.Errorf("analyze inquiries: %w", err)
	}
	return nil
}

// pending counts this run's emails not yet in a terminal status.
func pending(ctx context.Context, conn *pgx.Conn, pattern string) (int, error) {
	var n int
	err := conn.QueryRow(ctx, `
SELECT count(*) FROM incoming_emails
WHERE processing_status NOT IN ('completed','not_creditor_reply','failed')
  AND zendesk_webhook_id LIKE $1`, pattern).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pending: %w", err)
	}
	return n, nil
}

// waitTerminal polls until no email of the run is pending, or the bound
// passes. Once a second: each count reads every pending row, and the
// PostgreSQL it takes is the service's under measurement (the run's span
// comes from the rows' timestamps, not from when this notices the end).
func waitTerminal(ctx context.Context, conn *pgx.Conn, pattern string, bound time.Duration) (int, error) {
	deadline := time.Now().Add(bound)
	for {
		n, err := pending(ctx, conn, pattern)
		if err != nil {
			return -1, err
		}
		if n == 0 {
			return 0, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("%d emails still not terminal after %s", n, bound)
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// stats are the run's figures, computed by PostgreSQL from the rows' own timestamps.
type stats struct {
	Total, Completed, NotReply, Failed, AutoMatched, DebtUpdates int
	Retries, Attempts                                            int
	Span                                                         float64    // seconds, first created_at → last completed_at
	Wait, Latency, Work                                          [4]float64 // p50 p90 p99 max, seconds
}

const statsSQL = `
WITH e AS (
  SELECT * FROM incoming_emails WHERE zendesk_webhook_id LIKE $1
)
SELECT count(*),
  count(*) FILTER (WHERE processing_status = 'completed'),
  count(*) FILTER (WHERE processing_status = 'not_creditor_reply'),
  count(*) FILTER (WHERE processing_status = 'failed'),
  count(*) FILTER (WHERE match_status = 'auto_matched'),
  (SELECT count(*) FROM debt_updates d JOIN e ON e.id = d.incoming_email_id),
  coalesce(sum(retry_count), 0), coalesce(sum(attempt), 0),
  coalesce(extract(epoch FROM max(completed_at) - min(created_at))::float8, 0),
  percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)::float8),
  max(extract(epoch FROM started_at - created_at))::float8,
  percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at)::float8),
  max(extract(epoch FROM completed_at - created_at))::float8,
  percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)::float8),
  max(extract(epoch FROM completed_at - started_at))::float8
FROM e`

// terminal is how many of the run's emails reached a terminal status.
func (s stats) terminal() int { return s.Completed + s.NotReply + s.Failed }

func readStats(ctx context.Context, conn *pgx.Conn, pattern string) (stats, error) {
	var s stats
	var wait, total, work []float64
	var wmax, tmax, kmax *float64
	err := conn.QueryRow(ctx, statsSQL, pattern).Scan(&s.Total, &s.Completed, &s.NotReply, &s.Failed,
		&s.AutoMatched, &s.DebtUpdates, &s.Retries, &s.Attempts, &s.Span, &wait, &wmax, &total, &tmax, &work, &kmax)
	if err != nil {
		return s, fmt.Errorf("read stats: %w", err)
	}
	fill := func(dst *[4]float64, ps []float64, mx *float64) {
		copy(dst[:3], ps)
		if mx != nil {
			dst[3] = *mx
		}
	}
	fill(&s.Wait, wait, wmax)
	fill(&s.Latency, total, tmax)
	fill(&s.Work, work, kmax)
	return s, nil
}

// pgCounters are PostgreSQL's own counters for the run's database; read
// after the service stopped, as backends flush them when they exit.
type pgCounters struct {
	Commits, Rollbacks, Returned, Fetched, Inserted, Updated, HotUpdated, SeqScans, SeqRead, IdxScans int64
}

func readPGCounters(ctx context.Context, conn *pgx.Conn) (pgCounters, error) {
	var c pgCounters
	err := conn.QueryRow(ctx, `
SELECT d.xact_commit, d.xact_rollback, d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated,
  (SELECT coalesce(sum(n_tup_hot_upd), 0) FROM pg_stat_user_tables),
  (SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables),
  (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables),
  (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_tables)
FROM pg_stat_database d WHERE d.datname = current_database()`).Scan(&c.Commits, &c.Rollbacks, &c.Returned,
		&c.Fetched, &c.Inserted, &c.Updated, &c.HotUpdated, &c.SeqScans, &c.SeqRead, &c.IdxScans)
	if err != nil {
		return c, fmt.Errorf("read pg counters: %w", err)
	}
	return c, nil
}

func (c pgCounters) minus(o pgCounters) pgCounters {
	return pgCounters{c.Commits - o.Commits, c.Rollbacks - o.Rollbacks, c.Returned - o.Returned, c.Fetched - o.Fetched,
		c.Inserted - o.Inserted, c.Updated - o.Updated, c.HotUpdated - o.HotUpdated, c.SeqScans - o.SeqScans,
		c.SeqRead - o.SeqRead, c.IdxScans - o.IdxScans}
}
