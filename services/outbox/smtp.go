package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"math"
	"net/textproto"
	"strconv"
	"strings"
	"text/template"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// smtpTimeout bounds dialing and each SMTP command.
const smtpTimeout = 30 * time.Second

// SMTPConfig is where and as whom staff e-mails are sent.
type SMTPConfig struct {
	Host         string
	Port         int
	Username     string
	Password     string
	From         string
	AdminEmail   string // receives failure_alert mails
	NotifyEmail  string // receives debt_notification mails
	AdminBaseURL string // prefix of the admin links in failure alerts
}

// SMTPSink sends the staff e-mails: failure alerts and debt notifications.
type SMTPSink struct {
	cfg SMTPConfig
}

// NewSMTPSink returns a sink for cfg; it is not Configured without Host or From.
func NewSMTPSink(cfg SMTPConfig) *SMTPSink {
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	return &SMTPSink{cfg: cfg}
}

// Configured reports whether an SMTP server and sender are set.
func (s *SMTPSink) Configured() bool {
	return s.cfg.Host != "" && s.cfg.From != ""
}

// staffMail is one rendered staff e-mail.
type staffMail struct {
	to, subject, text, html string
}

// Deliver sends a failure_alert to ADMIN_EMAIL, or a debt_notification or
// a budget_alert to NOTIFY_EMAIL. Without SMTP or a recipient it returns an error wrapping ErrSkipped.
func (s *SMTPSink) Deliver(ctx context.Context, msg models.OutboxMessage) error {
	if !s.Configured() {
		return fmt.Errorf("smtp: %w", ErrSkipped)
	}
	var (
		m   staffMail
		err error
	)
	switch msg.AggregateType {
	case models.OutboxFailureAlert:
		m, err = s.failureAlert(msg.Payload)
	case models.OutboxDebtNotification:
		m, err = s.debtNotification(msg.Payload)
	case models.OutboxBudgetAlert:
		m, err = s.budgetAlert(msg.Payload)
	case models.OutboxReviewNeeded:
		m, err = s.reviewNeeded(msg.Payload)
	default:
		return models.Permanent(fmt.Errorf("smtp sink: unsupported outbox kind %q", msg.AggregateType))
	}
	if err != nil {
		return err
	}
	return s.send(ctx, msg, m)
}

func (s *SMTPSink) failureAlert(payload models.JSON) (staffMail, error) {
	if s.cfg.AdminEmail == "" {
		return staffMail{}, fmt.Errorf("admin email empty: %w", ErrSkipped)
	}
	var p models.FailureAlertPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("decode failure alert payload: %w", err))
	}
	base := strings.TrimRight(s.cfg.AdminBaseURL, "/")
	id := strconv.FormatUint(p.EmailID, 10)
	data := failureAlertView{
		FailureAlertPayload: p,
		FailedAt:            germanTime(p.FailedAt),
		AdminURL:            base + "/admin/jobs/" + id,
		APIURL:              base + "/api/v1/jobs/" + id,
		RetryURL:            base + "/api/v1/jobs/" + id + "/retry",
	}
	subject := fmt.Sprintf("Creditor Matcher: E-Mail #%d endgültig fehlgeschlagen", p.EmailID)
	return render(s.cfg.AdminEmail, subject, failureAlertText, failureAlertHTML, data)
}

func (s *SMTPSink) debtNotification(payload models.JSON) (staffMail, error) {
	if s.cfg.NotifyEmail == "" {
		return staffMail{}, fmt.Errorf("notify email empty: %w", ErrSkipped)
	}
	var p models.DebtNotificationPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("decode debt notification payload: %w", err))
	}
	old := "unbekannt"
	if p.OldAmount != nil {
		old = formatEUR(*p.OldAmount)
	}
	data := debtNotificationView{
		DebtNotificationPayload: p,
		Old:                     old,
		New:                     formatEUR(p.NewAmount),
		Confidence:              strconv.Itoa(int(math.Round(p.Confidence*100))) + " %",
		References:              strings.Join(p.ReferenceNumbers, ", "),
	}
	if data.References == "" {
		data.References = "keine"
	}
	subject := fmt.Sprintf("Neue Forderungshöhe: %s – %s", p.ClientName, p.CreditorName)
	return render(s.cfg.NotifyEmail, subject, debtNotificationText, debtNotificationHTML, data)
}

