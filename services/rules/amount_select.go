package rules

import "math"

// amountBasis says how the debt amount was found; it drives the confidence.
type amountBasis int

const (
	basisNone     amountBasis = iota
	basisSettle               // only offers/installments: no claim amount
	basisBareMany             // several unlabelled amounts: the largest
	basisBare                 // one unlabelled amount
	basisSum                  // a breakdown added up
	basisClaim                // "die Forderung beträgt …"
	basisClaimSum             // a claim that equals its breakdown
	basisTotal                // a total keyword
)

// labelled reports whether a word in the text named the amount the claim
// or its total, rather than the rules adding up or guessing.
func (b amountBasis) labelled() bool {
	return b == basisClaim || b == basisClaimSum || b == basisTotal
}

// addOnRe between a claim and the items after it means the items come on
// top ("500 € zzgl. Mahngebühren von 10 €").
var addOnRe = mustKeywords(`(?i)zzgl|zuzüglich|hinzu|zusätzlich|außerdem|ferner|\bplus\b|nebst|additionally|in addition|on top`)

// amountChoice is the amount one text gives and how it was found.
type amountChoice struct {
	value *float64
	basis amountBasis
	// hit is the amount that gave value; for a sum, its last item. It is
	// unset (end 0) when value is nil.
	hit classified
	// label, when set, names the amount instead of the words around hit
	// (a table column's heading).
	label string
}

// chooseAmount picks the debt amount: the last total, else the last claim,
// else the sum of the breakdown, else an unlabelled amount. Settlement and
// installment figures are never picked. strict (for attachments, whose
// tables and terms hold many figures) takes only totals and claims, as they
// stand: no sum the rules compute, no unlabelled amount.
func chooseAmount(body foldedText, cls []classified, strict bool) amountChoice {
	var totals, claims, items, payments, bare []classified
	settle := false
	for _, c := range cls {
		if !plausible(c.value) {
			continue
		}
		switch c.kind {
		case kindTotal:
			totals = append(totals, c)
		case kindClaim:
			claims = append(claims, c)
		case kindItem:
			items = append(items, c)
		case kindPayment:
			payments = append(payments, c)
		case kindBare:
			bare = append(bare, c)
		case kindSettlement:
			settle = true
		}
	}
	switch {
	case len(totals) > 0:
		return choice(totals[len(totals)-1], totals[len(totals)-1].value, basisTotal)
	case len(claims) > 0:
		return claimAmount(body, claims[len(claims)-1], items, strict)
	case strict:
	case len(items) > 0:
		sum := 0.0
		for _, it := range items {
			sum += it.value
		}
		for _, p := range payments {
			sum -= math.Abs(p.value)
		}
		if sum = roundCents(sum); plausible(sum) {
			return choice(items[len(items)-1], sum, basisSum)
		}
	case len(bare) > 0:
		best := bare[0]
		distinct := false
		for _, b := range bare[1:] {
			if b.value != best.value {
				distinct = true
			}
			if b.value > best.value {
				best = b
			}
		}
		if distinct {
			return choice(best, best.value, basisBareMany)
		}
		return choice(best, best.value, basisBare)
	}
	if settle {
		return amountChoice{basis: basisSettle}
	}
	return amountChoice{basis: basisNone}
}

func choice(hit classified, v float64, basis amountBasis) amountChoice {
	return amountChoice{value: amountPtr(v), basis: basis, hit: hit}
}

// claimAmount weighs a claim against the breakdown items: equal means
// confirmed; items announced as coming on top are added, unless strict.
func claimAmount(body foldedText, claim classified, items []classified, strict bool) amountChoice {
	sum, after := 0.0, 0.0
	firstAfter := -1
	for _, it := range items {
		sum += it.value
		if it.start > claim.end {
			after += it.value
			if firstAfter < 0 {
				firstAfter = it.start
			}
		}
	}
	switch {
	case len(items) > 0 && math.Abs(roundCents(sum)-claim.value) < 0.005:
		return choice(claim, claim.value, basisClaimSum)
	case !strict && firstAfter > 0 && firstAfter-claim.end < 400 && addOnRe.match(body.slice(claim.end, firstAfter)):
		if total := roundCents(claim.value + after); plausible(total) {
			return choice(claim, total, basisSum)
		}
	}
	return choice(claim, claim.value, basisClaim)
}

func amountPtr(v float64) *float64 {
	v = roundCents(v)
	return &v
}

// readAmount finds and chooses the debt amount in a text: a cleaned body,
// or (attachment) the text read from an attachment, where a table column
// headed "Saldo" may give the total as well.
func readAmount(t foldedText, attachment bool) amountChoice {
	limit := maxAmountHits
	if attachment {
		limit = maxAttachmentAmountHits
	}
	c := chooseAmount(t, classifyHits(t, findAmountHits(t.s, limit), attachment), attachment)
	if attachment && c.basis != basisTotal {
		if col, ok := columnBalance(t); ok {
			return col
		}
	}
	return c
}

// extractAmount finds and chooses the debt amount in a cleaned body.
func extractAmount(body foldedText) (*float64, amountBasis) {
	c := readAmount(body, false)
	return c.value, c.basis
}
