package outbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

const (
	testFrom   = "Creditor Matcher <matcher@kanzlei.example>"
	testAdmin  = "admin@kanzlei.example"
	testNotify = "team@kanzlei.example"
)

func smtpSinkFor(ts *testSMTPServer) *SMTPSink {
	return NewSMTPSink(SMTPConfig{
		Host: ts.Host, Port: ts.Port, Username: ts.Username, Password: ts.Password,
		From: testFrom, AdminEmail: testAdmin, NotifyEmail: testNotify,
		AdminBaseURL: "https://matcher.kanzlei.example/",
	})
}

// parsedMail is a received message split into what the tests look at.
type parsedMail struct {
	header mail.Header
	parts  map[string]string // media type → decoded body
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	pm := parsedMail{header: msg.Header, parts: map[string]string{}}
	collectParts(t, msg.Header.Get("Content-Type"), msg.Body, pm.parts)
	return pm
}

// collectParts walks (nested) multiparts; quoted-printable is decoded by multipart.Reader.
func collectParts(t *testing.T, contentType string, body io.Reader, into map[string]string) {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	if !strings.HasPrefix(mediaType, "multipart/") {
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		into[mediaType] = string(b)
		return
	}
	r := multipart.NewReader(body, params["boundary"])
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err)
		collectParts(t, part.Header.Get("Content-Type"), part, into)
	}
}

func (pm parsedMail) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(pm.header.Get("Subject"))
	require.NoError(t, err)
	return s
}

func TestSMTPSinkSendsFailureAlertOnceEscaped(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	sink := smtpSinkFor(ts)
	require.True(t, sink.Configured())

	p := models.FailureAlertPayload{
		EmailID: 42, FromEmail: "forderung@glaeubiger.example",
		Subject: `<script>alert("x")</script> Ihre Anfrage`, Error: "extract: model said <b>no</b> & gave up",
		FailedAt: time.Date(2026, 3, 25, 5, 9, 27, 0, time.UTC),
	}
	msg := models.OutboxMessage{ID: 9, AggregateType: models.OutboxFailureAlert, AggregateID: 42,
		Payload: models.MustJSON(p), IdempotencyKey: "failure_alert:42"}
	require.NoError(t, sink.Deliver(context.Background(), msg))

	mails := ts.Mails()
	require.Len(t, mails, 1)
	require.Equal(t, []string{testAdmin}, mails[0].To)
	require.Equal(t, "matcher@kanzlei.example", mails[0].From)
	pm := parseMail(t, mails[0].Data)
	require.Equal(t, "Creditor Matcher: E-Mail #42 endgültig fehlgeschlagen", pm.subject(t))
	require.Equal(t, "<outbox.failure_alert-42@kanzlei.example>", pm.header.Get("Message-Id"))

	text, html := pm.parts["text/plain"], pm.parts["text/html"]
	require.NotEmpty(t, text)
	require.NotEmpty(t, html)
	require.Contains(t, text, p.Subject)
	require.Contains(t, text, p.FromEmail)
	require.Contains(t, text, p.Error)
	require.NotContains(t, html, "<script>")
	require.Contains(t, html, "&lt;script&gt;")
	require.NotContains(t, html, "<b>no</b>")
	require.Contains(t, html, "&lt;b&gt;no&lt;/b&gt; &amp; gave up")
	for _, part := range []string{text, html} {
		require.Contains(t, part, "https://matcher.kanzlei.example/admin/jobs/42")
		require.Contains(t, part, "https://matcher.kanzlei.example/api/v1/jobs/42")
		require.Contains(t, part, "https://matcher.kanzlei.example/api/v1/jobs/42/retry")
		require.Contains(t, part, "25.03.2026 05:09:27 UTC")
	}

	// A resend after a crash carries the same Message-ID.
	require.NoError(t, sink.Deliver(context.Background(), msg))
	mails = ts.Mails()
	require.Len(t, mails, 2)
	require.Equal(t, pm.header.Get("Message-Id"), parseMail(t, mails[1].Data).header.Get("Message-Id"))
}

