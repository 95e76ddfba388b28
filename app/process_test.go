package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
	"github.com/lawfirm/creditor-email-matcher/workers"
)

// These tests run the real binary as separate processes, so they can kill,
// terminate and multiply it against one PostgreSQL schema and Redis namespace.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func matcherBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "matcher-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "matcher")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/lawfirm/creditor-email-matcher").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

const testSecret = "process-test-secret"

// env is the shared setting of one test's processes.
type env struct {
	db    *apptest.DB
	redis *apptest.Redis
	vars  map[string]string
}

func newEnv(t *testing.T, vars map[string]string) *env {
	db, r := apptest.NewDB(t), apptest.NewRedis(t)
	base := map[string]string{
		"DATABASE_URL": db.URL, "REDIS_URL": r.URL, "REDIS_NAMESPACE": r.Namespace, "PORT": "0",
		"WEBHOOK_SECRET": testSecret, "ADMIN_API_TOKEN": "process-test-admin-token", "LOG_FORMAT": "json",
		"LLM_PROVIDER": "rules", "LEASE_DURATION": "2s", "REAPER_INTERVAL": "500ms", "JOB_MIN_BACKOFF": "100ms",
		"JOB_MAX_BACKOFF": "1s", "SHUTDOWN_TIMEOUT": "300ms", "DB_MAX_OPEN_CONNS": "8", "WORKER_CONCURRENCY": "4",
	}
	maps.Copy(base, vars)
	return &env{db: db, redis: r, vars: base}
}

type proc struct {
	cmd  *exec.Cmd
	out  *apptest.LogBuffer
	addr string
	done chan error
}

// start runs the binary with the env's settings plus mode, and waits until it is ready.
func (e *env) start(t *testing.T, mode string) *proc {
	t.Helper()
	cmd := exec.Command(matcherBinary(t), "serve")
	cmd.Env = append(os.Environ(), "APP_MODE="+mode)
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, out: &apptest.LogBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s process output:\n%s", mode, tail(p.out.String(), 40))
		}
	})
	apptest.Eventually(t, 20*time.Second, func() bool {
		p.addr = listenAddr(t, p.out.String())
		return p.addr != ""
	}, "%s process to listen", mode)
	waitReady(t, http.DefaultClient, p.addr, 10*time.Second, mode+" process")
	return p
}

func (p *proc) kill(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
	p.done <- nil
}

// terminate sends SIGTERM and returns the exit code.
func (p *proc) terminate(t *testing.T) int {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("process did not exit after SIGTERM")
	}
	p.done <- nil
	return p.cmd.ProcessState.ExitCode()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// post sends a signed creditor reply for ticket and returns the email id.
func post(t *testing.T, addr, ticket string) uint64 {
	t.Helper()
	id, err := postReply(addr, ticket)
	require.NoError(t, err)
	return id
}

// postReply sends a signed creditor reply for ticket and returns the email
// id; any answer but 200 with a JSON body is an error. Safe off the test goroutine.
func postReply(addr, ticket string) (uint64, error) {
	body, err := json.Marshal(map[string]any{
		"ticket_id": ticket, "webhook_id": "wh-" + ticket, "from_email": "forderung@inkasso-beispiel.de",
		"subject":   "AW: Forderungsanfrage " + ticket,
		"body_text": "Sehr geehrte Damen und Herren,\n\nIhr Zeichen: AZ-" + ticket + "\nDie Gesamtforderung beträgt 1.234,56 EUR.\n\nMit freundlichen Grüßen\nInkasso Beispiel GmbH",
	})
	if err != nil {
		return 0, err
	}
	status, raw, err := postSigned(http.DefaultClient, addr, testSecret, body)
	if err != nil {
		return 0, fmt.Errorf("post %s: %w", ticket, err)
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("post %s: status %d: %s", ticket, status, raw)
	}
	var out acceptedAnswer
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, fmt.Errorf("post %s: %w", ticket, err)
	}
	return out.EmailID, nil
}

