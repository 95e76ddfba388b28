package handlers

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	rec := e.send(t, http.MethodGet, "/healthz", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	require.NotEmpty(t, rec.Header().Get(headerRequestID))
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})
	rec := e.send(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ok","checks":{"postgres":"ok","redis":"ok"}}`, rec.Body.String())
}

func TestReadyzRedisDown(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t).DB
	e := newWHEnv(t, whOptions{db: db, checks: map[string]Pinger{"postgres": pingDB(db), "redis": pingRedis(deadRedis(t))}})
	rec := e.send(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"unavailable","checks":{"postgres":"ok","redis":"down"}}`, rec.Body.String())
	require.NotContains(t, rec.Body.String(), "refused", "no internal error text")
}

func TestReadyzSlowCheckTimesOut(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{checks: map[string]Pinger{
		"hangs": func(ctx context.Context) error {
			<-ctx.Done()
			return errors.New("timed out")
		},
	}})
	rec := e.send(t, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := newWHEnv(t, whOptions{})

	d := whError(t, e.send(t, http.MethodGet, "/nope", nil, nil), http.StatusNotFound)
	require.Equal(t, "not_found", d.Code)
	d = whError(t, e.send(t, http.MethodPost, "/api/v1/zendesk/webhooks", []byte(`{}`), nil), http.StatusNotFound)
	require.Equal(t, "not_found", d.Code)

	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		d = whError(t, e.send(t, m, webhookPath, nil, nil), http.StatusMethodNotAllowed)
		require.Equal(t, "method_not_allowed", d.Code)
	}

	// A worker-mode process serves no webhook.
	w := newWHEnv(t, whOptions{noIntake: true})
	d = whError(t, w.send(t, http.MethodPost, webhookPath, whPayload(nil), nil), http.StatusNotFound)
	require.Equal(t, "not_found", d.Code)
}
