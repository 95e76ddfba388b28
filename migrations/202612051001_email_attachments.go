package migrations

import "github.com/go-gormigrate/gormigrate/v2"

// emailAttachments is DESIGN.md §5's email_attachments, one row per
// attachment of an email (services/attachments writes it), plus the
// counters the stage decides with: attempts (downloads or reads tried) and
// timeouts (tries that ran out of ATTACHMENT_TIMEOUT), and whether the text
// was cut at ATTACHMENT_TEXT_MAX_CHARS. The text (up to 200,000 characters)
// goes to TOAST like any large value.
func emailAttachments() *gormigrate.Migration {
	return sqlMigration("202612051001_email_attachments", []string{`
CREATE TABLE email_attachments (
  id                 bigserial PRIMARY KEY,
  incoming_email_id  bigint NOT NULL REFERENCES incoming_emails (id) ON DELETE CASCADE,
  position           integer NOT NULL CHECK (position >= 0),
  filename           text NOT NULL DEFAULT '',
  content_type       text NOT NULL DEFAULT '',
  size_bytes         bigint CHECK (size_bytes >= 0),
  sha256             text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  status             text NOT NULL CHECK (status IN ('read','skipped','unreadable','failed')),
  reader             text CHECK (reader IN ('pdf_text','office','ocr','model','text')),
  pages              integer CHECK (pages >= 0),
  text               text,
  truncated          boolean NOT NULL DEFAULT false,
  error              text,
  attempts           integer NOT NULL DEFAULT 0,
  timeouts           integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incoming_email_id, position)
)`,
	}, []string{`DROP TABLE email_attachments`})
}
