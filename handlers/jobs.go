package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

// JobService is the admin's view of the pipeline (services/jobs.Service).
type JobService interface {
	List(ctx context.Context, f jobs.Filter) (jobs.Page, error)
	Get(ctx context.Context, id uint64) (jobs.Detail, error)
	Retry(ctx context.Context, id uint64) error
	RetryBulk(ctx context.Context, b jobs.BulkRetry) (jobs.BulkResult, error)
}

// maxBulkBody bounds the bulk retry request body.
const maxBulkBody = 64 << 10

type retriedBody struct {
	ID     uint64        `json:"id"`
	Status models.Status `json:"status"`
}

func handleListJobs(log *slog.Logger, svc JobService) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := listFilter(c.Request.URL.Query(), time.RFC3339)
		if err != nil {
			writeError(c, log, err)
			return
		}
		page, err := svc.List(c.Request.Context(), f)
		if err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, page)
	}
}

func handleGetJob(log *slog.Logger, svc JobService) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := jobID(c.Param("id"))
		if err != nil {
			writeError(c, log, err)
			return
		}
		d, err := svc.Get(c.Request.Context(), id)
		if err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, d)
	}
}

func handleRetryJob(log *slog.Logger, svc JobService) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := jobID(c.Param("id"))
		if err != nil {
			writeError(c, log, err)
			return
		}
		if err := svc.Retry(c.Request.Context(), id); err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, retriedBody{ID: id, Status: models.StatusQueued})
	}
}

// bulkRetryBody is the JSON body of POST /api/v1/jobs/retry.
type bulkRetryBody struct {
	Status string  `json:"status"`
	From   string  `json:"from"`
	Since  *string `json:"since"`
	Until  *string `json:"until"`
	DryRun bool    `json:"dry_run"`
	Limit  *int    `json:"limit"`
}

func handleRetryJobs(log *slog.Logger, svc JobService) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := decodeBulkRetry(c.Writer, c.Request)
		if err != nil {
			writeError(c, log, err)
			return
		}
		res, err := svc.RetryBulk(c.Request.Context(), b)
		if err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, res)
	}
}

func decodeBulkRetry(w http.ResponseWriter, r *http.Request) (jobs.BulkRetry, error) {
	raw, err := readBody(w, r, maxBulkBody)
	if err != nil {
		return jobs.BulkRetry{}, err
	}
	var p bulkRetryBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return jobs.BulkRetry{}, models.Errorf(models.EINVALID, "body must be a JSON object with known fields: %s", jsonProblem(err))
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return jobs.BulkRetry{}, models.Errorf(models.EINVALID, "body must be one JSON object, with nothing after it")
	}
	fields := map[string]string{}
	b := jobs.BulkRetry{Status: models.Status(p.Status), From: p.From, DryRun: p.DryRun}
	b.Since = timeParam(p.Since, "since", fields, time.RFC3339)
	b.Until = timeParam(p.Until, "until", fields, time.RFC3339)
	if p.Limit != nil {
		if *p.Limit < 1 {
			fields["limit"] = "must be at least 1"
		}
		b.Limit = *p.Limit
	}
	if len(fields) > 0 {
		return jobs.BulkRetry{}, &models.Error{Code: models.EINVALID, Message: "invalid parameters", Fields: fields}
	}
	return b, nil
}

// listFilter reads the list's query parameters; times in layouts (the API
// takes RFC 3339 only, the page also plain dates).
func listFilter(q url.Values, layouts ...string) (jobs.Filter, error) {
	fields := map[string]string{}
	f := jobs.Filter{Status: models.Status(strings.TrimSpace(q.Get("status"))), From: q.Get("from")}
	if f.Status != "" && !f.Status.Valid() {
		fields["status"] = "unknown status"
	}
	f.Since = timeParam(nonEmpty(q.Get("since")), "since", fields, layouts...)
	f.Until = timeParam(nonEmpty(q.Get("until")), "until", fields, layouts...)
	if s := strings.TrimSpace(q.Get("limit")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > jobs.MaxLimit {
			fields["limit"] = fmt.Sprintf("must be a number between 1 and %d", jobs.MaxLimit)
		}
		f.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		cur, err := jobs.DecodeCursor(s)
		if err != nil {
			fields["cursor"] = "is not a cursor this service issued"
		}
		f.After = &cur
	}
	if len(fields) > 0 {
		return jobs.Filter{}, &models.Error{Code: models.EINVALID, Message: "invalid parameters", Fields: fields}
	}
	return f, nil
}

func nonEmpty(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

// timeParam parses v in the first of layouts that fits, in UTC; nil when v
// is nil or (with a message in fields[name]) when no layout fits.
func timeParam(v *string, name string, fields map[string]string, layouts ...string) *time.Time {
	if v == nil {
		return nil
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, strings.TrimSpace(*v)); err == nil {
			t = t.UTC()
			return &t
		}
	}
	fields[name] = "must be an RFC 3339 time, e.g. 2026-03-25T05:09:27Z"
	return nil
}

// jobID parses the :id path segment; anything but a positive number is EINVALID.
func jobID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 || id > 1<<63-1 {
		return 0, &models.Error{Code: models.EINVALID, Message: "invalid job id", Fields: map[string]string{"id": "must be a positive whole number"}}
	}
	return id, nil
}
