package claude

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		headers map[string]string
		want    time.Duration
	}{
		"none":              {nil, 0},
		"seconds":           {map[string]string{"Retry-After": "30"}, 30 * time.Second},
		"fractional":        {map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		"http date":         {map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)}, 2 * time.Minute},
		"past date":         {map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		"far date capped":   {map[string]string{"Retry-After": now.Add(48 * time.Hour).Format(http.TimeFormat)}, maxRetryAfter},
		"huge capped":       {map[string]string{"Retry-After": "1e300"}, maxRetryAfter},
		"negative":          {map[string]string{"Retry-After": "-5"}, 0},
		"garbage":           {map[string]string{"Retry-After": "soon"}, 0},
		"nan":               {map[string]string{"Retry-After": "NaN"}, 0},
		"ms wins":           {map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		"bad ms falls back": {map[string]string{"Retry-After-Ms": "x", "Retry-After": "9"}, 9 * time.Second},
	}
	for name, tc := range cases {
		res := &http.Response{Header: http.Header{}}
		for k, v := range tc.headers {
			res.Header.Set(k, v)
		}
		require.Equal(t, tc.want, retryAfter(res, now), name)
	}
	require.Zero(t, retryAfter(nil, now))
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for _, s := range []int{408, 409, 429, 500, 502, 503, 504, 529} {
		require.True(t, retryable(s, nil), s)
	}
	for _, s := range []int{400, 401, 403, 404, 413, 422} {
		require.False(t, retryable(s, nil), s)
	}
	res := &http.Response{Header: http.Header{"X-Should-Retry": []string{"true"}}}
	require.True(t, retryable(400, res))
}
