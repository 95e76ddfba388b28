package matcher

import (
	"cmp"
	"slices"
)

// nameSimilarity compares two person or company names and returns 0–1.
// It ignores case, punctuation, word order, umlaut spelling ("Müller" =
// "Mueller", ß = ss), other accents, honorifics and legal forms (GmbH, AG,
// KG, e.V., & Co. …), so "Müller, Max" and "Max Mueller" score 1. Words are
// compared fuzzily (one typo in a longer word still counts), and a name
// whose words are all contained in the other ("Vodafone" vs "Vodafone
// Kabel Deutschland") scores between the two extremes.
func nameSimilarity(a, b string) float64 {
	var sc nameScratch
	return parseName(a).similarity(parseName(b), &sc)
}

// name is a name folded and split into words once, to be compared with
// many others.
type name struct {
	words  [][]rune
	joined []rune // the words without separators
}

// nameScratch holds buffers reused across comparisons; it is not safe for
// concurrent use.
type nameScratch struct {
	pairs  []wordPair
	usedA  []bool
	usedB  []bool
	rowBuf []int
}

type wordPair struct {
	i, j int
	sim  float64
}

// similarity is nameSimilarity of two parsed names.
func (a name) similarity(b name, sc *nameScratch) float64 {
	if len(a.words) == 0 || len(b.words) == 0 {
		return 0
	}
	score := wordSetScore(a.words, b.words, sc)
	// A name split or joined differently ("KölnBonn" vs "Köln Bonn") defeats
	// the word comparison; the joined spelling catches it when nearly equal.
	if score < 1 {
		if joined := editRatioAtLeast(a.joined, b.joined, 0.9, sc); joined > score {
			score = joined
		}
	}
	return score
}

// wordSetScore pairs the words of a and b greedily, best pairs first, and
// averages a Dice coefficient (penalises extra words on either side) with
// containment (how much of the shorter name the longer one covers).
func wordSetScore(a, b [][]rune, sc *nameScratch) float64 {
	pairs := sc.pairs[:0]
	for i, x := range a {
		for j, y := range b {
			if s := wordSimilarity(x, y, sc); s > 0 {
				pairs = append(pairs, wordPair{i, j, s})
			}
		}
	}
	slices.SortStableFunc(pairs, func(p, q wordPair) int { return cmp.Compare(q.sim, p.sim) })
	sc.pairs = pairs
	usedA, usedB := resetBools(&sc.usedA, len(a)), resetBools(&sc.usedB, len(b))
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

func resetBools(buf *[]bool, n int) []bool {
	if cap(*buf) < n {
		*buf = make([]bool, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

// wordSimilarity scores two folded words: equal 1, an initial against a
// word with that first letter 0.8, otherwise the edit-distance ratio when it
// is at least 0.8 (one slip in a five-letter word), else 0.
func wordSimilarity(x, y []rune, sc *nameScratch) float64 {
	if slices.Equal(x, y) {
		return 1
	}
	if len(x) == 1 || len(y) == 1 {
		if x[0] == y[0] {
			return 0.8
		}
		return 0
	}
	return editRatioAtLeast(x, y, 0.8, sc)
}

// editRatioAtLeast returns 1 − editDistance / longer length of a and b when
// that ratio is at least floor, else 0. It gives up as soon as the distance
// is certain to exceed what floor allows.
func editRatioAtLeast(a, b []rune, floor float64, sc *nameScratch) float64 {
	longer := max(len(a), len(b))
	if longer == 0 {
		return 1
	}
	// A distance above this bound leaves a ratio below floor with a margin
	// of 1/longer, far beyond rounding.
	limit := int((1-floor)*float64(longer)) + 1
	d, ok := editDistanceWithin(a, b, limit, sc)
	if !ok {
		return 0
	}
	if r := 1 - float64(d)/float64(longer); r >= floor {
		return r
	}
	return 0
}

// editDistanceWithin returns the Levenshtein distance of a and b, or false
// once it must exceed limit.
func editDistanceWithin(a, b []rune, limit int, sc *nameScratch) (int, bool) {
	if abs(len(a)-len(b)) > limit {
		return 0, false
	}
	if cap(sc.rowBuf) < 2*(len(b)+1) {
		sc.rowBuf = make([]int, 2*(len(b)+1))
	}
	prev, cur := sc.rowBuf[:len(b)+1], sc.rowBuf[len(b)+1:2*(len(b)+1)]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return 0, false // distances never shrink from one row to the next
		}
		prev, cur = cur, prev
	}
	return prev[len(b)], prev[len(b)] <= limit
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// nameComparer compares one of the reply's names with the names of many
// inquiries: the reply's name is parsed once, and each distinct inquiry
// name scored once (a creditor's inquiries mostly repeat its name). It is
// not safe for concurrent use.
type nameComparer struct {
	reply name
	seen  map[string]float64
	sc    nameScratch
}

func newNameComparer(reply string) *nameComparer {
	return &nameComparer{reply: parseName(reply), seen: map[string]float64{}}
}

// similarity is nameSimilarity(reply, other).
func (c *nameComparer) similarity(other string) float64 {
	if s, ok := c.seen[other]; ok {
		return s
	}
	s := c.reply.similarity(parseName(other), &c.sc)
	c.seen[other] = s
	return s
}
