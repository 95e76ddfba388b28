package handlers

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
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
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	live := newWHEnv(t, whOptions{})
	e := newWHEnv(t, whOptions{checks: map[string]Pinger{
		"postgres": func(ctx context.Context) error {
			sqlDB, err := live.db.DB()
			if err != nil {
				return err
			}
			return sqlDB.PingContext(ctx)
		},
		"redis": func(ctx context.Context) error { return dead.Ping(ctx).Err() },
	}})
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
