package claude

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/claude/claudetest"
)

// TestPrefixReachesMinimumCacheableLength checks the estimate prompt_cache.go
// explains: from below (3.5 runes per token, sparser than any text measured
// with Anthropic's tokenizer), the cached prefix still has 2,048 tokens, twice
// the minimum of the default model.
func TestPrefixReachesMinimumCacheableLength(t *testing.T) {
	t.Parallel()
	runes := prefixRunes()
	low := tokensLow(runes)
	t.Logf("cached prefix: %d runes, at least %d tokens, at most %d", runes, low, tokensHigh(runes))
	require.GreaterOrEqual(t, low, int64(2048))
	require.GreaterOrEqual(t, low, 2*claudetest.MinCacheableTokens(string(defaultModel)))
}

func TestTokenEstimatesBracketMeasuredRatios(t *testing.T) {
	t.Parallel()
	// Runes per token measured with Anthropic's tokenizer: the system
	// prompt (2.94), the tool's JSON (3.36), a short tagged email (2.48).
	for _, ratio := range []float64{2.48, 2.94, 3.36} {
		tokens := int64(10000 / ratio)
		require.GreaterOrEqual(t, tokensHigh(10000), tokens, ratio)
		require.LessOrEqual(t, tokensLow(10000), tokens, ratio)
	}
	require.Equal(t, int64(1), tokensHigh(0))
}
