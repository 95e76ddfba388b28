package handlers

import (
	"context"
	"log/slog"
	"net/http"
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
}

type acceptedBody struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	EmailID uint64 `json:"email_id"`
}

// handleWebhook receives Zendesk's POST: verify, validate, store, dispatch, answer.
func handleWebhook(log *slog.Logger, cfg WebhookConfig, svc Acceptor, m *Metrics, now func() time.Time) gin.HandlerFunc {
	var warnOnce sync.Once
	return func(c *gin.Context) {
		body, err := readBody(c.Writer, c.Request, cfg.MaxBodyBytes)
		if err != nil {
			m.webhook("invalid_payload")
			writeError(c, log, err)
			return
		}
		if cfg.Secret == "" {
			warnOnce.Do(func() { log.Warn("WEBHOOK_SECRET is empty: accepting unsigned webhooks (development only)") })
		} else if err := verifySignature([]byte(cfg.Secret), c.GetHeader(headerSignature), c.GetHeader(headerSignatureTS), body, now(), cfg.Tolerance); err != nil {
			m.webhook("invalid_signature")
			writeError(c, log, models.Errorf(models.EUNAUTHORIZED, "%s", err.Error()))
			return
		}
		email, err := decodeWebhook(body, c.GetHeader(headerInvocationID), now().UTC())
		if err != nil {
			m.webhook("invalid_payload")
			writeError(c, log, err)
			return
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), cfg.Timeout)
		defer cancel()
		res, err := svc.Accept(ctx, email)
		if err != nil {
			m.webhook("unavailable")
			log.ErrorContext(ctx, "webhook store failed", "error", err)
			writeError(c, log, models.Errorf(models.EUNAVAILABLE, "storage unavailable, retry later"))
			return
		}
		if res.Duplicate {
			m.webhook("duplicate")
			c.JSON(http.StatusOK, acceptedBody{Status: "duplicate", Message: "email already received", EmailID: res.ID})
			return
		}
		m.webhook("accepted")
		c.JSON(http.StatusOK, acceptedBody{Status: "accepted", Message: "email queued for processing", EmailID: res.ID})
	}
}
