package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lawfirm/creditor-email-matcher/handlers"
)

// sampleBody is a typical creditor reply, as Zendesk's trigger posts it.
const sampleBody = `<p>Sehr geehrte Damen und Herren,</p>
<p>in der Angelegenheit Ihres Mandanten Herrn Max Mustermann, Ihr Zeichen: MM-2026-0815,
teilen wir Ihnen mit, dass die Gesamtforderung zum heutigen Tag <b>1.234,56 €</b> beträgt.</p>
<p>Unsere Kundennummer: 4711-0815</p>
<p>Mit freundlichen Grüßen<br>Beispiel Inkasso GmbH<br>Forderungsmanagement</p>`

// sendSample posts a signed sample reply to a running service, so a
// newcomer can watch one email go through (see README).
func sendSample(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("send-sample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://localhost:8080/api/v1/zendesk/webhook", "webhook URL")
	ticket := fs.String("ticket", fmt.Sprint(time.Now().Unix()), "Zendesk ticket id")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	body, _ := json.Marshal(map[string]any{
		"ticket_id": *ticket, "from_email": "forderungen@beispiel-inkasso.de", "from_name": "Beispiel Inkasso GmbH",
		"subject": "AW: Anfrage Forderungshöhe Max Mustermann", "body_html": sampleBody,
		"received_at": time.Now().UTC().Format(time.RFC3339),
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret := getenv("WEBHOOK_SECRET"); secret != "" {
		ts := time.Now().UTC().Format(time.RFC3339)
		req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
		req.Header.Set("X-Zendesk-Webhook-Signature", handlers.Sign(secret, ts, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post sample: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%s %s\n", resp.Status, bytes.TrimSpace(out))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
