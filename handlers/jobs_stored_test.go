package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

// storeFailed stores raw as intake stores a delivery it could not use:
// failed, its fields empty, its raw payload and warnings kept, with msg as
// its error. With a raw body the current decoder accepts, it stands for a
// delivery an older version refused.
func (e *jobsEnv) storeFailed(t *testing.T, raw []byte, warnings ...string) uint64 {
	t.Helper()
	row := models.IncomingEmail{DedupKey: "body:" + apptest.RandomID(), RawPayload: raw,
		ReceivedAt: time.Now().UTC(), AttachmentURLs: models.JSON("[]")}
	if warnings != nil {
		row.IntakeWarnings = models.MustJSON(warnings)
	}
	id, err := e.db.Store(t).InsertFailed(context.Background(), row, "unusable delivery: ticket_id: required")
	require.NoError(t, err)
	require.NotZero(t, id)
	return id
}

func (e *jobsEnv) row(t *testing.T, id uint64) models.IncomingEmail {
	t.Helper()
	var row models.IncomingEmail
	require.NoError(t, e.db.Take(&row, id).Error)
	return row
}

// decodable is a body today's decoder takes, with one fix-up to note.
const decodable = `{"ticket_id":"T-9","from_email":"Inkasso AG <Forderung@Inkasso.example>","subject":"AW: Anfrage",
	"body_text":"Die Forderung beträgt 1.234,56 EUR.","attachments":[{"content_url":"https://acme.zendesk.com/f/1","file_name":"F.pdf","size":"12"}]}`

// TestRetryJobRedecodes: a manual retry of a delivery intake stored failed
// decodes its raw payload again with the current decoder; one it can use
// now is filled in from it and queued.
func TestRetryJobRedecodes(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.storeFailed(t, []byte(decodable))
	stored := e.row(t, id)
	require.Empty(t, stored.ZendeskTicketID)

	code, body := e.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/retry", id), nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"id":%d,"status":"queued"}`, id), string(body))
	row := e.row(t, id)
	require.Equal(t, models.StatusQueued, row.ProcessingStatus)
	require.Nil(t, row.ProcessingError)
	require.Equal(t, "T-9", row.ZendeskTicketID)
	require.Equal(t, "forderung@inkasso.example", row.FromEmail)
	require.Equal(t, "Inkasso AG", row.FromName)
	require.Equal(t, "AW: Anfrage", row.Subject)
	require.Equal(t, "Die Forderung beträgt 1.234,56 EUR.", row.RawBodyText)
	require.JSONEq(t, `[{"url":"https://acme.zendesk.com/f/1","filename":"F.pdf","size":12}]`, string(row.AttachmentURLs))
	require.JSONEq(t, `["from_email given as Name <address>"]`, string(row.IntakeWarnings))
	require.WithinDuration(t, stored.CreatedAt, row.ReceivedAt, time.Millisecond, "no received_at: the time it was received, not of the retry")
	require.Equal(t, stored.DedupKey, row.DedupKey, "the delivery keeps its identity")
	require.Equal(t, []byte(decodable), row.RawPayload, "kept for staff and later retries")
	require.Equal(t, 1, e.pusher.pushes(id))

	code, _ = e.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/retry", id), nil)
	require.Equal(t, http.StatusConflict, code, "no longer failed")
}

