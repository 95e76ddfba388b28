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

	"github.com/lawfirm/creditor-email-matcher/models"
)

const chromiumPath = "/usr/bin/chromium"

// TestAdminPageInBrowser signs in, filters, opens a job and retries it in
// headless Chromium. Outside CI it skips when Chromium is not installed.
func TestAdminPageInBrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("%s not installed (apt-get install -y chromium)", chromiumPath)
		}
		t.Fatalf("CI must provide %s: %v", chromiumPath, err)
	}
	e := newJobsEnv(t)
	failed := e.insert(t, fixture{Status: models.StatusFailed, From: "forderung@outage.example", Subject: "Restforderung Mustermann"})
	other := e.insert(t, fixture{Status: models.StatusCompleted, From: "info@elsewhere.example", Subject: "Unrelated"})
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET processing_error='llm provider unavailable',
		cleaned_body='Sehr geehrte Damen und Herren, die Restforderung beträgt 1.234,56 EUR.' WHERE id=?`, failed).Error)

	// The package defaults already carry headless, no-first-run,
	// disable-background-networking and disable-sync.
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

	row := chromedp.CSS(fmt.Sprintf(`#jobs tr[data-id="%d"]`, failed))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("token")),
	))
	loginURL, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loginURL, e.srv.URL+"/admin/login"), loginURL)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("filters")),
		chromedp.SendKeys(chromedp.ID("f-from"), "outage"),
		chromedp.SetValue(chromedp.ID("f-status"), "failed"),
		chromedp.Click(chromedp.ID("apply")),
		// The unfiltered list shows the row too: wait for the filtered page.
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-id="%d"]`, other))),
		chromedp.WaitVisible(row),
	))
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#jobs tbody")))
	require.NoError(t, err)
	require.Contains(t, rows, "forderung@outage.example")
	require.NotContains(t, rows, "elsewhere.example", "job %d is filtered out", other)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(row+" td a"),
		chromedp.WaitVisible(chromedp.ID("retry")),
		chromedp.Click(chromedp.ID("retry")),
		chromedp.WaitVisible(chromedp.ID("notice")),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	require.NoError(t, err)
	require.Equal(t, "queued", strings.TrimSpace(status))
	notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("notice")))
	require.NoError(t, err)
	require.Contains(t, notice, "queued again")
	require.Equal(t, 1, e.pusher.pushes(failed))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)

	dir := t.ArtifactDir()
	path := filepath.Join(dir, "admin-job-retried.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
}
