package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app"
	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/handlers"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// The helpers below are shared with process_test.go (same test package):
// both run the program, read its JSON log and post signed webhooks to it.

// listenAddr finds the "http server listening" JSON log line and returns a
// dialable address for it, or "" while it has not been logged.
func listenAddr(t *testing.T, logs string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "http server listening" {
			continue
		}
		_, port, err := net.SplitHostPort(line.Addr)
		require.NoError(t, err)
		return net.JoinHostPort("127.0.0.1", port)
	}
	return ""
}

// waitReady polls addr's /readyz until it answers 200.
func waitReady(t *testing.T, client *http.Client, addr string, within time.Duration, what string) {
	t.Helper()
	apptest.Eventually(t, within, func() bool {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "%s answers /readyz with 200", what)
}

// postSigned posts body to addr's webhook endpoint, signed with secret, and
// returns the status code and answer.
func postSigned(client *http.Client, addr, secret string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/zendesk/webhook", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	req.Header.Set("X-Zendesk-Webhook-Signature", handlers.Sign(secret, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// acceptedAnswer is the webhook's answer to a new email.
type acceptedAnswer struct {
	Status  string `json:"status"`
	EmailID uint64 `json:"email_id"`
}

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const (
	runSecret = "app-test-webhook-secret"
	runToken  = "app-test-admin-token-0123456789"
)

// runCreditorReply is a typical creditor answer, as Zendesk's trigger posts it.
const runCreditorReply = `<p>Sehr geehrte Damen und Herren,</p>
<p>in der Angelegenheit Ihrer Mandantin Frau Erika Musterfrau, Ihr Zeichen: EM-2026-0042,
teilen wir Ihnen mit, dass die Gesamtforderung zum heutigen Tag <b>2.345,67 €</b> beträgt.</p>
<p>Mit freundlichen Grüßen<br>Muster Inkasso GmbH<br>Forderungsmanagement</p>`

func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	db := apptest.NewEmptyDB(t) // serve migrates it (AUTO_MIGRATE defaults to true)
	rdb := apptest.NewRedis(t)
	env := map[string]string{
		"PORT": "0", "DATABASE_URL": db.URL, "REDIS_URL": rdb.URL, "REDIS_NAMESPACE": rdb.Namespace,
		"WEBHOOK_SECRET": runSecret, "ADMIN_API_TOKEN": runToken, "LLM_PROVIDER": "rules",
		"REAPER_INTERVAL": "1s", "LOG_FORMAT": "json", "LOG_LEVEL": "info", "WORKER_CONCURRENCY": "2",
	}
	stdout, stderr := &apptest.LogBuffer{}, &apptest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, []string{"serve"}, getenvFrom(env), stdout, stderr) }()

	var addr string
	apptest.Eventually(t, 20*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v\n%s%s", err, stdout, stderr)
		default:
		}
		addr = listenAddr(t, stdout.String())
		return addr != ""
	}, "the server logs its address")
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}
	waitReady(t, client, addr, 20*time.Second, "the server")

	body, err := json.Marshal(map[string]any{
		"ticket_id": 4711, "from_email": "forderungen@muster-inkasso.de", "from_name": "Muster Inkasso GmbH",
		"subject": "AW: Anfrage Forderungshöhe Erika Musterfrau", "body_html": runCreditorReply,
		"received_at": time.Now().UTC().Format(time.RFC3339), "webhook_id": "wh-app-" + apptest.RandomID(),
	})
	require.NoError(t, err)
	status, raw, err := postSigned(client, addr, runSecret, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, string(raw))
	var accepted acceptedAnswer
	require.NoError(t, json.Unmarshal(raw, &accepted))
	require.Equal(t, "accepted", accepted.Status)

	// An unsigned request is refused by the running program.
	resp, err := client.Post(base+"/api/v1/zendesk/webhook", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	var email models.IncomingEmail
	apptest.Eventually(t, 30*time.Second, func() bool {
		email = models.IncomingEmail{}
		return db.Select("id", "processing_status").Take(&email, accepted.EmailID).Error == nil &&
			email.ProcessingStatus.Terminal()
	}, "email %d reaches a terminal status", accepted.EmailID)
	require.Equal(t, models.StatusCompleted, email.ProcessingStatus)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown\n%s", stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	require.Contains(t, stdout.String(), "shutting down")
	require.NotContains(t, stdout.String(), runSecret)
	require.NotContains(t, stdout.String(), "Erika")

	// The listener is closed.
	_, err = client.Get(base + "/healthz")
	require.Error(t, err)
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db := apptest.NewEmptyDB(t)
	env := getenvFrom(map[string]string{"DATABASE_URL": db.URL, "LOG_FORMAT": "json"})
	var stdout bytes.Buffer
	err := app.Run(context.Background(), []string{"migrate"}, env, &stdout, io.Discard)
	require.NoError(t, err)
	require.Equal(t, 0, app.ExitCode(err, io.Discard))
	require.Contains(t, stdout.String(), "migrations applied")

	var n int64
	require.NoError(t, db.Raw(`SELECT count(*) FROM information_schema.tables
		WHERE table_schema = ? AND table_name IN ('incoming_emails','email_attempts','debt_updates','outbox_messages','creditor_inquiries')`,
		db.Schema).Scan(&n).Error)
	require.Equal(t, int64(5), n)

	// Running it again is a no-op.
	require.NoError(t, app.Run(context.Background(), []string{"migrate"}, env, io.Discard, io.Discard))
}