// budgetAlert is the day's mail that the model token budget is spent.
func (s *SMTPSink) budgetAlert(payload models.JSON) (staffMail, error) {
	if s.cfg.NotifyEmail == "" {
		return staffMail{}, fmt.Errorf("notify email empty: %w", ErrSkipped)
	}
	var p models.BudgetAlertPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("decode budget alert payload: %w", err))
	}
	data := budgetAlertView{BudgetAlertPayload: p, SpentTime: germanTime(p.SpentAt), ResetTime: germanTime(p.ResetAt)}
	subject := fmt.Sprintf("Creditor Matcher: Tagesbudget für Modell-Tokens am %s aufgebraucht", p.Day)
	return render(s.cfg.NotifyEmail, subject, budgetAlertText, budgetAlertHTML, data)
}

// render fills both parts; html/template escapes every value in the HTML part.
func render(to, subject string, text *template.Template, html *htmltemplate.Template, data any) (staffMail, error) {
	var t, h strings.Builder
	if err := text.Execute(&t, data); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("render text part: %w", err))
	}
	if err := html.Execute(&h, data); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("render html part: %w", err))
	}
	return staffMail{to: to, subject: oneLine(subject), text: t.String(), html: h.String()}, nil
}

// send delivers m; SMTP 5xx replies are permanent, everything else transient.
func (s *SMTPSink) send(ctx context.Context, msg models.OutboxMessage, m staffMail) error {
	out := mail.NewMsg()
	if err := out.From(s.cfg.From); err != nil {
		return models.Permanent(fmt.Errorf("smtp from address: %w", err))
	}
	if err := out.To(m.to); err != nil {
		return models.Permanent(fmt.Errorf("smtp recipient address: %w", err))
	}
	out.Subject(m.subject)
	out.SetDate()
	out.SetMessageIDWithValue(messageID(msg, s.cfg.From))
	out.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated") // no out-of-office replies
	out.SetBodyString(mail.TypeTextPlain, m.text)
	out.AddAlternativeString(mail.TypeTextHTML, m.html)

	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTLSPolicy(mail.TLSOpportunistic),
		mail.WithTimeout(smtpTimeout),
	}
	if s.cfg.Username != "" {
		// PLAIN and LOGIN cover most relays; go-mail sends them only over TLS
		// (or to localhost), so an unencrypted remote server fails instead of
		// receiving the password in clear.
		opts = append(opts,
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthPlain, mail.SMTPAuthLogin),
			mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	client, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return models.Permanent(fmt.Errorf("smtp client: %w", err))
	}
	if err := client.DialAndSendWithContext(ctx, out); err != nil {
		return smtpError(msg, err)
	}
	return nil
}

// smtpError classifies a failed send by the server's reply code: 5xx is
// permanent, anything else transient. Server replies and go-mail's send errors
// echo addresses, so for those only the codes are kept in the error text,
// which the relay stores and logs.
func smtpError(msg models.OutboxMessage, err error) error {
	op := fmt.Sprintf("send %s mail for email %d", msg.AggregateType, msg.AggregateID)
	var sendErr *mail.SendError
	var protoErr *textproto.Error
	code := 0
	switch {
	case errors.As(err, &sendErr):
		code = sendErr.ErrorCode()
		err = fmt.Errorf("%s: %s: smtp reply %d %s", op, sendErr.Reason, code, sendErr.EnhancedStatusCode())
	case errors.As(err, &protoErr):
		code = protoErr.Code
		err = fmt.Errorf("%s: smtp reply %d", op, code)
	default:
		err = fmt.Errorf("%s: %w", op, err)
	}
	if code >= 500 && code < 600 {
		return models.Permanent(err)
	}
	return models.Transient(err, 0)
}

// messageID derives the Message-ID from the outbox idempotency key, so a
// resend after a crash carries the same id and is recognisable as a duplicate.
func messageID(msg models.OutboxMessage, from string) string {
	key := msg.IdempotencyKey
	if key == "" {
		key = fmt.Sprintf("%s-%d-%d", msg.AggregateType, msg.AggregateID, msg.ID)
	}
	local := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '-'
	}, key)
	domain := mailDomain(strings.TrimSuffix(strings.TrimSpace(from), ">"))
	if domain == "" {
		domain = "creditor-email-matcher.invalid"
	}
	return "outbox." + local + "@" + domain
}

