package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// The SQL expressions below are those of the expression indexes created by
// migrations/202611290006_inquiry_match_indexes.go and
// migrations/202611290008_inquiry_sender_recency_indexes.go. They must stay
// identical character for character, or the planner falls back to scanning
// the table (TestCandidateQueryUsesIndexes guards this). The matcher
// normalises numbers the way akzKeyExpr and refKeyExpr do.
const (
	akzKeyExpr    = `lower(regexp_replace(client_aktenzeichen, '[[:space:]./_-]', '', 'g'))`
	refKeyExpr    = `lower(regexp_replace(reference_number, '[[:space:]./_-]', '', 'g'))`
	emailKeyExpr  = `lower(btrim(creditor_email))`
	domainKeyExpr = `lower(split_part(btrim(creditor_email), '@', 2))`
)

// CandidatesPerGroup bounds the inquiries each key group reads: a reply
// whose sender names more (a huge creditor's shared domain) is scored on
// the most recent of those.
const CandidatesPerGroup = 200

// CandidateKeys is what the matcher looks a reply's inquiries up by.
type CandidateKeys struct {
	TicketID string
	// Numbers are the reply's case and reference numbers, normalised as
	// akzKeyExpr does (lowercase, without blanks, '/', '_', '-' or '.');
	// each is looked up as a case number and as a reference, since
	// extractors do not always tell the firm's number from the creditor's.
	Numbers []string
	// Sender is the lowercased sender address; Domains are its domain and
	// parent domains, none for freemail providers.
	Sender  string
	Domains []string
	// Since and Until bound the inquiries' sent_at; undated inquiries
	// always qualify.
	Since, Until time.Time
}

// inquiryColumns are the columns scoring reads; bodies stay in the database.
// debt_amount comes as float8: pgx turns a numeric into a float64 through
// its decimal text. response_received tells the review guard whether the
// inquiry can have a debt update yet (every debt_updates row for it sets
// the flag in the same statement), so a first answer needs no extra read.
const inquiryColumns = "id, client_name, client_aktenzeichen, creditor_name, creditor_email, " +
	"reference_number, zendesk_ticket_id, sent_at, debt_amount::float8, response_received"

// Key groups: the reply's own numbers (ticket id, case and reference
// numbers), which name few inquiries, and its sender (address, domain),
// which for a large creditor names thousands. Each group keeps its own
// CandidatesPerGroup most recent rows, so a busy sender cannot crowd out the
// inquiry a number points at.
const (
	groupNumbers = iota
	groupSender
)

// lookup is one indexed lookup of the candidate query.
type lookup struct {
	group int
	// expr is a key expression; the lookup wants rows whose expr equals
	// one of values.
	expr   string
	values []string
	// byRecency marks a key whose index continues with (sent_at DESC NULLS
	// LAST, id DESC): the index then yields the rows in candidate order.
	byRecency bool
}

// lookupsFor lists the lookups for k. Numbers are few and rarely shared,
// so each kind is one lookup whose few rows are sorted. A sender address
// or domain can name thousands of inquiries, so each gets its own lookup,
// read in index order and stopped after CandidatesPerGroup rows.
func lookupsFor(k CandidateKeys) []lookup {
	var ls []lookup
	if k.TicketID != "" {
		ls = append(ls, lookup{group: groupNumbers, expr: "zendesk_ticket_id", values: []string{k.TicketID}})
	}
	if len(k.Numbers) > 0 {
		ls = append(ls,
			lookup{group: groupNumbers, expr: akzKeyExpr, values: k.Numbers},
			lookup{group: groupNumbers, expr: refKeyExpr, values: k.Numbers})
	}
	if k.Sender != "" && !domainCoversSender(k) {
		ls = append(ls, lookup{group: groupSender, expr: emailKeyExpr, values: []string{k.Sender}, byRecency: true})
	}
	for _, d := range k.Domains {
		ls = append(ls, lookup{group: groupSender, expr: domainKeyExpr, values: []string{d}, byRecency: true})
	}
	return ls
}

// domainCoversSender reports whether the lookup of the sender's domain finds
// every inquiry the sender's address would: the address lookup would then
// only repeat rows. It does not when the domain is freemail (not looked up)
// or when the address is unusual (a second '@', a trailing dot).
func domainCoversSender(k CandidateKeys) bool {
	_, domain, ok := strings.Cut(k.Sender, "@")
	return ok && len(k.Domains) > 0 && k.Domains[0] == domain && !strings.Contains(domain, "@")
}

