package claude

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// errMalformed marks model output that cannot be used. Its messages name keys
// and types, never values: they end up in processing_error and in logs.
var errMalformed = errors.New("malformed model output")

// Caps for untrusted strings in the answer.
const (
	maxNameRunes      = 200
	maxSummaryRunes   = 1000
	maxReferences     = 20
	maxReferenceRunes = 100
)

// decodeAnswer validates the tool input strictly (every key present, no other
// key, exact JSON types, plausible numbers) and returns it sanitised.
func decodeAnswer(input []byte) (models.ExtractedData, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil || fields == nil {
		return models.ExtractedData{}, fmt.Errorf("%w: tool input is not a JSON object", errMalformed)
	}
	keys := answerKeys()
	for _, k := range keys {
		if _, ok := fields[k]; !ok {
			return models.ExtractedData{}, fmt.Errorf("%w: missing key %q", errMalformed, k)
		}
	}
	for k := range fields {
		if !slices.Contains(keys, k) && !slices.Contains(claimKeys(), k) {
			return models.ExtractedData{}, fmt.Errorf("%w: unexpected key %q", errMalformed, capRunes(singleLine(k), 40))
		}
	}
	d := models.ExtractedData{Extractor: models.ExtractorClaude}
	var err error
	if d.IsCreditorReply, err = decodeBool(fields, keyIsCreditorReply); err != nil {
		return models.ExtractedData{}, err
	}
	if d.DebtAmount, err = decodeAmount(fields[keyDebtAmount]); err != nil {
		return models.ExtractedData{}, err
	}
	if d.Confidence, err = decodeConfidence(fields[keyConfidence]); err != nil {
		return models.ExtractedData{}, err
	}
	if d.ReferenceNumbers, err = decodeReferences(fields[keyReferenceNumbers]); err != nil {
		return models.ExtractedData{}, err
	}
	// A fixed order (not a map), so that an answer with several bad strings
	// always names the same one.
	for _, f := range []struct {
		key      string
		dst      *string
		maxRunes int
	}{
		{keyClientName, &d.ClientName, maxNameRunes},
		{keyCreditorName, &d.CreditorName, maxNameRunes},
		{keyClientAktenzeichen, &d.ClientAktenzeichen, maxReferenceRunes},
		{keySummary, &d.Summary, maxSummaryRunes},
	} {
		s, err := decodeString(fields, f.key)
		if err != nil {
			return models.ExtractedData{}, err
		}
		*f.dst = capRunes(singleLine(s), f.maxRunes)
	}
	return d, nil
}

// decodeStrict unmarshals raw into dst, refusing null and any other JSON type.
func decodeStrict(raw json.RawMessage, dst any, key, want string) error {
	if isNull(raw) || json.Unmarshal(raw, dst) != nil {
		return fmt.Errorf("%w: %s must be %s", errMalformed, key, want)
	}
	return nil
}

func decodeBool(fields map[string]json.RawMessage, key string) (bool, error) {
	var v bool
	return v, decodeStrict(fields[key], &v, key, "a boolean")
}

func decodeString(fields map[string]json.RawMessage, key string) (string, error) {
	var v string
	return v, decodeStrict(fields[key], &v, key, "a string")
}

// decodeAmount accepts null or a finite number in (0, MaxPlausibleAmount],
// rounded to cents; anything else (a string like "1.234,56", zero, a negative
// or absurd figure) is an error, never a silent null.
func decodeAmount(raw json.RawMessage) (*float64, error) {
	if isNull(raw) {
		return nil, nil
	}
	var v float64
	if err := decodeStrict(raw, &v, keyDebtAmount, "a number or null"); err != nil {
		return nil, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > models.MaxPlausibleAmount {
		return nil, fmt.Errorf("%w: %s is not a plausible amount in EUR", errMalformed, keyDebtAmount)
	}
	v = math.Round(v*100) / 100
	if v <= 0 {
		return nil, fmt.Errorf("%w: %s is not a plausible amount in EUR", errMalformed, keyDebtAmount)
	}
	return &v, nil
}

func decodeConfidence(raw json.RawMessage) (float64, error) {
	var v float64
	if err := decodeStrict(raw, &v, keyConfidence, "a number"); err != nil {
		return 0, err
	}
	if math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fmt.Errorf("%w: %s must be between 0 and 1", errMalformed, keyConfidence)
	}
	return v, nil
}

// decodeReferences accepts an array of strings; it drops blanks and duplicates
// and keeps at most maxReferences, each capped.
func decodeReferences(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := decodeStrict(raw, &items, keyReferenceNumbers, "an array of strings"); err != nil {
		return nil, err
	}
	refs := make([]string, 0, min(len(items), maxReferences))
	for _, item := range items {
		var s string
		if err := decodeStrict(item, &s, keyReferenceNumbers, "an array of strings"); err != nil {
			return nil, err
		}
		s = capRunes(singleLine(s), maxReferenceRunes)
		if s != "" && len(refs) < maxReferences && !slices.Contains(refs, s) {
			refs = append(refs, s)
		}
	}
	return refs, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// singleLine makes untrusted text one clean line: valid UTF-8, control and
// invisible format characters (bidi overrides, zero-width) removed, whitespace
// runs collapsed to one space, trimmed.
func singleLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// capRunes shortens s to at most n runes, never splitting a rune, and trims
// the blank a cut may leave at the end.
func capRunes(s string, n int) string {
	if p := runePrefix(s, n); len(p) < len(s) {
		return strings.TrimSpace(p)
	}
	return s
}