// seedInquiries stores the inquiry each ticket answers, so replies match and produce effects.
func seedInquiries(t *testing.T, db *apptest.DB, tickets []string) {
	t.Helper()
	for _, tk := range tickets {
		az, email := "AZ-"+tk, "forderung@inkasso-beispiel.de"
		ticket := tk
		require.NoError(t, db.Omit("id").Create(&models.CreditorInquiry{
			ClientName: "Mustermann, Max", ClientAktenzeichen: &az, CreditorName: "Inkasso Beispiel GmbH",
			CreditorEmail: &email, ZendeskTicketID: &ticket, SentAt: ptr(time.Now().Add(-24 * time.Hour)),
		}).Error)
	}
}

func ptr[T any](v T) *T { return &v }

func tickets(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// waitTerminal waits until n emails are terminal.
func waitTerminal(t *testing.T, db *apptest.DB, n int, within time.Duration) {
	t.Helper()
	apptest.Eventually(t, within, func() bool {
		return countInStatus(db, models.StatusCompleted, models.StatusNotCreditorReply, models.StatusFailed) == int64(n)
	}, "%d emails terminal", n)
}

// requireEffectsOnce checks DESIGN.md §6.2: every email completed, one
// debt_updates row each, and at most one outbox row per kind per email.
func requireEffectsOnce(t *testing.T, db *apptest.DB, n int) {
	t.Helper()
	// The unique keys (debt_updates.incoming_email_id, the outbox's
	// kind:email idempotency key) allow at most one of each per email, so
	// n of each means every email's effects landed exactly once.
	var completed, debts, notifications int64
	require.NoError(t, db.Model(&models.IncomingEmail{}).Where("processing_status = ?", models.StatusCompleted).Count(&completed).Error)
	require.EqualValues(t, n, completed, "every email completed")
	require.NoError(t, db.Model(&models.DebtUpdate{}).Count(&debts).Error)
	require.EqualValues(t, n, debts, "one debt update per email")
	require.NoError(t, db.Model(&models.OutboxMessage{}).Where("aggregate_type = ?", models.OutboxDebtNotification).Count(&notifications).Error)
	require.EqualValues(t, n, notifications, "one notification per email")
	// A killed process's attempt is closed by the reaper, after the rescue.
	apptest.Eventually(t, 10*time.Second, func() bool {
		var open int64
		db.Model(&models.EmailAttempt{}).Where("finished_at IS NULL").Count(&open)
		return open == 0
	}, "no attempt left open")
	// The unique keys above would hide a second run of the pipeline; the
	// attempts show it.
	var ran int64
	require.NoError(t, db.Model(&models.EmailAttempt{}).Where("outcome = ?", models.OutcomeCompleted).Count(&ran).Error)
	require.EqualValues(t, n, ran, "one completed attempt per email")
}

// fakeClaude is the fake Messages API, answering after delay so that jobs
// are mid-flight when a test kills or stops a process, always with the same
// extraction (the seeded inquiries match it).
func fakeClaude(t *testing.T, delay time.Duration) *claudetest.Server {
	return fakeClaudeWith(t, claudetest.FixedLatency(delay))
}

// fakeClaudeWith is fakeClaude with the model's latency drawn from latency.
func fakeClaudeWith(t *testing.T, latency func() time.Duration) *claudetest.Server {
	srv := claudetest.New(claudetest.Options{
		Limits:  claudetest.Limits{RequestsPerMinute: 60_000, InputTokensPerMinute: 100_000_000, OutputTokensPerMinute: 10_000_000},
		Latency: latency,
		Answer: func(r claudetest.Request) claudetest.Answer {
			// The replies differ only in their case number ("Ihr Zeichen:
			// AZ-…"), which a model reads like any other field; without it
			// every seeded inquiry fits equally and the match is only
			// needs_review, held for a person with no debt update.
			return claudetest.Answer{ToolInput: map[string]any{
				"is_creditor_reply": true, "client_name": "Mustermann, Max", "creditor_name": "Inkasso Beispiel GmbH",
				"debt_amount": 1234.56, "reference_numbers": []string{}, "client_aktenzeichen": caseNumberIn(r),
				"confidence": 0.9, "summary": "Die Forderung beträgt 1.234,56 EUR.",
			}}
		},
	})
	t.Cleanup(srv.Close)
	return srv
}

// caseNumberIn is the first "AZ-…" case number in the request's messages.
func caseNumberIn(r claudetest.Request) string {
	for _, m := range r.Messages {
		for _, b := range m.Content {
			if az := caseNumber.FindString(b.Text); az != "" {
				return az
			}
		}
	}
	return ""
}

var caseNumber = regexp.MustCompile(`AZ-[A-Z0-9]+`)

func slowClaudeVars(srv *claudetest.Server) map[string]string {
	return map[string]string{"LLM_PROVIDER": "claude", "ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": srv.URL()}
}

func countInStatus(db *apptest.DB, statuses ...models.Status) int64 {
	var n int64
	db.Model(&models.IncomingEmail{}).Where("processing_status IN ?", statuses).Count(&n)
	return n
}

// startMidExtraction starts an "all" process against a slow Claude, posts n
// replies (tickets prefix0000…) that match seeded inquiries, and returns once
// a job is mid-extraction, so the caller can kill or stop the process then.
func startMidExtraction(t *testing.T, prefix string, n int) (*env, *proc, []string) {
	t.Helper()
	e := newEnv(t, slowClaudeVars(fakeClaude(t, 700*time.Millisecond)))
	tk := tickets(prefix, n)
	seedInquiries(t, e.db, tk)
	first := e.start(t, "all")
	for _, ticket := range tk {
		post(t, first.addr, ticket)
	}
	apptest.Eventually(t, 20*time.Second, func() bool {
		return countInStatus(e.db, models.StatusExtracting) > 0
	}, "a job mid-extraction")
	return e, first, tk
}

func TestKilledProcessLosesNothingAndAppliesEffectsOnce(t *testing.T) {
	t.Parallel()
	e, first, tk := startMidExtraction(t, "K", 12)
	first.kill(t)

	e.start(t, "all")
	waitTerminal(t, e.db, len(tk), 60*time.Second)
	requireEffectsOnce(t, e.db, len(tk))
	var rescued int64
	require.NoError(t, e.db.Model(&models.IncomingEmail{}).Where("rescue_count > 0").Count(&rescued).Error)
	require.Positive(t, rescued, "the killed process's jobs were rescued")
}

func TestSIGTERMDuringWorkLosesNothing(t *testing.T) {
	t.Parallel()
	e, first, tk := startMidExtraction(t, "S", 10)
	require.Equal(t, 0, first.terminate(t), "graceful exit")
	// Nothing is left holding a lease: interrupted jobs went straight back to queued.
	require.Zero(t, countInStatus(e.db, models.ActiveStages...))

	e.start(t, "all")
	waitTerminal(t, e.db, len(tk), 60*time.Second)
	requireEffectsOnce(t, e.db, len(tk))
}

func TestTwoWorkersAndAWebProcessApplyEachEmailOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const n = 500
	tk := tickets("M", n)
	seedInquiries(t, e.db, tk)
	web := e.start(t, "web")
	e.start(t, "worker")
	e.start(t, "worker")

	// 16 senders; require may only stop the test from its own goroutine,
	// so the senders hand their errors (and the email ids) back.
	var wg sync.WaitGroup
	work := make(chan string)
	errs := make(chan error, n)
	ids := make(chan uint64, n)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ticket := range work {
				id, err := postReply(web.addr, ticket)
				if err != nil {
					errs <- err
					continue
				}
				ids <- id
			}
		}()
	}
	for _, ticket := range tk {
		work <- ticket
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// A few deliveries again, as Zendesk does on timeouts: no new rows, no new effects.
	for _, ticket := range tk[:20] {
		post(t, web.addr, ticket)
	}
	// Every id once more in Redis, as a reaper sweep or a failover may leave
	// it: the two workers race for each email, most of them already finished,
	// and only a claim of a queued email may run the pipeline.
	close(ids)
	var again []uint64
	for id := range ids {
		again = append(again, id)
	}
	queue := workers.NewQueue(e.redis.Client, e.redis.Namespace, "test")
	require.NoError(t, queue.Push(context.Background(), again...))
	apptest.Eventually(t, 60*time.Second, func() bool {
		ready, err := queue.ReadyLen(context.Background())
		return err == nil && ready == 0
	}, "the workers took every id")

	waitTerminal(t, e.db, n, 90*time.Second)
	requireEffectsOnce(t, e.db, n)
	var takers int64
	require.NoError(t, e.db.Model(&models.EmailAttempt{}).Distinct("worker").Count(&takers).Error)
	require.EqualValues(t, 2, takers, "both worker processes took jobs")
}
