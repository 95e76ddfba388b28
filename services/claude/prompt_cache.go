package claude

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go/v2"
)

// Prompt caching: every request starts with the same tool definition and
// system prompt, and the API renders a prompt as tools → system → messages,
// so one breakpoint on the system block caches both (prompt caching docs:
// the prefix up to and including the block marked cache_control). A second
// breakpoint on the tool would only pay off if the system prompt changed
// while the tool stayed, which it does not.
//
// Does the prefix reach the minimum cacheable length? The API ignores a
// breakpoint on a shorter prefix (no error, no cache, full price). Minimums
// as Anthropic's docs list them in 2026: 1,024 tokens for Sonnet 5 (our
// default) and Sonnet 4.5/4.6, Opus 4.8, Opus 4.1/4; 512 for the Opus 5,
// Fable 5 and Mythos 5 families; 2,048 for Opus 4.7; 4,096 for Haiku 4.5 and
// Opus 4.5/4.6 (users reported that Sonnet 4.6 only cached from 2,048).
//
// How it is estimated without the API: Anthropic's published tokenizer (the
// pre-Claude-3 one, npm @anthropic-ai/tokenizer 0.0.4) counted this prefix
// at 1,985 tokens for the system prompt (5,840 runes of German, 2.94 runes
// per token) and 517 for the tool's JSON (1,736 runes, 3.36 per token):
// 2,502 tokens, plus the 313-token tool-use system prompt the API adds for a
// forced tool. Current models use their own tokenizer, which Anthropic says
// yields as many or more tokens for a text; so tokensLow, at 3.5 runes per
// token (sparser than anything measured), is a lower bound, and
// TestPrefixReachesMinimumCacheableLength requires it to reach 2,048: twice
// Sonnet 5's minimum, and the 2,048 reported for Sonnet 4.6.
//
// Why the prefix is this long: the rules alone (about 1,350 tokens with the
// tool) sat between the documented and the observed Sonnet minimum. The
// worked examples in the system prompt (hard cases: collection agencies,
// instalments, settlement offers, quoted history, auto-replies, English
// notation) are there because they make answers on those cases better, and
// they also put the prefix safely above the minimum.
//
// Cost, in units of one uncached input token, per email, for the prefix of
// about 2,500 tokens (write 2× for the 1-hour TTL, 1.25× for 5 minutes, read
// 0.1×; the old uncached prompt was about 1,670 with the tool-use prompt):
//   - a backlog (many emails within the TTL): one write, then 250 per email
//     instead of 1,670, about 85 % less; N=300 costs 5,000 + 299×250 = 79,750
//     instead of 501,000;
//   - the daily trickle (200+ emails over a working day, minutes apart): with
//     the 1-hour TTL nearly every call reads, a few writes a day; with 5
//     minutes, about one call in five (gaps over 5 minutes) would write at
//     3,125. Hence TTL 1h: its dearer write is paid rarely;
//   - a quiet day (gaps over an hour): every call writes at 5,000, three
//     times the old prompt, but on a handful of calls;
//   - a model whose minimum is 4,096 (Haiku 4.5, Opus 4.5/4.6) caches
//     nothing: every call pays the full 2,500, the examples' quality only.
//
// Since the rules on attachments and sources (rules 10–13, and the
// sources, amount_evidence and labelled_totals of the tool) the prefix is
// about 10,500 runes: 3,000 to 4,400 tokens by the bounds below. It stays
// one static block before the email, so the figures above scale by about
// 1.4; a 4,096-minimum model may now cache it or not, by its tokenizer.
//
// Cached reads also do not count towards the input-tokens-per-minute limit
// (rate limits docs), so caching raises the throughput an input-token-bound
// account allows.

// toolPromptTokens is the system prompt the API adds for tools with a
// forced tool_choice (tool use docs: 313 tokens for current models).
const toolPromptTokens = 313

// prefixCacheControl marks the end of the cached prefix, with the TTL chosen above.
func prefixCacheControl() anthropic.CacheControlEphemeralParam {
	return anthropic.CacheControlEphemeralParam{TTL: anthropic.CacheControlEphemeralTTLTTL1h}
}

// prefixRunes is the length of the cached prefix: the tool as sent, and the system prompt.
func prefixRunes() int {
	raw, err := json.Marshal(extractionTool())
	if err != nil {
		panic("claude: the tool definition does not marshal: " + err.Error())
	}
	return utf8.RuneCount(raw) + utf8.RuneCountInString(systemPrompt)
}

// tokensHigh estimates tokens from above (2.4 runes per token, denser than
// every text measured: 2.48 for a short tagged email, up to 3.36 for the
// tool's JSON): what the Limiter books before it has learned the real ratio
// from usage.
func tokensHigh(runes int) int64 { return int64(runes)*5/12 + 1 }

// tokensLow estimates tokens from below (3.5 runes per token, sparser than
// every text measured).
func tokensLow(runes int) int64 { return int64(runes) * 2 / 7 }