// TestRetryJobStillUndecodable: a stored delivery the current decoder
// still cannot use gets 409 naming the fields, and nothing changes.
func TestRetryJobStillUndecodable(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.storeFailed(t, []byte(`{"from_email":"nope","body_text":"x"}`))
	before := e.row(t, id)

	code, body := e.admin(t, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/retry", id), nil)
	require.Equal(t, http.StatusConflict, code, string(body))
	er := decodeError(t, body)
	require.Equal(t, map[string]string{"ticket_id": "required", "from_email": "must be a valid e-mail address"}, er.Error.Fields)
	after := e.row(t, id)
	require.Equal(t, before, after, "nothing changed")
	require.Zero(t, e.pusher.pushes(id))
}

// TestRetryJobsBulkRedecodes: the bulk retry decodes stored deliveries
// again too: the usable ones are queued with the plain failed jobs, the
// others are listed and stay failed; a dry run says the same.
func TestRetryJobsBulkRedecodes(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	plain := e.insert(t, fixture{Status: models.StatusFailed})
	usable := e.storeFailed(t, []byte(decodable))
	unusable := e.storeFailed(t, []byte(`{"ticket_id":1,"from_email":"nope","body_text":"x"}`))

	bulk := func(dry bool) jobs.BulkResult {
		code, body := e.admin(t, http.MethodPost, "/api/v1/jobs/retry", map[string]any{"status": "failed", "dry_run": dry})
		require.Equal(t, http.StatusOK, code, string(body))
		var res jobs.BulkResult
		require.NoError(t, json.Unmarshal(body, &res))
		return res
	}
	res := bulk(true)
	require.Equal(t, jobs.BulkResult{DryRun: true, Matched: 3, IDs: []uint64{usable, plain},
		Undecodable: 1, UndecodableIDs: []uint64{unusable}}, res)
	require.Equal(t, models.StatusFailed, e.row(t, usable).ProcessingStatus, "a dry run changes nothing")

	res = bulk(false)
	require.Equal(t, jobs.BulkResult{Matched: 3, Retried: 2, IDs: []uint64{usable, plain},
		Undecodable: 1, UndecodableIDs: []uint64{unusable}}, res)
	require.Equal(t, "T-9", e.row(t, usable).ZendeskTicketID)
	require.Equal(t, models.StatusQueued, e.row(t, usable).ProcessingStatus)
	require.Equal(t, models.StatusQueued, e.row(t, plain).ProcessingStatus)
	require.Equal(t, models.StatusFailed, e.row(t, unusable).ProcessingStatus)
	require.Equal(t, 1, e.pusher.pushes(usable))
	require.Zero(t, e.pusher.pushes(unusable))
}

// TestGetJobShowsRawPayload: the detail shows intake_warnings and, for a
// delivery intake stored failed, its raw payload as text (bytes that are
// not UTF-8 replaced), capped with a flag.
func TestGetJobShowsRawPayload(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	raw := []byte("{\"from_email\":\"nope\",\"subject\":\"\xff\xfe\",\"body_text\":\"NUL \\u0000\"}")
	id := e.storeFailed(t, raw, "subject contained NUL characters or invalid UTF-8 (removed)")
	big := e.storeFailed(t, []byte(`{"body_text":"`+strings.Repeat("ä", jobs.MaxRawPayloadShown)+`"}`))
	plain := e.insert(t, fixture{Status: models.StatusCompleted})

	get := func(id uint64) map[string]any {
		code, body := e.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", id), nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var d map[string]any
		require.NoError(t, json.Unmarshal(body, &d))
		return d
	}
	d := get(id)
	require.Equal(t, "{\"from_email\":\"nope\",\"subject\":\"\uFFFD\",\"body_text\":\"NUL \\u0000\"}", d["raw_payload"])
	require.EqualValues(t, len(raw), d["raw_payload_bytes"])
	require.Equal(t, false, d["raw_payload_truncated"])
	require.Equal(t, []any{"subject contained NUL characters or invalid UTF-8 (removed)"}, d["intake_warnings"])
	require.Equal(t, "unusable delivery: ticket_id: required", d["processing_error"])

	d = get(big)
	require.Equal(t, true, d["raw_payload_truncated"])
	shown := d["raw_payload"].(string)
	require.LessOrEqual(t, len(shown), jobs.MaxRawPayloadShown)
	require.True(t, utf8.ValidString(shown))
	require.NotContains(t, shown, "\uFFFD", "the cut falls between characters")
	require.EqualValues(t, 2*jobs.MaxRawPayloadShown+len(`{"body_text":""}`), d["raw_payload_bytes"])

	d = get(plain)
	require.Nil(t, d["raw_payload"])
	require.Equal(t, []any{}, d["intake_warnings"])
}

// TestAdminPageShowsRawPayload: the admin page shows the warnings and the
// raw payload, escaped, and a retry of a delivery that still cannot be
// used says so and changes nothing.
func TestAdminPageShowsRawPayload(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	id := e.storeFailed(t, []byte(`{"from_email":"<script>alert(1)</script>","body_text":"x"}`), "from_email given as Name <address>")
	b := newBrowser(t, e)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminToken).StatusCode)
	res := b.do(http.MethodGet, fmt.Sprintf("/admin/jobs/%d", id), nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, b.last, `<pre id="raw-payload">{&#34;from_email&#34;:&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;`)
	require.NotContains(t, b.last, "<script>")
	require.Contains(t, b.last, "<li>from_email given as Name &lt;address&gt;</li>")

	res = b.do(http.MethodPost, fmt.Sprintf("/admin/jobs/%d/retry", id), url.Values{"csrf_token": {b.csrf()}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Contains(t, res.Header.Get("Location"), "problem=undecodable")
	require.Equal(t, models.StatusFailed, e.row(t, id).ProcessingStatus)
}
