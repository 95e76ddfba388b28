package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func attachmentRow(position int, status, text string) models.EmailAttachment {
	row := models.EmailAttachment{Position: position, Filename: "forderung.pdf", ContentType: "application/pdf",
		Status: status, Attempts: 1}
	if status == models.AttachmentRead {
		size, sum, reader, pages := int64(1234), strings.Repeat("ab", 32), "pdf_text", 2
		row.SizeBytes, row.SHA256, row.Reader, row.Pages, row.Text = &size, &sum, &reader, &pages, &text
	} else {
		row.Error = &text
	}
	return row
}

func TestSaveAttachmentsWritesUnderTheLeaseAndKeepsSettledRows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	job := f.job(t, models.StatusReadingAttachments, "t1")

	require.NoError(t, f.st.SaveAttachments(f.ctx, job, []models.EmailAttachment{
		attachmentRow(0, models.AttachmentRead, "Gesamtforderung 1.212,40 €"),
		attachmentRow(1, models.AttachmentFailed, "GET https://x.zdusercontent.com/a: status 503"),
		attachmentRow(2, models.AttachmentUnreadable, "encrypted PDF"),
	}))
	rows, err := f.st.Attachments(f.ctx, job.Email.ID)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "Gesamtforderung 1.212,40 €", *rows[0].Text)
	require.Equal(t, "pdf_text", *rows[0].Reader)
	require.Equal(t, 2, *rows[0].Pages)
	require.True(t, rows[0].Settled())
	require.False(t, rows[1].Settled())

	// A later write replaces a failed row and leaves settled ones alone.
	again := attachmentRow(1, models.AttachmentRead, "Saldo 99,00")
	again.Attempts = 2
	require.NoError(t, f.st.SaveAttachments(f.ctx, job, []models.EmailAttachment{
		attachmentRow(0, models.AttachmentFailed, "must not replace a read row"), again,
	}))
	rows, err = f.st.Attachments(f.ctx, job.Email.ID)
	require.NoError(t, err)
	require.Equal(t, models.AttachmentRead, rows[0].Status)
	require.Equal(t, "Gesamtforderung 1.212,40 €", *rows[0].Text)
	require.Equal(t, models.AttachmentRead, rows[1].Status)
	require.Equal(t, 2, rows[1].Attempts)
	require.Nil(t, rows[1].Error)
	require.Equal(t, "encrypted PDF", *rows[2].Error)

	// The detail's read leaves the text out.
	short, err := f.st.AttachmentsWithoutText(f.ctx, job.Email.ID)
	require.NoError(t, err)
	require.Len(t, short, 3)
	require.Nil(t, short[0].Text)
	require.Equal(t, "forderung.pdf", short[0].Filename)

	// An attempt that lost its lease writes nothing.
	stale := *job
	stale.Token = "an-older-attempt"
	err = f.st.SaveAttachments(f.ctx, &stale, []models.EmailAttachment{attachmentRow(3, models.AttachmentSkipped, "x")})
	require.ErrorIs(t, err, models.ErrLeaseLost)
	rows, err = f.st.Attachments(f.ctx, job.Email.ID)
	require.NoError(t, err)
	require.Len(t, rows, 3)
}
