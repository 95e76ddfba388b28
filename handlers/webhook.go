package handlers

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/intake"
)

// Acceptor stores a webhook email.
type Acceptor interface {
	Accept(ctx context.Context, e intake.Email) (intake.Result, error)
}

// WebhookConfig holds the webhook's security and size settings.
type WebhookConfig struct {
	Secret       string
	Tolerance    time.Duration
	MaxBodyBytes int64
	// Timeout bounds the request so Zendesk (which gives up after ~10 s) gets a 503 it retries instead.
	Timeout time.Duration
	// UnverifiedMaxBytes bounds the bytes of bodies held at once before
	// their signature is checked (WEBHOOK_UNVERIFIED_MAX_BYTES; 0: 32 MiB).
	UnverifiedMaxBytes int64
	// BudgetWait is how long a request waits for room in that bound before
	// it gets 503 (0: 1 s).
	BudgetWait time.Duration
	// BodyGrace and MinBodyRate (bytes/s) bound how slowly a body may
	// arrive: after BodyGrace, MinBodyRate on average (0: 1 s, 1 MiB/s).
	BodyGrace   time.Duration
	MinBodyRate int64
}

type acceptedBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	EmailID uint64 `json:"email_id"`
}

// testBody answers a Zendesk "Test webhook" delivery.
type testBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// delivery is what the signature check found a request to be.
type delivery int

const (
	deliveryReal delivery = iota // signed with WEBHOOK_SECRET, or unsigned in development
	deliveryTest                 // signed with Zendesk's test secret only
)

// webhook is the Zendesk webhook handler's state.
type webhook struct {
	log      *slog.Logger
	cfg      WebhookConfig
	svc      Acceptor
	m        *Metrics
	now      func() time.Time
	budget   *bodyBudget
	warnOnce sync.Once
}

// handleWebhook receives Zendesk's POST: check what needs no body, read the
// body within the unverified-bytes budget, verify, decode, store, answer.
func handleWebhook(log *slog.Logger, cfg WebhookConfig, svc Acceptor, m *Metrics, now func() time.Time) gin.HandlerFunc {
	h := &webhook{log: log, cfg: cfg, svc: svc, m: m, now: now, budget: newBodyBudget(cfg)}
	return h.serve
}

func (h *webhook) serve(c *gin.Context) {
	body, kind, outcome, err := h.receive(c)
	if err != nil {
		h.m.webhook(outcome)
		writeError(c, h.log, err)
		return
	}
	if kind == deliveryTest {
		h.m.webhook("test")
		c.JSON(http.StatusOK, testBody{Status: "test", Message: "Zendesk test delivery verified; nothing was stored"})
		return
	}
	email, err := intake.Decode(body, h.now())
	if err != nil {
		h.m.webhook("invalid_payload")
		writeError(c, h.log, err)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.cfg.Timeout)
	defer cancel()
	res, err := h.svc.Accept(ctx, email)
	// The invocation id is not signed: logged to trace a delivery, never a key.
	inv := c.GetHeader(headerInvocationID)
	if !validRequestID.MatchString(inv) {
		inv = ""
	}
	switch {
	case err != nil:
		h.m.webhook("unavailable")
		h.log.ErrorContext(ctx, "webhook store failed", "invocation_id", inv, "error", err)
		writeError(c, h.log, models.Errorf(models.EUNAVAILABLE, "storage unavailable, retry later"))
	case res.Duplicate:
		h.m.webhook("duplicate")
		addLogAttrs(c, "email_id", res.ID, "invocation_id", inv)
		c.JSON(http.StatusOK, acceptedBody{Status: "duplicate", Message: "email already received", EmailID: res.ID})
	case res.Failed:
		// Stored, so Zendesk must not send it again: 200, as DESIGN.md §5
		// says; staff get the failure alert and may retry it after a fix.
		h.m.webhook("stored_failed")
		addLogAttrs(c, "email_id", res.ID, "invocation_id", inv, "fields", slices.Sorted(maps.Keys(email.Problems)))
		c.JSON(http.StatusOK, acceptedBody{Status: "accepted", EmailID: res.ID,
			Message: "email stored as failed: its content is unusable; staff are alerted and can retry it"})
	default:
		h.m.webhook("accepted")
		addLogAttrs(c, "email_id", res.ID, "invocation_id", inv, "warnings", len(email.Warnings))
		c.JSON(http.StatusOK, acceptedBody{Status: "accepted", Message: "email queued for processing", EmailID: res.ID})
	}
}

// receive returns the body of a delivery whose signature verifies, in the
// order DESIGN.md §5 sets: the size and the signature headers (present,
// fresh, well-formed) before a byte is read — so no "100 Continue" goes to
// a request that fails them — then the body, read within the
// unverified-bytes budget, then the signature over it. The budget is given
// back as soon as the signature is checked. On error, outcome names it for
// the metrics.
func (h *webhook) receive(c *gin.Context) (body []byte, kind delivery, outcome string, err error) {
	r := c.Request
	if r.ContentLength > h.cfg.MaxBodyBytes {
		return nil, 0, "invalid_payload", models.Errorf(models.ETOOLARGE, "body exceeds %d bytes", h.cfg.MaxBodyBytes)
	}
	signed := h.cfg.Secret != ""
	sig, ts := r.Header.Get(headerSignature), r.Header.Get(headerSignatureTS)
	stampErr := checkStamp(sig, ts, h.now(), h.cfg.Tolerance)
	if signed && stampErr != nil {
		return nil, 0, "invalid_signature", models.Errorf(models.EUNAUTHORIZED, "%s", stampErr.Error())
	}
	release, err := h.budget.reserve(r.Context(), r.ContentLength)
	if err != nil {
		return nil, 0, "busy", err
	}
	defer release()
	body, err = h.budget.read(c.Writer, r)
	if err != nil {
		return nil, 0, "invalid_payload", err
	}
	switch {
	case signed && signedWith(h.cfg.Secret, sig, ts, body):
		return body, deliveryReal, "", nil
	case stampErr == nil && signedWith(zendeskTestSecret, sig, ts, body):
		h.budget.recycle(body) // a test delivery's body is not read further
		return nil, deliveryTest, "", nil
	case !signed:
		h.warnOnce.Do(func() { h.log.Warn("WEBHOOK_SECRET is empty: accepting unsigned webhooks (development only)") })
		return body, deliveryReal, "", nil
	}
	h.budget.recycle(body)
	return nil, 0, "invalid_signature", models.Errorf(models.EUNAUTHORIZED, "%s", errSignatureInvalid.Error())
}
