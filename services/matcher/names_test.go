package matcher

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNameSimilarity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b     string
		min, max float64
	}{
		{"Müller, Max", "Max Mueller", 1, 1},
		{"MAX MÜLLER", "max müller", 1, 1},
		{"Mu\u0308ller, Max", "Max Müller", 1, 1},
		{"Groß, Jürgen", "Juergen Gross", 1, 1},
		{"Dr. Hans-Peter Schmidt", "Schmidt, Hans Peter", 1, 1},
		{"José García", "Jose Garcia", 1, 1},
		{"Herrn Max Müller", "Max Müller", 1, 1},
		{"Vodafone GmbH", "Vodafone", 1, 1},
		{"Otto GmbH & Co. KG", "OTTO", 1, 1},
		{"Musterverein e.V.", "Musterverein", 1, 1},
		{"Max Muller", "Max Müller", 0.9, 0.99},
		{"M. Müller", "Max Müller", 0.85, 0.95},
		{"Sparkasse KölnBonn", "Sparkasse Köln Bonn", 0.9, 1},
		{"Müller", "Max Müller", 0.75, 0.9},
		{"Vodafone GmbH", "Vodafone Kabel Deutschland GmbH", 0.6, 0.8},
		{"Max Müller", "Moritz Müller", 0.4, 0.6},
		{"Max Müller", "Erika Schmidt", 0, 0.1},
		{"Telekom Deutschland GmbH", "Vodafone GmbH", 0, 0.1},
		{"", "Max Müller", 0, 0},
		{"GmbH", "GmbH", 1, 1}, // only a legal form: kept rather than emptied
		{"!!!", "???", 0, 0},
	}
	for _, c := range cases {
		got := nameSimilarity(c.a, c.b)
		require.GreaterOrEqual(t, got, c.min, "%q vs %q", c.a, c.b)
		require.LessOrEqual(t, got, c.max, "%q vs %q", c.a, c.b)
		require.InDelta(t, got, nameSimilarity(c.b, c.a), 1e-9, "symmetric: %q vs %q", c.a, c.b)
	}
}

func TestNameSimilarityBoundsHostileInput(t *testing.T) {
	t.Parallel()
	long := ""
	for range 5000 {
		long += "ab "
	}
	got := nameSimilarity(long, long)
	require.InDelta(t, 1, got, 1e-9)
}
