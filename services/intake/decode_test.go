package intake

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// payload returns a usable webhook body with overrides applied.
func payload(overrides map[string]any) []byte {
	p := map[string]any{
		"ticket_id": "ZD-1", "from_email": "forderung@inkasso-beispiel.de", "from_name": "Inkasso Beispiel GmbH",
		"subject": "AW: Anfrage Forderungshöhe", "body_text": "Die Gesamtforderung beträgt 1.234,56 EUR.",
		"received_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339),
	}
	for k, v := range overrides {
		p[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

// TestDecodeWarnings: every fix-up of tolerant decoding is noted for
// intake_warnings; a clean payload has none.
func TestDecodeWarnings(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	local := now.Add(-time.Hour).In(berlin)
	for name, tc := range map[string]struct {
		over map[string]any
		want []string
	}{
		"clean":           {nil, nil},
		"named address":   {map[string]any{"from_email": "A <a@b.de>"}, []string{"from_email given as Name <address>"}},
		"unparseable":     {map[string]any{"received_at": "soon"}, []string{"received_at unparseable (kept time of receipt)"}},
		"not a string":    {map[string]any{"received_at": 5}, []string{"received_at unparseable (kept time of receipt)"}},
		"implausible":     {map[string]any{"received_at": "1999-12-31T00:00:00Z"}, []string{"received_at implausible (kept time of receipt)"}},
		"no zone":         {map[string]any{"received_at": local.Format("02.01.2006 15:04")}, []string{"received_at without time zone (read as Europe/Berlin)"}},
		"no time, today":  {map[string]any{"received_at": now.In(berlin).Format("January 2, 2006")}, []string{"received_at without time of day (kept time of receipt, same day)"}},
		"no time, before": {map[string]any{"received_at": local.Add(-72 * time.Hour).Format("Jan 2, 2006")}, []string{"received_at without time of day (read as midnight Europe/Berlin)"}},
		"unknown zone":    {map[string]any{"received_at": "Sat, 05 Dec 2026 07:30:00 EST"}, []string{"received_at time zone EST unknown (read as UTC)"}},
		"webhook_id":      {map[string]any{"webhook_id": true}, []string{"webhook_id unusable (ignored; deduplicated by the body's digest)"}},
		"NUL in subject":  {map[string]any{"subject": "a\x00b"}, []string{"subject contained NUL characters or invalid UTF-8 (removed)"}},
		"size":            {map[string]any{"attachments": []map[string]any{{"url": "https://x.example/a", "size": "big"}}}, []string{"attachments[0].size unusable (ignored)"}},
		"long filename": {map[string]any{"attachments": []map[string]any{{"url": "https://x.example/a", "filename": strings.Repeat("n", MaxShortField+1)}}},
			[]string{"attachments[0].filename longer than 500 characters (cut)"}},
	} {
		e, err := Decode(payload(tc.over), now)
		require.NoError(t, err, name)
		require.Empty(t, e.Problems, name)
		require.Equal(t, tc.want, e.Warnings, name)
	}
	e, err := Decode(payload(map[string]any{"received_at": "Sat, 05 Dec 2026 07:30:00 CET"}), now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 5, 6, 30, 0, 0, time.UTC), e.ReceivedAt, "CET is Berlin's winter time")
	require.Empty(t, e.Warnings)
}

// TestDecodeProblemsLeaveFieldsEmpty: a field with a problem is stored
// empty, not cut or guessed; the raw body keeps what it held. The error
// text names the fields in order, never their content.
func TestDecodeProblemsLeaveFieldsEmpty(t *testing.T) {
	t.Parallel()
	raw := payload(map[string]any{"subject": strings.Repeat("x", MaxSubject+1), "from_name": 5,
		"from_email": "Inkasso <a@b.de>", "ticket_id": -1})
	e, err := Decode(raw, time.Now())
	require.NoError(t, err)
	require.Equal(t, map[string]string{"subject": "at most 2000 characters", "from_name": "must be a string",
		"ticket_id": "must be a string or a positive whole number"}, e.Problems)
	require.Empty(t, e.Subject)
	require.Empty(t, e.TicketID)
	require.Empty(t, e.FromName, "not filled from the address: the field itself was unusable")
	require.Equal(t, "a@b.de", e.FromEmail, "usable fields are kept")
	require.Equal(t, raw, e.RawPayload)
	require.Equal(t, "unusable delivery: from_name: must be a string; subject: at most 2000 characters; "+
		"ticket_id: must be a string or a positive whole number", e.Unusable())

	// Bytes that are not UTF-8, which encoding/json replaces silently, are noted.
	e, err = Decode([]byte("{\"ticket_id\":1,\"from_email\":\"a@b.de\",\"body_text\":\"Betrag \xff\"}"), time.Now())
	require.NoError(t, err)
	require.Empty(t, e.Problems)
	require.Equal(t, "Betrag \uFFFD", e.BodyText)
	require.Equal(t, []string{"body_text contained NUL characters or invalid UTF-8 (removed)"}, e.Warnings)
}
