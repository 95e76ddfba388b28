package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassifyReply(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                        string
		headers                     map[string]string
		subject, fromName, fromMail string
		body                        string
		hasAmount                   bool
		want                        replyKind
	}{
		{name: "header auto-submitted", headers: map[string]string{"Auto-Submitted": "auto-replied"}, subject: "AW: Anfrage", want: replyAutoReply},
		{name: "header x-autoreply", headers: map[string]string{"X-Autoreply": "yes"}, want: replyAutoReply},
		{name: "precedence bulk", headers: map[string]string{"precedence": "Bulk"}, want: replyNewsletter},
		{name: "auto-submitted no", headers: map[string]string{"Auto-Submitted": "no"}, body: "Die Forderung beträgt 10 €", hasAmount: true, want: replyCreditor},
		{name: "subject abwesenheit", subject: "Abwesenheitsnotiz: AW: Forderungsanfrage", want: replyAutoReply},
		{name: "subject automatische antwort", subject: "Automatische Antwort: Ihre Anfrage", want: replyAutoReply},
		{name: "subject ooo", subject: "Out of Office: Re: Request", want: replyAutoReply},
		{name: "body ooo", subject: "AW: Anfrage", body: "Ich bin bis zum 15.04.2024 nicht im Büro. In dringenden Fällen wenden Sie sich an ...", want: replyAutoReply},
		{name: "bounce sender", fromName: "Mail Delivery Subsystem", fromMail: "mailer-daemon@googlemail.com", want: replyBounce},
		{name: "bounce postmaster", fromMail: "postmaster@example.de", subject: "Fehler", want: replyBounce},
		{name: "bounce subject", subject: "Unzustellbar: Forderungsanfrage", want: replyBounce},
		{name: "undeliverable", subject: "Undeliverable: Request", want: replyBounce},
		{name: "newsletter", subject: "Unsere Frühlingsangebote", body: "Jetzt 20% sparen! Newsletter abmelden", want: replyNewsletter},
		{name: "statement with unsubscribe", subject: "Kontoauszug", body: "Ihr Mandant hat einen Saldo von 50 €. Abmelden", hasAmount: true, want: replyCreditor},
		{name: "plain reply", subject: "AW: Anfrage", body: "Die Forderung ist beglichen.", want: replyCreditor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _ := classifyReply(newHeaderView(tc.headers), tc.subject, tc.fromName, tc.fromMail, foldText(tc.body), tc.hasAmount, nil)
			require.Equal(t, tc.want, got)
		})
	}
}
