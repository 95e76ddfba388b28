package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// ErrMalware is matched by errors.Is when Zendesk's attachment record says
// its malware scan found something: the file is not downloaded.
var ErrMalware = errors.New("Zendesk's malware scan flagged the file")

// recordPath is Zendesk's attachment API record, which describes the file
// instead of being it: a webhook's `url` is this when no content_url came.
var recordPath = regexp.MustCompile(`^/api/v2/attachments/[0-9]+(\.json)?$`)

// maxRecordBytes bounds the JSON record; Zendesk's are about 1 KiB.
const maxRecordBytes = 256 << 10

// attachmentRecord is the part of GET /api/v2/attachments/{id} we use.
type attachmentRecord struct {
	ContentURL        string `json:"content_url"`
	FileName          string `json:"file_name"`
	ContentType       string `json:"content_type"`
	Size              int64  `json:"size"`
	MalwareScanResult string `json:"malware_scan_result"`
}

// isRecord reports whether u asks the Zendesk API host for an attachment
// record; only then is the answer read as one.
func (f *Fetcher) isRecord(u *url.URL) bool {
	return f.sendsCredentials(u) && recordPath.MatchString(u.Path)
}

// readRecord reads an attachment record response.
func readRecord(resp *http.Response, u *url.URL) (attachmentRecord, error) {
	defer resp.Body.Close()
	if err := statusError(resp, u); err != nil {
		return attachmentRecord{}, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordBytes+1))
	if err != nil {
		return attachmentRecord{}, transportError(u, err)
	}
	var doc struct {
		Attachment *attachmentRecord `json:"attachment"`
	}
	if len(body) > maxRecordBytes || json.Unmarshal(body, &doc) != nil ||
		doc.Attachment == nil || doc.Attachment.ContentURL == "" {
		return attachmentRecord{}, models.Permanent(fmt.Errorf("GET %s: not a Zendesk attachment record with a content_url", redact(u)))
	}
	if doc.Attachment.MalwareScanResult == "malware_found" {
		return attachmentRecord{}, models.Permanent(fmt.Errorf("GET %s: %w", redact(u), ErrMalware))
	}
	return *doc.Attachment, nil
}

// followRecord requests the record's content_url, once and under the same
// rules as any URL: whatever it answers is the file, even another record.
func (f *Fetcher) followRecord(ctx context.Context, rec attachmentRecord, from *url.URL) (*http.Response, *url.URL, error) {
	if rec.Size > f.maxBytes {
		return nil, from, models.Permanent(fmt.Errorf("%w: %s gives the size as %d bytes, the limit is %d",
			ErrTooLarge, redact(from), rec.Size, f.maxBytes))
	}
	next, err := from.Parse(rec.ContentURL)
	if err != nil {
		return nil, from, models.Permanent(fmt.Errorf("%w: %s: the record's content_url is not a URL", ErrRefused, redact(from)))
	}
	return f.get(ctx, next)
}
