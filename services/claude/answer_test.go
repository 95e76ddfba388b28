package claude

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func decode(t *testing.T, answer map[string]any) (models.ExtractedData, error) {
	t.Helper()
	raw, err := json.Marshal(answer)
	require.NoError(t, err)
	return decodeAnswer(raw)
}

func TestDecodeAnswerSanitisesStrings(t *testing.T) {
	t.Parallel()
	a := goodAnswer()
	a["client_name"] = "  Müller,\tAnna\u202e\x00 " + strings.Repeat("x", 300)
	a["creditor_name"] = "Inkasso\r\nGmbH\u200b"
	a["summary"] = strings.Repeat("ä", 1500)
	a["client_aktenzeichen"] = " SB-2026-0042\n"
	refs := []any{" KD-4711 ", "KD-4711", "", "   ", strings.Repeat("9", 150)}
	for i := range 30 {
		refs = append(refs, fmt.Sprintf("R-%02d", i))
	}
	a["reference_numbers"] = refs

	got, err := decode(t, a)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.ClientName, "Müller, Anna xxx"))
	require.Equal(t, maxNameRunes, utf8.RuneCountInString(got.ClientName))
	require.Equal(t, "Inkasso GmbH", got.CreditorName)
	require.Equal(t, maxSummaryRunes, utf8.RuneCountInString(got.Summary))
	require.Equal(t, "SB-2026-0042", got.ClientAktenzeichen)
	require.Len(t, got.ReferenceNumbers, maxReferences)
	require.Equal(t, "KD-4711", got.ReferenceNumbers[0], "trimmed and de-duplicated")
	require.Equal(t, strings.Repeat("9", maxReferenceRunes), got.ReferenceNumbers[1])
	require.Equal(t, "R-00", got.ReferenceNumbers[2], "blanks dropped")
}

func TestDecodeAnswerAmounts(t *testing.T) {
	t.Parallel()
	ok := map[string]float64{
		"cents":          1234.56,
		"rounded":        1234.5649,
		"maximum":        models.MaxPlausibleAmount,
		"one cent":       0.01,
		"integer-valued": 800,
	}
	for name, v := range ok {
		a := goodAnswer()
		a["debt_amount"] = v
		got, err := decode(t, a)
		require.NoError(t, err, name)
		require.NotNil(t, got.DebtAmount, name)
		require.InDelta(t, v, *got.DebtAmount, 0.005, name)
	}
	for _, raw := range []string{`0`, `-1`, `1e12`, `10000000.01`, `0.001`, `1e400`, `"12"`, `true`, `{}`, `[]`} {
		input := strings.Replace(mustJSON(t, goodAnswer()), `"debt_amount":1234.56`, `"debt_amount":`+raw, 1)
		_, err := decodeAnswer([]byte(input))
		require.ErrorIs(t, err, errMalformed, raw)
		require.NotRegexp(t, `\d`, err.Error(), "values never appear in the error")
	}
}

func TestDecodeAnswerRejectsNonObjects(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{``, `null`, `[]`, `"x"`, `{"is_creditor_reply":true`} {
		_, err := decodeAnswer([]byte(raw))
		require.ErrorIs(t, err, errMalformed, raw)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}