func TestBadConfigExitCode(t *testing.T) {
	t.Parallel()
	err := app.Run(context.Background(), []string{"serve"}, getenvFrom(map[string]string{"ENVIRONMENT": "production"}), io.Discard, io.Discard)
	require.Error(t, err)
	require.Contains(t, err.Error(), "WEBHOOK_SECRET")
	require.Contains(t, err.Error(), "ADMIN_API_TOKEN")
	var stderr bytes.Buffer
	require.Equal(t, 2, app.ExitCode(err, &stderr))
	require.Contains(t, stderr.String(), "WEBHOOK_SECRET")

	err = app.Run(context.Background(), []string{"migrate"}, getenvFrom(map[string]string{"PORT": "abc"}), io.Discard, io.Discard)
	require.ErrorContains(t, err, "PORT")
	require.Equal(t, 2, app.ExitCode(err, io.Discard))
}

func TestUnknownCommandExitCode(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := app.Run(context.Background(), []string{"frobnicate"}, getenvFrom(nil), io.Discard, &stderr)
	require.ErrorContains(t, err, "frobnicate")
	require.Contains(t, stderr.String(), "usage: matcher")
	require.Equal(t, 2, app.ExitCode(err, io.Discard))

	// serve and migrate take no arguments: an extra one is a mistake, not ignored.
	for _, args := range [][]string{{"serve", "-bogus"}, {"migrate", "extra"}} {
		stderr.Reset()
		err = app.Run(context.Background(), args, getenvFrom(nil), io.Discard, &stderr)
		require.ErrorContains(t, err, args[1])
		require.Contains(t, stderr.String(), "usage: matcher")
		require.Equal(t, 2, app.ExitCode(err, io.Discard), args)
	}

	// A flag send-sample does not know is a usage error too, and -h asks for usage.
	for _, flag := range []string{"-bogus", "-h"} {
		stderr.Reset()
		err = app.Run(context.Background(), []string{"send-sample", flag}, getenvFrom(nil), io.Discard, &stderr)
		require.Error(t, err, flag)
		require.Contains(t, stderr.String(), "-ticket", "%s prints the flags to Run's stderr", flag)
		require.Equal(t, 2, app.ExitCode(err, io.Discard), flag)
	}
}

func TestServeFailsFastWithoutPostgres(t *testing.T) {
	t.Parallel()
	env := getenvFrom(map[string]string{"DATABASE_URL": apptest.UnreachableURL})
	err := app.Run(context.Background(), []string{"serve"}, env, io.Discard, io.Discard)
	require.Error(t, err)
	require.Equal(t, 1, app.ExitCode(err, io.Discard))
}
