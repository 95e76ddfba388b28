package store_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// TestCandidateQueryUsesIndexes proves the query's key expressions are those
// of the migrations' indexes: on 20,000 inquiries whose creditor domains are
// skewed (one domain holds a quarter of them), every branch is answered by
// its key index, never by walking inquiries in sent_at order or reading the
// table, and a reply reads a few hundred buffers at most even when its
// sender names thousands of inquiries.
func TestCandidateQueryUsesIndexes(t *testing.T) {
	t.Parallel()
	db := apptest.SeedInquiries(t, 20000)
	var hot models.CreditorInquiry
	require.NoError(t, db.Where("lower(btrim(creditor_email)) = ?", "forderungen@creditor0.de").
		Order("id").First(&hot).Error)
	// The keys the matcher makes of a reply to hot from a subdomain of its
	// creditor: ticket, case number, reference, domain and parent domain;
	// the address lookup is left out, as its domain's finds all it would.
	in := store.CandidateKeys{
		TicketID: *hot.ZendeskTicketID,
		Numbers:  []string{normalized(*hot.ClientAktenzeichen), normalized(*hot.ReferenceNumber)},
		Sender:   "mahnung@post.creditor0.de",
		Domains:  []string{"post.creditor0.de", "creditor0.de"},
		Since:    hot.SentAt.Add(-2 * 365 * 24 * time.Hour), Until: hot.SentAt.Add(7 * 24 * time.Hour),
	}
	lines := explainCandidates(t, db, in, 5)
	freemail := in // an address without a domain lookup
	freemail.Sender, freemail.Domains = "forderungen.creditor0@gmx.de", nil
	freemailLines := explainCandidates(t, db, freemail, 4)

	plan := strings.Join(lines, "\n") + "\n" + strings.Join(freemailLines, "\n")
	require.NotContains(t, plan, "Seq Scan", plan)
	requireNoRecencyWalk(t, lines)
	requireNoRecencyWalk(t, freemailLines)
	for _, idx := range []string{
		"creditor_inquiries_ticket_idx",
		"creditor_inquiries_aktenzeichen_norm_idx",
		"creditor_inquiries_reference_norm_idx",
		"creditor_inquiries_email_recent_idx",
		"creditor_inquiries_domain_recent_idx",
	} {
		require.Contains(t, plan, idx, plan)
	}
	// Each number branch reads a handful of buffers; the hot domain branch
	// reads its 200 most recent rows in index order (about one page each)
	// and stops, where sorting all ~5,000 of its rows reads every page.
	require.Less(t, topBuffers(t, lines), 300, plan)
	require.NotContains(t, plan, "top-N heapsort", plan)
}

// normalized is a number as the matcher looks it up.
func normalized(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "/", "", "_", "", "-", "", ".", "").Replace(s))
}

// explainCandidates returns the executed plan of in's candidate query as
// the service runs it: prepared on a session of the async pool, whose
// settings make it a generic plan.
func explainCandidates(t *testing.T, db *apptest.DB, k store.CandidateKeys, lookups int) []string {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := db.AsyncPool(t, 1).DB()
	require.NoError(t, err)
	conn, err := sqlDB.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	query, args, n := store.CandidateSQL(k)
	require.Equal(t, lookups, n)
	_, err = conn.ExecContext(ctx, "PREPARE candidates AS "+query)
	require.NoError(t, err)
	params := make([]string, len(args))
	for i, a := range args {
		params[i] = sqlLiteral(t, a)
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) EXECUTE candidates("+strings.Join(params, ", ")+")")
	require.NoError(t, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		require.NoError(t, rows.Scan(&l))
		lines = append(lines, l)
	}
	require.NoError(t, rows.Err())
	return lines
}

// sqlLiteral writes a candidate query argument as SQL: EXECUTE takes its
// parameters as expressions, not as bound values.
func sqlLiteral(t *testing.T, v any) string {
	t.Helper()
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch v := v.(type) {
	case string:
		return quote(v)
	case []string:
		quoted := make([]string, len(v))
		for i, s := range v {
			quoted[i] = quote(s)
		}
		return "ARRAY[" + strings.Join(quoted, ", ") + "]::text[]"
	case time.Time:
		return quote(v.Format(time.RFC3339Nano))
	}
	t.Fatalf("no literal for %T", v)
	return ""
}

// requireNoRecencyWalk fails when the plan reads the sent_at index for
// anything but undated rows: walking inquiries newest first and filtering
// them by key reads thousands of entries per reply.
func requireNoRecencyWalk(t *testing.T, plan []string) {
	t.Helper()
	for i, l := range plan {
		if !strings.Contains(l, "creditor_inquiries_sent_idx") {
			continue
		}
		require.Less(t, i+1, len(plan))
		require.Equal(t, "Index Cond: (sent_at IS NULL)", strings.TrimSpace(plan[i+1]),
			"plan walks sent_at:\n%s", strings.Join(plan, "\n"))
	}
}

// topBuffers returns the shared buffers (hit + read) of the whole plan.
func topBuffers(t *testing.T, plan []string) int {
	t.Helper()
	re := regexp.MustCompile(`Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?`)
	for _, l := range plan {
		if m := re.FindStringSubmatch(l); m != nil {
			hit, _ := strconv.Atoi(m[1])
			read, _ := strconv.Atoi(m[2])
			return hit + read
		}
	}
	t.Fatalf("no buffers in plan:\n%s", strings.Join(plan, "\n"))
	return 0
}
