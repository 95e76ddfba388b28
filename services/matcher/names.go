package matcher

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// NameSimilarity compares two person or company names and returns 0–1.
// It ignores case, punctuation, word order, umlaut spelling ("Müller" =
// "Mueller", ß = ss), other accents, honorifics and legal forms (GmbH, AG,
// KG, e.V., & Co. …), so "Müller, Max" and "Max Mueller" score 1. Words are
// compared fuzzily (one typo in a longer word still counts), and a name
// whose words are all contained in the other ("Vodafone" vs "Vodafone
// Kabel Deutschland") scores between the two extremes.
func NameSimilarity(a, b string) float64 {
	ta, tb := nameTokens(a), nameTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	score := tokenSetScore(ta, tb)
	// A name split or joined differently ("KölnBonn" vs "Köln Bonn") defeats
	// the word comparison; the joined spelling catches it when nearly equal.
	if joined := levenshteinRatio(strings.Join(ta, ""), strings.Join(tb, "")); joined >= 0.9 && joined > score {
		score = joined
	}
	return score
}

// tokenSetScore pairs the words of a and b greedily, best pairs first, and
// averages a Dice coefficient (penalises extra words on either side) with
// containment (how much of the shorter name the longer one covers).
func tokenSetScore(a, b []string) float64 {
	type pair struct {
		i, j int
		sim  float64
	}
	var pairs []pair
	for i, x := range a {
		for j, y := range b {
			if s := tokenSimilarity(x, y); s > 0 {
				pairs = append(pairs, pair{i, j, s})
			}
		}
	}
	sort.SliceStable(pairs, func(p, q int) bool { return pairs[p].sim > pairs[q].sim })
	usedA, usedB := make([]bool, len(a)), make([]bool, len(b))
	matched := 0.0
	for _, p := range pairs {
		if usedA[p.i] || usedB[p.j] {
			continue
		}
		usedA[p.i], usedB[p.j] = true, true
		matched += p.sim
	}
	dice := 2 * matched / float64(len(a)+len(b))
	containment := matched / float64(min(len(a), len(b)))
	return (dice + containment) / 2
}

// tokenSimilarity scores two folded words: equal 1, an initial against a
// word with that first letter 0.8, otherwise the edit-distance ratio when it
// is at least 0.8 (one slip in a five-letter word), else 0.
func tokenSimilarity(x, y string) float64 {
	if x == y {
		return 1
	}
	rx, ry := []rune(x), []rune(y)
	if len(rx) == 1 || len(ry) == 1 {
		if rx[0] == ry[0] {
			return 0.8
		}
		return 0
	}
	if r := levenshteinRatio(x, y); r >= 0.8 {
		return r
	}
	return 0
}

// levenshteinRatio is 1 − editDistance / longer length, over runes.
func levenshteinRatio(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	longer := max(len(ra), len(rb))
	if longer == 0 {
		return 1
	}
	return 1 - float64(levenshtein(ra, rb))/float64(longer)
}

func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// maxNameRunes bounds the work on hostile input; real names are far shorter.
const maxNameRunes = 200

// nameTokens folds s and splits it into words, dropping legal forms and
// honorifics unless nothing else would remain.
func nameTokens(s string) []string {
	if r := []rune(s); len(r) > maxNameRunes {
		s = string(r[:maxNameRunes])
	}
	folded := eVRe.ReplaceAllString(foldName(s), " ")
	words := strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	kept := words[:0:0]
	for _, w := range words {
		if !nameNoise[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return words
	}
	return kept
}

// eVRe finds "e.V." / "e. V." (eingetragener Verein) and "e.K." (Kaufmann)
// before punctuation is dropped, when their letters would look like initials.
var eVRe = regexp.MustCompile(`\be\.\s*[vk]\b\.?`)

// nameNoise are words that say nothing about who is meant: legal forms,
// their fragments once punctuation is gone, and honorifics.
var nameNoise = map[string]bool{
	"gmbh": true, "mbh": true, "ag": true, "kg": true, "kgaa": true, "ohg": true,
	"gbr": true, "ug": true, "haftungsbeschraenkt": true, "se": true, "eg": true,
	"ev": true, "co": true, "und": true, "partg": true, "vvag": true, "aoer": true,
	"ltd": true, "limited": true, "inc": true, "llc": true, "plc": true, "corp": true,
	"bv": true, "nv": true, "sa": true, "sarl": true, "srl": true, "spa": true,
	"herr": true, "herrn": true, "frau": true, "hr": true, "fr": true, "dr": true,
	"prof": true, "dipl": true, "ing": true, "mr": true, "mrs": true, "ms": true,
}

// foldName lowercases s and spells umlauts and accents in plain ASCII the
// way Germans do when a keyboard lacks them (ü → ue, ß → ss, é → e).
func foldName(s string) string {
	s = umlautReplacer.Replace(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent left after the umlaut pairs
		}
		if rep, ok := accentFold[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// umlautReplacer handles precomposed and decomposed umlauts; decomposed pairs
// come first so they win over the bare vowel.
var umlautReplacer = strings.NewReplacer(
	"a\u0308", "ae", "o\u0308", "oe", "u\u0308", "ue",
	"A\u0308", "Ae", "O\u0308", "Oe", "U\u0308", "Ue",
	"ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue",
	"ß", "ss", "ẞ", "ss",
)

var accentFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'å': "a", 'ą': "a", 'æ': "ae",
	'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ę': "e", 'ě': "e", 'ğ': "g",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'ł': "l", 'ľ': "l",
	'ñ': "n", 'ń': "n", 'ň': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o",
	'ø': "o", 'ő': "o", 'œ': "oe", 'ř': "r", 'ś': "s", 'š': "s", 'ş': "s",
	'ť': "t", 'ù': "u", 'ú': "u", 'û': "u", 'ů': "u", 'ű': "u", 'ý': "y",
	'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}
