package handlers_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestReviewInBrowser signs in, opens the Review tab and an item, approves
// it in headless Chromium and checks the effect. Screenshots go to
// REVIEW_SCREENSHOTS (default: a temporary directory).
func TestReviewInBrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("%s not installed (apt-get install -y chromium)", chromiumPath)
		}
		t.Fatalf("CI must provide %s: %v", chromiumPath, err)
	}
	dir := os.Getenv("REVIEW_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	e := newJobsEnv(t)
	h := e.held(t, 3*time.Hour)
	other := e.held(t, 20*time.Minute)

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	shoot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, shot, 0o644))
		t.Logf("screenshot: %s", path)
	}
	row := chromedp.CSS(fmt.Sprintf(`#reviews tr[data-id="%d"]`, h.ID))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("filters")),
		chromedp.Click(chromedp.ID("tab-review")),
		chromedp.WaitVisible(row),
	))
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#reviews tbody")))
	require.NoError(t, err)
	require.Less(t, strings.Index(rows, fmt.Sprint(h.ID)), strings.Index(rows, fmt.Sprint(other.ID)), "oldest first")
	require.Contains(t, rows, "amount_change")
	shoot("review-queue.png")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(row+" a.open"),
		chromedp.WaitVisible(chromedp.ID("approve")),
	))
	evidence, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	for _, want := range []string{"2.480,00 EUR", "1.000,00 EUR", "Gesamtforderung zum 01.12.2026", "forderungsaufstellung.pdf", "Sehr geehrte"} {
		require.Contains(t, evidence, want)
	}
	shoot("review-item.png")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice")))
	require.NoError(t, err)
	require.Contains(t, notice, fmt.Sprintf("Email %d approved", h.ID))
	rows, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#reviews tbody")))
	require.NoError(t, err)
	require.NotContains(t, rows, fmt.Sprintf("%d\t", h.ID))
	shoot("review-approved.png")

	// The effect: the amount is applied to the proposed inquiry, once,
	// with its portal sync and notification queued, and the email left the queue.
	require.EqualValues(t, 1, e.count(t, "debt_updates", "incoming_email_id = ? AND creditor_inquiry_id = ? AND amount = 2480", h.ID, h.Inquiry))
	require.EqualValues(t, 1, e.count(t, "review_decisions", "incoming_email_id = ? AND action = 'approve'", h.ID))
	require.EqualValues(t, 2, e.count(t, "outbox_messages", "aggregate_id = ?", h.ID))
	require.EqualValues(t, 1, e.count(t, "incoming_emails", "id = ? AND match_status = 'reviewed'", h.ID))
	require.EqualValues(t, 1, e.count(t, "creditor_inquiries", "id = ? AND response_received", h.Inquiry))
}