// formatEUR writes an amount the German way: 1.234,56 €.
func formatEUR(v float64) string {
	cents := int64(math.Round(math.Abs(v) * 100))
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	if v < 0 && cents != 0 {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	fmt.Fprintf(&b, ",%02d €", cents%100)
	return b.String()
}

// germanTime writes t as German office staff read it.
func germanTime(t time.Time) string {
	if t.IsZero() {
		return "unbekannt"
	}
	return t.UTC().Format("02.01.2006 15:04:05") + " UTC"
}

// oneLine keeps header values on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

type failureAlertView struct {
	models.FailureAlertPayload
	FailedAt                   string
	AdminURL, APIURL, RetryURL string
}

type debtNotificationView struct {
	models.DebtNotificationPayload
	Old, New, Confidence, References string
}

var failureAlertText = template.Must(template.New("alert").Parse(`Die Verarbeitung einer Gläubiger-E-Mail ist endgültig fehlgeschlagen.

E-Mail-ID: {{.EmailID}}
Absender:  {{.FromEmail}}
Betreff:   {{.Subject}}
Zeitpunkt: {{.FailedAt}}
Fehler:    {{.Error}}

Ansehen:   {{.AdminURL}}
API:       {{.APIURL}}
Erneut versuchen (POST): {{.RetryURL}}
`))

var failureAlertHTML = htmltemplate.Must(htmltemplate.New("alert").Parse(`<!DOCTYPE html>
<html lang="de"><body>
<p>Die Verarbeitung einer Gläubiger-E-Mail ist endgültig fehlgeschlagen.</p>
<table>
<tr><th align="left">E-Mail-ID</th><td>{{.EmailID}}</td></tr>
<tr><th align="left">Absender</th><td>{{.FromEmail}}</td></tr>
<tr><th align="left">Betreff</th><td>{{.Subject}}</td></tr>
<tr><th align="left">Zeitpunkt</th><td>{{.FailedAt}}</td></tr>
<tr><th align="left">Fehler</th><td>{{.Error}}</td></tr>
</table>
<p><a href="{{.AdminURL}}">Im Admin-Bereich ansehen</a></p>
<p>API: <code>GET {{.APIURL}}</code><br>
Erneut versuchen: <code>POST {{.RetryURL}}</code></p>
</body></html>
`))

var debtNotificationText = template.Must(template.New("debt").Parse(`Ein Gläubiger hat eine Forderungshöhe mitgeteilt.

Mandant:      {{.ClientName}}
Gläubiger:    {{.CreditorName}}
Bisher:       {{.Old}}
Neu:          {{.New}}
Ticket:       {{.TicketID}}
Aktenzeichen: {{.References}}
Konfidenz:    {{.Confidence}}
E-Mail-ID:    {{.EmailID}}
`))

var debtNotificationHTML = htmltemplate.Must(htmltemplate.New("debt").Parse(`<!DOCTYPE html>
<html lang="de"><body>
<p>Ein Gläubiger hat eine Forderungshöhe mitgeteilt.</p>
<table>
<tr><th align="left">Mandant</th><td>{{.ClientName}}</td></tr>
<tr><th align="left">Gläubiger</th><td>{{.CreditorName}}</td></tr>
<tr><th align="left">Bisher</th><td>{{.Old}}</td></tr>
<tr><th align="left">Neu</th><td><strong>{{.New}}</strong></td></tr>
<tr><th align="left">Ticket</th><td>{{.TicketID}}</td></tr>
<tr><th align="left">Aktenzeichen</th><td>{{.References}}</td></tr>
<tr><th align="left">Konfidenz</th><td>{{.Confidence}}</td></tr>
<tr><th align="left">E-Mail-ID</th><td>{{.EmailID}}</td></tr>
</table>
</body></html>
`))

type budgetAlertView struct {
	models.BudgetAlertPayload
	SpentTime, ResetTime string
}

var budgetAlertText = template.Must(template.New("budget").Parse(`Das Tagesbudget für Modell-Tokens (LLM_DAILY_TOKEN_BUDGET) ist aufgebraucht.

Tag (Europe/Berlin): {{.Day}}
Budget:              {{.Budget}} Tokens
Verbraucht:          {{.Spent}} Tokens
Festgestellt:        {{.SpentTime}}
Weiter ab:           {{.ResetTime}}

Neue E-Mails warten bis dahin auf das Modell; keine schlägt deshalb fehl.
Ein höheres Budget gilt nach dem Neustart der Worker sofort.
`))

var budgetAlertHTML = htmltemplate.Must(htmltemplate.New("budget").Parse(`<!DOCTYPE html>
<html lang="de"><body>
<p>Das Tagesbudget für Modell-Tokens (<code>LLM_DAILY_TOKEN_BUDGET</code>) ist aufgebraucht.</p>
<table>
<tr><th align="left">Tag (Europe/Berlin)</th><td>{{.Day}}</td></tr>
<tr><th align="left">Budget</th><td>{{.Budget}} Tokens</td></tr>
<tr><th align="left">Verbraucht</th><td>{{.Spent}} Tokens</td></tr>
<tr><th align="left">Festgestellt</th><td>{{.SpentTime}}</td></tr>
<tr><th align="left">Weiter ab</th><td>{{.ResetTime}}</td></tr>
</table>
<p>Neue E-Mails warten bis dahin auf das Modell; keine schlägt deshalb fehl.
Ein höheres Budget gilt nach dem Neustart der Worker sofort.</p>
</body></html>
`))
