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

// addOnRe between a claim and the items after it means the items come on
// top ("500 € zzgl. Mahngebühren von 10 €").
var addOnRe = mustKeywords(`(?i)zzgl|zuzüglich|hinzu|zusätzlich|außerdem|ferner|\bplus\b|nebst|additionally|in addition|on top`)

// chooseAmount picks the debt amount: the last total, else the last claim,
// else the sum of the breakdown, else an unlabelled amount. Settlement and
// installment figures are never picked.
func chooseAmount(body foldedText, cls []classified) (*float64, amountBasis) {
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
		return amountPtr(totals[len(totals)-1].value), basisTotal
	case len(claims) > 0:
		return claimAmount(body, claims[len(claims)-1], items)
	case len(items) > 0:
		sum := 0.0
		for _, it := range items {
			sum += it.value
		}
		for _, p := range payments {
			sum -= math.Abs(p.value)
		}
		if sum = roundCents(sum); plausible(sum) {
			return amountPtr(sum), basisSum
		}
	case len(bare) > 0:
		best := bare[0].value
		distinct := false
		for _, b := range bare[1:] {
			if b.value != best {
				distinct = true
			}
			best = max(best, b.value)
		}
		if distinct {
			return amountPtr(best), basisBareMany
		}
		return amountPtr(best), basisBare
	}
	if settle {
		return nil, basisSettle
	}
	return nil, basisNone
}

// claimAmount weighs a claim against the breakdown items: equal means
// confirmed; items announced as coming on top are added.
func claimAmount(body foldedText, claim classified, items []classified) (*float64, amountBasis) {
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
		return amountPtr(claim.value), basisClaimSum
	case firstAfter > 0 && firstAfter-claim.end < 400 && addOnRe.match(body.slice(claim.end, firstAfter)):
		if total := roundCents(claim.value + after); plausible(total) {
			return amountPtr(total), basisSum
		}
	}
	return amountPtr(claim.value), basisClaim
}

func amountPtr(v float64) *float64 {
	v = roundCents(v)
	return &v
}

// extractAmount finds and chooses the debt amount in a cleaned body.
func extractAmount(body foldedText) (*float64, amountBasis) {
	return chooseAmount(body, classifyHits(body, findAmountHits(body.s)))
}
