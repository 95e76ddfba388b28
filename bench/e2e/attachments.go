package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/zendesktest"
)

// attachmentServer is the -attachments mode's fake Zendesk: a TLS content
// host on 127.0.0.1 serving real statements (a two-page text PDF, a DOCX,
// a 100-row XLSX and a one-page scan), which the service trusts through
// SSL_CERT_FILE and may reach through ATTACHMENT_ALLOWED_HOSTS.
type attachmentServer struct {
	zd    *zendesktest.Server
	files []webhooks.Attachment
	env   []string
}

func startAttachmentServer(tmp string) (*attachmentServer, error) {
	zd := zendesktest.Start()
	s := &attachmentServer{zd: zd}
	for _, f := range []struct {
		name, typ string
		make      func() ([]byte, error)
	}{
		{"forderung.pdf", "application/pdf", func() ([]byte, error) { return readtest.StatementPDF(2) }},
		{"forderung.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", readtest.StatementDOCX},
		{"konto.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			func() ([]byte, error) { return readtest.StatementXLSX(100) }},
		{"scan.pdf", "application/pdf", func() ([]byte, error) { return readtest.ScannedPDF(1) }},
	} {
		data, err := f.make()
		if err != nil {
			zd.Close()
			return nil, fmt.Errorf("make %s: %w", f.name, err)
		}
		zd.Add(f.name, f.typ, data)
		// The content host's own URL: the API host would want the token,
		// which the service sends only to <subdomain>.zendesk.com.
		s.files = append(s.files, webhooks.Attachment{URL: zd.Content.URL + "/files/" + f.name, Filename: f.name,
			ContentType: f.typ, Size: int64(len(data))})
	}
	cert := filepath.Join(tmp, "zendesk.pem")
	if err := os.WriteFile(cert, zd.CertPEM(), 0o600); err != nil {
		zd.Close()
		return nil, err
	}
	s.env = []string{"SSL_CERT_FILE=" + cert, "ZENDESK_SUBDOMAIN=kanzlei", "ZENDESK_EMAIL=" + zd.Email,
		"ZENDESK_API_TOKEN=" + zd.APIToken, "ATTACHMENT_ALLOWED_HOSTS=" + zd.Content.Listener.Addr().String(),
		"ENVIRONMENT=development"}
	return s, nil
}

func (s *attachmentServer) close() { s.zd.Close() }

// printAttachments reports the run's attachment rows by status and reader.
func printAttachments(ctx context.Context, conn *pgx.Conn, w io.Writer) error {
	rows, err := conn.Query(ctx, `SELECT status, coalesce(reader, '-'), count(*) FROM email_attachments
GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("count attachments: %w", err)
	}
	defer rows.Close()
	fmt.Fprint(w, "attachments:")
	for rows.Next() {
		var status, reader string
		var n int
		if err := rows.Scan(&status, &reader, &n); err != nil {
			return err
		}
		fmt.Fprintf(w, " [%s/%s ×%d]", status, reader, n)
	}
	fmt.Fprintln(w)
	return rows.Err()
}
