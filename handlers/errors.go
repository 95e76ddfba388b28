// Package handlers is the HTTP edge: routes, thin handlers, one JSON error
// shape, and the authentication middleware.
package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// statusOf maps domain error codes to HTTP status: the only such table.
var statusOf = map[string]int{
	models.EINVALID:      http.StatusBadRequest,
	models.EUNAUTHORIZED: http.StatusUnauthorized,
	models.ENOTFOUND:     http.StatusNotFound,
	models.ECONFLICT:     http.StatusConflict,
	models.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	models.ETOOMANY:      http.StatusTooManyRequests,
	models.EUNAVAILABLE:  http.StatusServiceUnavailable,
	models.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// writeError answers with the JSON error shape. Internal errors are logged
// here, once, and replaced by a generic message.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	var e *models.Error
	if !errors.As(err, &e) {
		log.ErrorContext(c.Request.Context(), "request failed", "route", c.FullPath(), "error", err)
		e = &models.Error{Code: models.EINTERNAL, Message: "internal error"}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 && e.Code != models.EUNAVAILABLE {
		e = &models.Error{Code: models.EINTERNAL, Message: "internal error"}
	}
	if e.Code == models.EUNAVAILABLE {
		c.Header("Retry-After", "5")
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Fields: e.Fields}})
}

// recovery turns a panic into the JSON 500 shape, logging the panic value's type only.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		log.ErrorContext(c.Request.Context(), "handler panic", "route", c.FullPath())
		writeError(c, log, errors.New("panic"))
	})
}
