package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

// ReviewService is the review queue (services/review.Service).
type ReviewService interface {
	List(ctx context.Context, f review.Filter) (review.Queue, error)
	Decide(ctx context.Context, id uint64, r review.Request) error
	Case(ctx context.Context, id uint64) (review.Case, error)
	Inquiries(ctx context.Context, ids []uint64) (map[uint64]models.CreditorInquiry, error)
}

// maxReviewBody bounds a decision's body.
const maxReviewBody = 16 << 10

// reviewBody is the JSON body of POST /api/v1/jobs/:id/review.
type reviewBody struct {
	Action    string   `json:"action"`
	InquiryID *uint64  `json:"inquiry_id"`
	Amount    *float64 `json:"amount"`
	Note      string   `json:"note"`
}

type decidedBody struct {
	ID     uint64 `json:"id"`
	Action string `json:"action"`
}

func handleListReviews(log *slog.Logger, svc ReviewService) gin.HandlerFunc {
	return func(c *gin.Context) {
		q := c.Request.URL.Query()
		f := review.Filter{Reason: strings.TrimSpace(q.Get("reason")), From: q.Get("from")}
		fields := map[string]string{}
		if s := strings.TrimSpace(q.Get("limit")); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > jobs.MaxLimit {
				fields["limit"] = "must be a number between 1 and " + strconv.Itoa(jobs.MaxLimit)
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
			writeError(c, log, &models.Error{Code: models.EINVALID, Message: "invalid parameters", Fields: fields})
			return
		}
		out, err := svc.List(c.Request.Context(), f)
		if err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, out)
	}
}

func handleDecideReview(log *slog.Logger, svc ReviewService) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := jobID(c.Param("id"))
		if err != nil {
			writeError(c, log, err)
			return
		}
		b, err := decodeReview(c.Writer, c.Request)
		if err != nil {
			writeError(c, log, err)
			return
		}
		err = svc.Decide(c.Request.Context(), id, review.Request{Action: b.Action, InquiryID: b.InquiryID,
			Amount: b.Amount, Note: b.Note, DecidedBy: "api"})
		if err != nil {
			writeError(c, log, err)
			return
		}
		c.JSON(http.StatusOK, decidedBody{ID: id, Action: b.Action})
	}
}

// decodeReview reads one strict JSON object: unknown fields and anything
// after the object are refused.
func decodeReview(w http.ResponseWriter, r *http.Request) (reviewBody, error) {
	raw, err := readBody(w, r, maxReviewBody)
	if err != nil {
		return reviewBody{}, err
	}
	var b reviewBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return reviewBody{}, models.Errorf(models.EINVALID, "body must be a JSON object with known fields: %s", jsonProblem(err))
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return reviewBody{}, models.Errorf(models.EINVALID, "body must be one JSON object, with nothing after it")
	}
	return b, nil
}
