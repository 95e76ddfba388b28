package handlers_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func TestAdminDetailShowsAttachments(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.insert(t, fixture{Status: models.StatusCompleted})
	size, reader, pages, text, reason := int64(3<<20), "pdf_text", 2, "Gesamtforderung <b>1.212,40</b> €", "encrypted PDF"
	require.NoError(t, e.db.Create(&models.EmailAttachment{IncomingEmailID: id, Position: 0, Filename: "forderung.pdf",
		ContentType: "application/pdf", SizeBytes: &size, Status: models.AttachmentRead, Reader: &reader, Pages: &pages,
		Text: &text}).Error)
	require.NoError(t, e.db.Create(&models.EmailAttachment{IncomingEmailID: id, Position: 1, Filename: "geheim.pdf",
		Status: models.AttachmentUnreadable, Error: &reason}).Error)
	require.NoError(t, e.db.Exec(`UPDATE incoming_emails SET extracted_data = ? WHERE id = ?`, models.MustJSON(models.ExtractedData{
		AmountEvidence: []models.AmountEvidence{{Source: models.AttachmentSource(0), Amount: 1212.40, Excerpt: text, Chosen: true}}}), id).Error)

	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id), nil).StatusCode)
	require.Contains(t, b.last, `id="attachments"`)
	require.Contains(t, b.last, "<td>forderung.pdf</td><td>application/pdf</td><td class=\"num\">3.0 MiB</td><td>read</td><td>pdf_text, 2 p.</td>")
	require.Contains(t, b.last, "<code>Gesamtforderung &lt;b&gt;1.212,40&lt;/b&gt; €</code>", "the excerpt, escaped")
	require.Contains(t, b.last, `unreadable<br><span class="mut">encrypted PDF</span>`)

	status, body := e.call(t, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", id), "Bearer "+adminToken, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"attachments":[{"position":0,"filename":"forderung.pdf","content_type":"application/pdf",`+
		`"size_bytes":3145728,"status":"read","reader":"pdf_text","pages":2,"error":null,"excerpt":"Gesamtforderung \u003cb\u003e1.212,40\u003c/b\u003e €"}`)
}
