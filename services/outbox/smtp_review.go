package outbox

import (
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"text/template"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// reviewNeededView is what the review_needed mail shows: ids, reason codes
// and the sentence, and where to decide; no names or amounts.
type reviewNeededView struct {
	models.ReviewNeededPayload
	Codes    string
	AdminURL string
}

// reviewNeeded renders the mail to NOTIFY_EMAIL that an email waits for a
// review decision.
func (s *SMTPSink) reviewNeeded(payload models.JSON) (staffMail, error) {
	if s.cfg.NotifyEmail == "" {
		return staffMail{}, fmt.Errorf("notify email empty: %w", ErrSkipped)
	}
	var p models.ReviewNeededPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return staffMail{}, models.Permanent(fmt.Errorf("decode review needed payload: %w", err))
	}
	base := strings.TrimRight(s.cfg.AdminBaseURL, "/")
	data := reviewNeededView{ReviewNeededPayload: p, Codes: strings.Join(p.Reasons, ", "),
		AdminURL: base + "/admin/reviews/" + strconv.FormatUint(p.EmailID, 10)}
	subject := fmt.Sprintf("Creditor Matcher: E-Mail #%d wartet auf Prüfung", p.EmailID)
	return render(s.cfg.NotifyEmail, subject, reviewNeededText, reviewNeededHTML, data)
}

var reviewNeededText = template.Must(template.New("review").Parse(`Eine Gläubiger-Antwort wartet auf eine Entscheidung; es wurde noch kein Betrag übernommen.

E-Mail: #{{.EmailID}} (Ticket {{.TicketID}})
Gründe: {{.Codes}}
{{.Sentence}}

Entscheiden: {{.AdminURL}}
`))

var reviewNeededHTML = htmltemplate.Must(htmltemplate.New("review").Parse(`<!DOCTYPE html>
<html><body>
<p>Eine Gläubiger-Antwort wartet auf eine Entscheidung; es wurde noch kein Betrag übernommen.</p>
<p>E-Mail #{{.EmailID}} (Ticket {{.TicketID}})<br>Gründe: {{.Codes}}<br>{{.Sentence}}</p>
<p><a href="{{.AdminURL}}">Entscheiden</a></p>
</body></html>
`))
