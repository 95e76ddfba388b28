package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lawfirm/creditor-email-matcher/config"
	"github.com/lawfirm/creditor-email-matcher/services/attachments"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/fetch"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// attachmentStage builds the attachment downloader, the readers and the
// pipeline stage over them, and the closer that removes the downloader's
// directory once the pool has stopped. It fails when a reader program is
// missing (README: what to install). scans reads scanned PDFs and images:
// the Claude Transcriber with LLM_PROVIDER=claude, nil for tesseract OCR.
func attachmentStage(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger,
	scans read.Transcriber) (*attachments.Stage, closer, error) {
	fc := cfg.AttachmentFetch()
	fc.MaxBytes, fc.Timeout, fc.MaxConcurrent = cfg.AttachmentMaxBytes, cfg.AttachmentTimeout, cfg.WorkerConcurrency
	f, err := fetch.New(fc)
	if err != nil {
		return nil, closer{}, fmt.Errorf("attachment downloads: %w", err)
	}
	reader, err := read.New(ctx, read.Config{MaxBytes: cfg.AttachmentMaxBytes, MaxPages: cfg.AttachmentMaxPages,
		Timeout: cfg.AttachmentTimeout, TextMaxChars: cfg.AttachmentTextMaxChars, Transcriber: scans})
	if err != nil {
		_ = f.Close()
		return nil, closer{}, fmt.Errorf("attachment readers: %w", err)
	}
	if !f.Configured() {
		log.Warn("ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN not set: attachments are recorded skipped")
	}
	scanReader := read.ReaderOCR
	if scans != nil {
		scanReader = read.ReaderModel
	}
	log.Info("attachment readers ready", "isolation", string(reader.Sandbox().Isolation()), "scans", scanReader)
	stage := attachments.New(st, f, reader, attachments.Config{EmailTimeout: cfg.AttachmentEmailTimeout,
		FileTimeout: cfg.AttachmentTimeout, MaxRetries: cfg.JobMaxRetries})
	return stage, closer{func(context.Context) { _ = f.Close() }}, nil
}
