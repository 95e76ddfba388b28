package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/zendesktest"
	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

// gatedClaude is the fake Messages API holding every call until open is set
// (or the caller hangs up): a call that arrives while it is closed answers
// only when its caller goes away.
type gatedClaude struct {
	srv  *claudetest.Server
	open atomic.Bool
}

func newGatedClaude(t *testing.T) *gatedClaude {
	g := &gatedClaude{}
	g.srv = fakeClaudeWith(t, func() time.Duration {
		if g.open.Load() {
			return 0
		}
		return time.Hour
	})
	return g
}

// TestKilledBetweenDownloadAndExtractionReadsTheFileOnce runs the real
// binary: it downloads and reads the attachment, stores its row and is
// SIGKILLed while extraction waits on the model. The next process takes
// the email over, reuses the stored row and completes the email; the fake
// Zendesk served the file once.
func TestKilledBetweenDownloadAndExtractionReadsTheFileOnce(t *testing.T) {
	t.Parallel()
	zd := zendesktest.Start()
	t.Cleanup(zd.Close)
	pdf, err := readtest.StatementPDF(1)
	require.NoError(t, err)
	zd.Add("forderung.pdf", "application/pdf", pdf)
	cert := filepath.Join(t.TempDir(), "zendesk.pem")
	require.NoError(t, os.WriteFile(cert, zd.CertPEM(), 0o600))
	claude := newGatedClaude(t)

	vars := slowClaudeVars(claude.srv)
	// The file is fetched from the content host itself: the API host would
	// want the token, which goes only to <subdomain>.zendesk.com.
	vars["ZENDESK_SUBDOMAIN"], vars["ZENDESK_EMAIL"], vars["ZENDESK_API_TOKEN"] = "kanzlei", zd.Email, zd.APIToken
	vars["ATTACHMENT_ALLOWED_HOSTS"] = zd.Content.Listener.Addr().String()
	vars["SSL_CERT_FILE"] = cert
	e := newEnv(t, vars)
	seedInquiries(t, e.db, []string{"A0001"})
	first := e.start(t, "all")

	body, err := json.Marshal(map[string]any{
		"ticket_id": "A0001", "webhook_id": "wh-A0001", "from_email": "forderung@inkasso-beispiel.de",
		"subject":   "AW: Forderungsanfrage A0001",
		"body_text": "Sehr geehrte Damen und Herren,\n\nIhr Zeichen: AZ-A0001\nanbei unsere Forderungsaufstellung.\n\nInkasso Beispiel GmbH",
		"attachments": []map[string]any{{"content_url": zd.Content.URL + "/files/forderung.pdf",
			"file_name": "forderung.pdf", "content_type": "application/pdf", "size": len(pdf)}},
	})
	require.NoError(t, err)
	status, raw, err := postSigned(http.DefaultClient, first.addr, testSecret, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var accepted acceptedAnswer
	require.NoError(t, json.Unmarshal(raw, &accepted))

	// The row is stored and extraction waits on the model: kill.
	apptest.Eventually(t, 30*time.Second, func() bool {
		var read int64
		e.db.Model(&models.EmailAttachment{}).Where("incoming_email_id = ? AND status = ?", accepted.EmailID,
			models.AttachmentRead).Count(&read)
		return read == 1 && claude.srv.Stats().Requests > 0
	}, "attachment read and extraction started")
	require.Equal(t, int64(1), countInStatus(e.db, models.StatusExtracting))
	first.kill(t)

	claude.open.Store(true)
	e.start(t, "all")
	waitTerminal(t, e.db, 1, 60*time.Second)
	var em models.IncomingEmail
	require.NoError(t, e.db.Take(&em, accepted.EmailID).Error)
	require.Equal(t, models.StatusCompleted, em.ProcessingStatus)
	require.Positive(t, em.RescueCount, "the killed process's attempt was rescued")
	require.Equal(t, 1, zd.Downloads("forderung.pdf"), "the file was downloaded once")
	require.Equal(t, 1, zd.Requests("forderung.pdf"))
	var row models.EmailAttachment
	require.NoError(t, e.db.Where("incoming_email_id = ?", accepted.EmailID).Take(&row).Error)
	require.Equal(t, 1, row.Attempts)
	require.Contains(t, *row.Text, "Gesamtforderung")
}

// TestClaudeTranscribesAScanAndExtractsFromIt runs the real binary with
// LLM_PROVIDER=claude: a scanned PDF goes to the fake Messages API as one
// document block, its transcription is stored as reader "model", and the
// extraction prompt carries it, so the amount comes from the attachment
// with its source.
func TestClaudeTranscribesAScanAndExtractsFromIt(t *testing.T) {
	t.Parallel()
	zd := zendesktest.Start()
	t.Cleanup(zd.Close)
	pdf, err := readtest.ScannedPDF(1)
	require.NoError(t, err)
	zd.Add("scan.pdf", "application/pdf", pdf)
	cert := filepath.Join(t.TempDir(), "zendesk.pem")
	require.NoError(t, os.WriteFile(cert, zd.CertPEM(), 0o600))
	var documents atomic.Int64
	var sawAttachment atomic.Bool
	srv := claudetest.New(claudetest.Options{Answer: claudetest.Transcribing(func(m claudetest.Media) string {
		if m.Block == "document" && m.MediaType == "application/pdf" {
			documents.Add(1)
		}
		return "Inkasso Beispiel GmbH\nForderungsaufstellung\nHauptforderung | 1.000,00 EUR\nGesamtforderung | 1.212,40 EUR"
	}, func(r claudetest.Request) claudetest.Answer {
		sawAttachment.Store(strings.Contains(r.UserText(), `<anhang quelle="attachment:0" datei="scan.pdf">`))
		return claudetest.ExtractionAnswer(r)
	})})
	t.Cleanup(srv.Close)

	vars := slowClaudeVars(srv)
	vars["ZENDESK_SUBDOMAIN"], vars["ZENDESK_EMAIL"], vars["ZENDESK_API_TOKEN"] = "kanzlei", zd.Email, zd.APIToken
	vars["ATTACHMENT_ALLOWED_HOSTS"] = zd.Content.Listener.Addr().String()
	vars["SSL_CERT_FILE"] = cert
	e := newEnv(t, vars)
	seedInquiries(t, e.db, []string{"S0001"})
	p := e.start(t, "all")

	body, err := json.Marshal(map[string]any{
		"ticket_id": "S0001", "webhook_id": "wh-S0001", "from_email": "forderung@inkasso-beispiel.de",
		"subject":   "AW: Forderungsanfrage S0001",
		"body_text": "Sehr geehrte Damen und Herren,\n\nIhr Zeichen: AZ-S0001\nanbei die Aufstellung als Scan.\n\nInkasso Beispiel GmbH",
		"attachments": []map[string]any{{"content_url": zd.Content.URL + "/files/scan.pdf",
			"file_name": "scan.pdf", "content_type": "application/pdf", "size": len(pdf)}},
	})
	require.NoError(t, err)
	status, raw, err := postSigned(http.DefaultClient, p.addr, testSecret, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var accepted acceptedAnswer
	require.NoError(t, json.Unmarshal(raw, &accepted))
	waitTerminal(t, e.db, 1, 60*time.Second)

	var row models.EmailAttachment
	require.NoError(t, e.db.Where("incoming_email_id = ?", accepted.EmailID).Take(&row).Error)
	require.Equal(t, models.AttachmentRead, row.Status)
	require.Equal(t, "model", *row.Reader)
	require.Contains(t, *row.Text, "Gesamtforderung | 1.212,40 EUR")
	require.Equal(t, int64(1), documents.Load(), "one call with the PDF as a document block")
	require.True(t, sawAttachment.Load(), "the extraction prompt carried the transcription")

	var em models.IncomingEmail
	require.NoError(t, e.db.Take(&em, accepted.EmailID).Error)
	var data models.ExtractedData
	require.NoError(t, json.Unmarshal(em.ExtractedData, &data))
	require.NotNil(t, data.DebtAmount)
	require.InDelta(t, 1000.00, *data.DebtAmount, 0.001, "the fake takes the first amount it sees: the attachment's")
	require.Equal(t, "attachment:0", data.Sources[models.FieldDebtAmount])
	require.Equal(t, int64(2), srv.Stats().Succeeded, "one transcription, one extraction")

	// Both calls' usage reached the attempt's row through the worker pool,
	// the pipeline and the attempt-finishing statement.
	var attempt models.EmailAttempt
	require.NoError(t, e.db.Where("incoming_email_id = ? AND outcome = ?", accepted.EmailID, models.OutcomeCompleted).Take(&attempt).Error)
	require.Equal(t, 2, attempt.LLMCalls, "the transcription and the extraction")
	require.Positive(t, attempt.LLMInputTokens+attempt.LLMCacheReadTokens+attempt.LLMCacheWriteTokens)
	require.Positive(t, attempt.LLMOutputTokens)
}
