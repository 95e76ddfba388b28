package migrations

import "github.com/go-gormigrate/gormigrate/v2"

func incomingEmails() *gormigrate.Migration {
	return sqlMigration("202611290001_incoming_emails", []string{`
CREATE TABLE incoming_emails (
  id                  bigserial PRIMARY KEY,
  zendesk_ticket_id   text NOT NULL,
  zendesk_webhook_id  text UNIQUE,
  dedup_key           text NOT NULL UNIQUE,
  from_email          text NOT NULL,
  from_name           text NOT NULL DEFAULT '',
  subject             text NOT NULL DEFAULT '',
  raw_body_html       text NOT NULL DEFAULT '',
  raw_body_text       text NOT NULL DEFAULT '',
  cleaned_body        text,
  token_count_before  integer,
  token_count_after   integer,
  extracted_data      jsonb,
  processing_status   text NOT NULL DEFAULT 'received' CHECK (processing_status IN
    ('received','queued','processing','parsed','extracting','extracted','matching',
     'retrying','completed','not_creditor_reply','failed')),
  processing_error    text,
  matched_inquiry_id  bigint,
  match_status        text CHECK (match_status IN ('auto_matched','needs_review','no_match')),
  match_confidence    double precision CHECK (match_confidence BETWEEN 0 AND 1),
  match_details       jsonb,
  received_at         timestamptz NOT NULL,
  started_at          timestamptz,
  completed_at        timestamptz,
  processed_at        timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  retry_count         integer NOT NULL DEFAULT 0,
  rescue_count        integer NOT NULL DEFAULT 0,
  attempt             integer NOT NULL DEFAULT 0,
  attachment_urls     jsonb NOT NULL DEFAULT '[]',
  sync_status         text NOT NULL DEFAULT 'not_applicable' CHECK (sync_status IN
    ('pending','synced','failed','not_applicable')),
  sync_error          text,
  lease_token         text,
  lease_until         timestamptz,
  lease_owner         text,
  next_attempt_at     timestamptz,
  last_dispatched_at  timestamptz
)`,
		`CREATE INDEX incoming_emails_status_received_idx ON incoming_emails (processing_status, received_at)`,
		`CREATE INDEX incoming_emails_lease_idx ON incoming_emails (lease_until)
  WHERE processing_status IN ('processing','parsed','extracting','extracted','matching')`,
		`CREATE INDEX incoming_emails_waiting_idx ON incoming_emails (next_attempt_at)
  WHERE processing_status IN ('received','queued','retrying')`,
		`CREATE INDEX incoming_emails_received_id_idx ON incoming_emails (received_at DESC, id DESC)`,
	}, []string{`DROP TABLE incoming_emails`})
}