// candidateSQL is one UNION ALL of the lookups, each with its own recency
// order and LIMIT, and its arguments. Ordering each small branch, rather
// than the OR of all keys, keeps the planner on the key indexes: ordering
// the OR tempts it to walk every inquiry by sent_at and filter. A byRecency
// lookup is split in its dated rows, an index range that starts at the
// newest acceptable inquiry and stops after CandidatesPerGroup, and its
// undated rows, which come last in candidate order; one branch with
// "sent_at IS NULL OR …" would have to filter its way past inquiries newer
// than the reply.
//
// The statement is prepared once per connection and run with a generic
// plan: it reads on the async pool (OpenAsyncDB), whose sessions plan only
// generically and never use bitmap scans. Planning it for every reply's
// values cost PostgreSQL more than running it. Without values the planner
// guesses a sender range holds two rows; allowed a bitmap, it would read all
// of a big creditor's inquiries and sort them, where the ordered index scan
// stops after CandidatesPerGroup (TestCandidateQueryUsesIndexes).
func candidateSQL(ls []lookup, since, until time.Time) (string, []any) {
	var branches []string
	var args []any
	param := func(v any, typ string) string {
		args = append(args, v)
		return fmt.Sprintf("$%d::%s", len(args), typ)
	}
	branch := func(l lookup, recent string) {
		var key string
		if len(l.values) == 1 {
			key = l.expr + " = " + param(l.values[0], "text")
		} else {
			key = l.expr + " = ANY(" + param(l.values, "text[]") + ")"
		}
		branches = append(branches, fmt.Sprintf("(SELECT %d AS key_group, %s FROM %s WHERE %s AND %s"+
			" ORDER BY sent_at DESC NULLS LAST, id DESC LIMIT %d)",
			l.group, inquiryColumns, models.CreditorInquiry{}.TableName(), key, recent, CandidatesPerGroup))
	}
	// One pair of parameters for the date range every branch shares.
	dated := "sent_at BETWEEN " + param(since, "timestamptz") + " AND " + param(until, "timestamptz")
	for _, l := range ls {
		if l.byRecency {
			branch(l, dated)
			branch(l, "sent_at IS NULL")
			continue
		}
		branch(l, "(sent_at IS NULL OR "+dated+")")
	}
	return strings.Join(branches, "\nUNION ALL\n"), args
}

// candidateRow is an inquiry and the key group that found it.
type candidateRow struct {
	group int
	inq   models.CreditorInquiry
}

// InquiryCandidates reads the inquiries a reply may answer, in one round
// trip on the async pool, and keeps per key group the CandidatesPerGroup
// most recent (models.CompareInquiryRecency); each inquiry appears once. No
// keys means no candidates, never a scan of names across the table.
func (s *Store) InquiryCandidates(ctx context.Context, k CandidateKeys) ([]models.CreditorInquiry, error) {
	ls := lookupsFor(k)
	if len(ls) == 0 {
		return nil, nil
	}
	query, args := candidateSQL(ls, k.Since, k.Until)
	rows, err := s.readCandidates(ctx, query, args)
	if err != nil {
		return nil, fmt.Errorf("load inquiry candidates: %w", err)
	}
	return mostRecentPerGroup(rows), nil
}

// readCandidates runs the query on one of the async pool's connections
// through pgx itself and scans rows into plain values: database/sql's
// conversions of a hundred rows per reply, and reflection-based scanning
// before them, cost more CPU than the rest of the matcher (BenchmarkMatch in
// services/matcher: 7,115 → 4,692 allocations per reply, bench/README.md).
func (s *Store) readCandidates(ctx context.Context, query string, args []any) ([]candidateRow, error) {
	sqlDB, err := s.async.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var out []candidateRow
	err = conn.Raw(func(driverConn any) error {
		pgxConn, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("candidate query needs a pgx connection, not %T", driverConn)
		}
		rows, err := pgxConn.Conn().Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([]candidateRow, 0, CandidatesPerGroup)
		for rows.Next() {
			var r candidateRow
			if err := rows.Scan(&r.group, &r.inq.ID, &r.inq.ClientName, &r.inq.ClientAktenzeichen,
				&r.inq.CreditorName, &r.inq.CreditorEmail, &r.inq.ReferenceNumber,
				&r.inq.ZendeskTicketID, &r.inq.SentAt, &r.inq.DebtAmount, &r.inq.ResponseReceived); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// mostRecentPerGroup merges the branches: within a group, an inquiry found
// by several lookups counts once and only the CandidatesPerGroup most recent
// survive (the branches each kept that many, so these are the group's
// most recent overall); across groups, each inquiry appears once.
func mostRecentPerGroup(rows []candidateRow) []models.CreditorInquiry {
	slices.SortFunc(rows, func(a, b candidateRow) int {
		if c := cmp.Compare(a.group, b.group); c != 0 {
			return c
		}
		return models.CompareInquiryRecency(&a.inq, &b.inq)
	})
	out := make([]models.CreditorInquiry, 0, len(rows))
	seen := make(map[uint64]bool, len(rows))
	kept := 0
	for i, r := range rows {
		if i > 0 && r.group != rows[i-1].group {
			kept = 0
		}
		if i > 0 && r.group == rows[i-1].group && r.inq.ID == rows[i-1].inq.ID {
			continue // the same inquiry found by two lookups of one group
		}
		if kept == CandidatesPerGroup {
			continue
		}
		kept++
		if !seen[r.inq.ID] {
			seen[r.inq.ID] = true
			out = append(out, r.inq)
		}
	}
	return out
}
