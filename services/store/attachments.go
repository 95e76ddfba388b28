package store

import (
	"context"
	"fmt"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Attachments returns the email's stored attachment rows, text included,
// by position: what the attachment stage reuses on a retry and hands to
// extraction.
func (s *Store) Attachments(ctx context.Context, emailID uint64) ([]models.EmailAttachment, error) {
	var rows []models.EmailAttachment
	err := s.db.WithContext(ctx).Where("incoming_email_id = ?", emailID).Order("position").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read attachments of email %d: %w", emailID, err)
	}
	return rows, nil
}

// AttachmentsWithoutText returns the email's attachment rows by position
// without their text, which can be 200,000 characters each: what the job
// detail shows.
func (s *Store) AttachmentsWithoutText(ctx context.Context, emailID uint64) ([]models.EmailAttachment, error) {
	var rows []models.EmailAttachment
	err := s.db.WithContext(ctx).Omit("text").Where("incoming_email_id = ?", emailID).Order("position").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read attachments of email %d: %w", emailID, err)
	}
	return rows, nil
}

// saveAttachmentsSQL writes rows of one email in one statement, only while
// the attempt's lease token owns the email, and never over a settled row
// (read, skipped or unreadable: a file once read is not read again). It
// returns whether the token owned the email and how many rows it wrote.
const saveAttachmentsSQL = `
WITH owner AS (
  SELECT id FROM incoming_emails WHERE id = ? AND lease_token = ?
), saved AS (
  INSERT INTO email_attachments AS a (incoming_email_id, position, filename, content_type, size_bytes, sha256,
    status, reader, pages, text, truncated, error, attempts, timeouts)
  SELECT owner.id, v.* FROM owner CROSS JOIN unnest(?::int[], ?::text[], ?::text[], ?::bigint[], ?::text[],
    ?::text[], ?::text[], ?::int[], ?::text[], ?::boolean[], ?::text[], ?::int[], ?::int[])
    AS v(position, filename, content_type, size_bytes, sha256, status, reader, pages, text, truncated, error,
         attempts, timeouts)
  ON CONFLICT (incoming_email_id, position) DO UPDATE SET
    filename = excluded.filename, content_type = excluded.content_type, size_bytes = excluded.size_bytes,
    sha256 = excluded.sha256, status = excluded.status, reader = excluded.reader, pages = excluded.pages,
    text = excluded.text, truncated = excluded.truncated, error = excluded.error,
    attempts = excluded.attempts, timeouts = excluded.timeouts, updated_at = now()
  WHERE a.status <> ALL(?::text[])
  RETURNING 1
)
SELECT (SELECT count(*) FROM owner), (SELECT count(*) FROM saved)`

// SaveAttachments stores rows (one per position) for job's email, durably:
// a row stands for a download and a read that may have taken a minute, and
// is written before extraction uses it, so neither a retry nor a restart
// reads a file again that was read. It returns models.ErrLeaseLost when
// job's lease token no longer owns the email (nothing is written). A
// settled row is left as it is (only an attempt that lost its lease can
// have written it meanwhile).
func (s *Store) SaveAttachments(ctx context.Context, job *models.Job, rows []models.EmailAttachment) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	pos, pages, attempts, timeouts := make([]int, n), make([]*int, n), make([]int, n), make([]int, n)
	names, types, statuses := make([]string, n), make([]string, n), make([]string, n)
	sums, readers, texts, errs := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	sizes, truncated := make([]*int64, n), make([]bool, n)
	for i, r := range rows {
		pos[i], names[i], types[i], sizes[i], sums[i] = r.Position, r.Filename, r.ContentType, r.SizeBytes, r.SHA256
		statuses[i], readers[i], pages[i], texts[i], truncated[i] = r.Status, r.Reader, r.Pages, r.Text, r.Truncated
		errs[i], attempts[i], timeouts[i] = r.Error, r.Attempts, r.Timeouts
	}
	var owned, saved int64
	err := s.db.WithContext(ctx).Raw(saveAttachmentsSQL, job.Email.ID, job.Token,
		array(pos), array(names), array(types), array(sizes), array(sums), array(statuses), array(readers),
		array(pages), array(texts), array(truncated), array(errs), array(attempts), array(timeouts),
		array(models.SettledAttachment())).
		Row().Scan(&owned, &saved)
	if err != nil {
		return fmt.Errorf("save attachments of email %d: %w", job.Email.ID, err)
	}
	if owned == 0 {
		return models.ErrLeaseLost
	}
	return nil
}