func TestSMTPSinkSendsDebtNotificationInGerman(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	sink := smtpSinkFor(ts)

	old := 1234.56
	p := models.DebtNotificationPayload{
		EmailID: 7, TicketID: "98765", ClientName: "Müller <i>Hans</i>", CreditorName: "Inkasso & Co. KG",
		OldAmount: &old, NewAmount: 1234567.8, ReferenceNumbers: []string{"AZ-1/24", "K<2>"},
		Confidence: 0.874, MatchStatus: models.MatchAuto,
	}
	require.NoError(t, sink.Deliver(context.Background(), models.OutboxMessage{
		ID: 3, AggregateType: models.OutboxDebtNotification, AggregateID: 7,
		Payload: models.MustJSON(p), IdempotencyKey: "debt_notification:7",
	}))

	mails := ts.Mails()
	require.Len(t, mails, 1)
	require.Equal(t, []string{testNotify}, mails[0].To)
	pm := parseMail(t, mails[0].Data)
	require.Equal(t, "Neue Forderungshöhe: Müller <i>Hans</i> – Inkasso & Co. KG", pm.subject(t))

	text, html := pm.parts["text/plain"], pm.parts["text/html"]
	for _, part := range []string{text, html} {
		require.Contains(t, part, "1.234,56 €")
		require.Contains(t, part, "1.234.567,80 €")
		require.Contains(t, part, "98765")
		require.Contains(t, part, "87 %")
		require.Contains(t, part, "AZ-1/24")
	}
	require.Contains(t, text, "Müller <i>Hans</i>")
	require.Contains(t, text, "K<2>")
	require.Contains(t, html, "Müller &lt;i&gt;Hans&lt;/i&gt;")
	require.Contains(t, html, "Inkasso &amp; Co. KG")
	require.Contains(t, html, "K&lt;2&gt;")
	require.NotContains(t, html, "<i>")
}

func TestSMTPSinkNotConfiguredSkips(t *testing.T) {
	t.Parallel()
	alert := models.OutboxMessage{AggregateType: models.OutboxFailureAlert, Payload: models.MustJSON(models.FailureAlertPayload{EmailID: 1})}
	notify := models.OutboxMessage{AggregateType: models.OutboxDebtNotification, Payload: models.MustJSON(models.DebtNotificationPayload{EmailID: 1})}

	noHost := NewSMTPSink(SMTPConfig{From: testFrom, AdminEmail: testAdmin, NotifyEmail: testNotify})
	require.False(t, noHost.Configured())
	require.ErrorIs(t, noHost.Deliver(context.Background(), alert), ErrSkipped)
	noFrom := NewSMTPSink(SMTPConfig{Host: "127.0.0.1", AdminEmail: testAdmin, NotifyEmail: testNotify})
	require.False(t, noFrom.Configured())
	require.ErrorIs(t, noFrom.Deliver(context.Background(), notify), ErrSkipped)

	ts := newTestSMTPServer(t)
	noRecipients := NewSMTPSink(SMTPConfig{Host: ts.Host, Port: ts.Port, From: testFrom})
	require.True(t, noRecipients.Configured())
	require.ErrorIs(t, noRecipients.Deliver(context.Background(), alert), ErrSkipped)
	require.ErrorIs(t, noRecipients.Deliver(context.Background(), notify), ErrSkipped)
	require.Empty(t, ts.Mails())
}

