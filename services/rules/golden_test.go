package rules

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.json from the current extractor")

// goldenCase is one input of the golden test and the extractor's full output.
type goldenCase struct {
	Name string               `json:"name"`
	Got  models.ExtractedData `json:"got"`
}

// goldenInputs are the corpus emails as the pipeline sees them, plus each
// raw body uncleaned (quoted text, HTML tags and odd whitespace exercise
// more of the rules than the clean bodies do).
func goldenInputs(t *testing.T) ([]string, []models.EmailInput) {
	var names []string
	var inputs []models.EmailInput
	for _, c := range loadCorpus(t) {
		names = append(names, c.file+"#cleaned")
		inputs = append(inputs, c.cleanedInput())
		raw := c.input
		raw.CleanedBody = c.text + c.html
		names = append(names, c.file+"#raw")
		inputs = append(inputs, raw)
	}
	return names, inputs
}

// TestGolden pins Extract's complete output for every golden input, so
// refactorings and speed-ups cannot change a single field unnoticed.
// After a deliberate change in behaviour, run: go test -run TestGolden -update
func TestGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "golden.json")
	names, inputs := goldenInputs(t)
	ex := New()
	got := make([]goldenCase, len(inputs))
	for i, in := range inputs {
		out, err := ex.Extract(context.Background(), in)
		require.NoError(t, err)
		got[i] = goldenCase{Name: names[i], Got: out}
	}
	if *updateGolden {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
		return
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var want []goldenCase
	require.NoError(t, json.Unmarshal(data, &want))
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i], got[i], "golden case %s", want[i].Name)
	}
}
