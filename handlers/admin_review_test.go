package handlers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAdminReviewQueueAndScreen(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	older, newer := e.held(t, 26*time.Hour), e.held(t, 10*time.Minute)
	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)

	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/admin/reviews", nil).StatusCode)
	page := html.UnescapeString(b.last)
	require.Contains(t, page, `id="tab-review"`)
	first, second := strings.Index(page, fmt.Sprintf(`data-id="%d"`, older.ID)), strings.Index(page, fmt.Sprintf(`data-id="%d"`, newer.ID))
	require.True(t, first > 0 && second > first, "oldest first")
	for _, want := range []string{"amount_change", "1 d 2 h", "10 min", "2.480,00 EUR", "1.000,00 EUR", fmt.Sprint(older.Inquiry)} {
		require.Contains(t, page, want)
	}

	require.Equal(t, http.StatusOK, b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", older.ID), nil).StatusCode)
	require.Contains(t, b.last, fmt.Sprintf(`<a href="/admin/reviews/%d">Decide it »</a>`, older.ID))
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, fmt.Sprintf("/admin/reviews/%d", older.ID), nil).StatusCode)
	page = html.UnescapeString(b.last)
	for _, want := range []string{
		"The amount changed by 148 %", "Sehr geehrte Damen und Herren", // reason sentence, cleaned body
		"<mark>Gesamtforderung zum 01.12.2026: 2.480,00 EUR</mark>", // the line that gave the amount
		"attachment 1 (forderungsaufstellung.pdf)",                  // the amount's source
		"AZ-2026-0815", "aktenzeichen 100 %", "41 %", // fields, candidates with signals
		`value="approve"`, `value="reassign"`, `value="correct"`, `value="reject"`,
	} {
		require.Contains(t, page, want)
	}
	csrf := b.csrf()
	path := fmt.Sprintf("/admin/reviews/%d", older.ID)

	// Without the form token nothing happens.
	require.Equal(t, http.StatusForbidden, b.do(http.MethodPost, path, url.Values{"action": {"approve"}}).StatusCode)
	// A refused form shows the screen again with the problem and what was typed.
	res := b.do(http.MethodPost, path, url.Values{"csrf_token": {csrf}, "action": {"correct"}, "amount": {"1.250,50"}})
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, b.last, "note: is required to correct")
	require.Contains(t, b.last, `value="1.250,50"`)
	require.EqualValues(t, 0, e.count(t, "review_decisions", "incoming_email_id = ?", older.ID))

	res = b.do(http.MethodPost, path, url.Values{"csrf_token": {csrf}, "action": {"correct"}, "amount": {"1.250,50"},
		"note": {"Aufstellung Seite 2"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, fmt.Sprintf("/admin/reviews?notice=correct&job=%d", older.ID), res.Header.Get("Location"))
	require.EqualValues(t, 1, e.count(t, "debt_updates", "incoming_email_id = ? AND amount = 1250.50", older.ID))
	require.EqualValues(t, 1, e.count(t, "review_decisions", "incoming_email_id = ? AND session_id <> 'api' AND session_id <> ''", older.ID))
	b.do(http.MethodGet, res.Header.Get("Location"), nil)
	require.Contains(t, b.last, fmt.Sprintf("Email %d corrected", older.ID))
	require.NotContains(t, b.last, fmt.Sprintf(`data-id="%d"`, older.ID))

	// A second decision goes back to the queue with a problem.
	res = b.do(http.MethodPost, path, url.Values{"csrf_token": {csrf}, "action": {"reject"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, fmt.Sprintf("/admin/reviews?problem=decided&job=%d", older.ID), res.Header.Get("Location"))

	// The decision shows on the review screen and on the job's timeline.
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, path, nil).StatusCode)
	require.Contains(t, b.last, `id="decisions"`)
	require.NotContains(t, b.last, `value="approve"`)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", older.ID), nil).StatusCode)
	page = html.UnescapeString(b.last)
	require.Contains(t, page, "review: corrected")
	require.Contains(t, page, "see the evidence and the decision")
	require.Contains(t, page, fmt.Sprintf("inquiry %d; 1.250,50 EUR; note: Aufstellung Seite 2; via the admin page", older.Inquiry))

	// Reassign to the other inquiry.
	res = b.do(http.MethodPost, fmt.Sprintf("/admin/reviews/%d", newer.ID), url.Values{"csrf_token": {csrf}, "action": {"reassign"},
		"inquiry_id": {fmt.Sprint(newer.Other)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.EqualValues(t, 1, e.count(t, "debt_updates", "incoming_email_id = ? AND creditor_inquiry_id = ?", newer.ID, newer.Other))
}

func TestParseAmountAsStaffType(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
	for typed, want := range map[string]string{"1.234,56": "1234.56", "1234,5": "1234.5", "1,234.56": "1234.56", "980": "980",
		"2.480,00 EUR": "2480"} {
		h := e.held(t, time.Minute)
		b.do(http.MethodGet, fmt.Sprintf("/admin/reviews/%d", h.ID), nil)
		res := b.do(http.MethodPost, fmt.Sprintf("/admin/reviews/%d", h.ID), url.Values{"csrf_token": {b.csrf()}, "action": {"correct"},
			"amount": {typed}, "note": {"x"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, typed)
		require.EqualValues(t, 1, e.count(t, "debt_updates", "incoming_email_id = ? AND amount = "+want, h.ID), typed)
	}
}