func TestSMTPSinkClassifiesServerReplies(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	ts.Reject(testAdmin, 550)
	ts.Reject(testNotify, 451)
	sink := smtpSinkFor(ts)
	ctx := context.Background()

	err := sink.Deliver(ctx, models.OutboxMessage{AggregateType: models.OutboxFailureAlert, AggregateID: 1,
		Payload: models.MustJSON(models.FailureAlertPayload{EmailID: 1})})
	var permanent *models.PermanentError
	require.ErrorAs(t, err, &permanent)
	require.Contains(t, err.Error(), "550")
	require.NotContains(t, err.Error(), testAdmin, "error text is stored and logged: no addresses")

	err = sink.Deliver(ctx, models.OutboxMessage{AggregateType: models.OutboxDebtNotification, AggregateID: 1,
		Payload: models.MustJSON(models.DebtNotificationPayload{EmailID: 1})})
	var transient *models.TransientError
	require.ErrorAs(t, err, &transient)
	require.False(t, errors.As(err, &permanent))

	wrongPassword := NewSMTPSink(SMTPConfig{Host: ts.Host, Port: ts.Port, Username: ts.Username, Password: "nope",
		From: testFrom, AdminEmail: "other@kanzlei.example"})
	err = wrongPassword.Deliver(ctx, models.OutboxMessage{AggregateType: models.OutboxFailureAlert,
		Payload: models.MustJSON(models.FailureAlertPayload{EmailID: 1})})
	require.ErrorAs(t, err, &permanent, "535 authentication failed is a 5xx")
	require.Empty(t, ts.Mails())
}

func TestSMTPSinkConnectionErrorIsTransient(t *testing.T) {
	t.Parallel()
	sink := NewSMTPSink(SMTPConfig{Host: "127.0.0.1", Port: closedPort(t), From: testFrom, AdminEmail: testAdmin})
	err := sink.Deliver(context.Background(), models.OutboxMessage{AggregateType: models.OutboxFailureAlert,
		Payload: models.MustJSON(models.FailureAlertPayload{EmailID: 1})})
	var transient *models.TransientError
	require.ErrorAs(t, err, &transient)
}

func TestSMTPSinkRejectsForeignKindAndBadPayload(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	sink := smtpSinkFor(ts)
	var permanent *models.PermanentError
	err := sink.Deliver(context.Background(), models.OutboxMessage{AggregateType: models.OutboxCreditorDebtUpdate, Payload: models.JSON(`{}`)})
	require.ErrorAs(t, err, &permanent)
	err = sink.Deliver(context.Background(), models.OutboxMessage{AggregateType: models.OutboxFailureAlert, Payload: models.JSON(`[`)})
	require.ErrorAs(t, err, &permanent)
	require.Empty(t, ts.Mails())
}

func TestFormatEUR(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]string{
		0: "0,00 €", 5.5: "5,50 €", 999.999: "1.000,00 €", 1234.56: "1.234,56 €",
		1234567.8: "1.234.567,80 €", -42.1: "-42,10 €", 100000: "100.000,00 €",
	} {
		require.Equal(t, want, formatEUR(in), "%v", in)
	}
}

func TestSMTPSinkSendsBudgetAlertToNotifyEmail(t *testing.T) {
	t.Parallel()
	ts := newTestSMTPServer(t)
	sink := smtpSinkFor(ts)
	p := models.BudgetAlertPayload{Day: "2026-12-05", Budget: 2_000_000, Spent: 2_003_180,
		SpentAt: time.Date(2026, 12, 5, 15, 4, 5, 0, time.UTC), ResetAt: time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)}
	require.NoError(t, sink.Deliver(context.Background(), models.OutboxMessage{
		ID: 11, AggregateType: models.OutboxBudgetAlert, Payload: models.MustJSON(p), IdempotencyKey: models.BudgetAlertKey(p.Day),
	}))
	mails := ts.Mails()
	require.Len(t, mails, 1)
	require.Equal(t, []string{testNotify}, mails[0].To)
	pm := parseMail(t, mails[0].Data)
	require.Contains(t, pm.subject(t), "2026-12-05")
	for _, part := range []string{pm.parts["text/plain"], pm.parts["text/html"]} {
		require.Contains(t, part, "2000000 Tokens")
		require.Contains(t, part, "2003180 Tokens")
		require.Contains(t, part, "05.12.2026 23:00:00 UTC")
	}
}
