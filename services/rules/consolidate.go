package rules

import (
	"math"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// amountCandidate is the amount one source gives.
type amountCandidate struct {
	src textSource
	amountChoice
}

// maxEvidence bounds the candidates shown with an extraction.
const maxEvidence = 5

// decideAmount picks one of the sources' amounts: the best found (a total
// over a claim over a sum over an unlabelled amount, see amountBasis); on a
// tie an attachment over the body, the first attachment over later ones.
// So a labelled total in an attachment beats an unlabelled amount in the
// body. chosen is -1 when no source gives an amount. disagree reports two
// totals (see countsAsTotal) from different sources more than a cent
// apart. Within one text the last total stands, as before attachments were
// read: a letter names the old total before the current one.
func decideAmount(cands []amountCandidate) (chosen int, disagree bool) {
	chosen = -1
	for i, c := range cands {
		if c.value == nil {
			continue
		}
		if chosen < 0 || c.basis > cands[chosen].basis ||
			c.basis == cands[chosen].basis && !cands[chosen].src.attachment() && c.src.attachment() {
			chosen = i
		}
	}
	for i, a := range cands {
		for _, b := range cands[i+1:] {
			if a.countsAsTotal() && b.countsAsTotal() && math.Abs(*a.value-*b.value) > 0.015 {
				disagree = true
			}
		}
	}
	return chosen, disagree
}

// countsAsTotal reports whether c states the claim clearly enough to
// disagree with another source: a total, or a claim its breakdown confirms,
// anywhere; a bare claim ("die Forderung beträgt …") only in the body, as
// in a statement or invoice words like "Betrag" head columns and lines.
func (c amountCandidate) countsAsTotal() bool {
	return c.value != nil && (c.basis == basisTotal || c.basis == basisClaimSum ||
		c.basis == basisClaim && !c.src.attachment())
}

// amountEvidence lists the candidates with an amount in source order, at
// most maxEvidence: the chosen one first kept, then labelled ones, then the
// rest.
func amountEvidence(cands []amountCandidate, chosen int) []models.AmountEvidence {
	keep := make([]bool, len(cands))
	n := 0
	for pass := 0; pass < 3; pass++ {
		for i, c := range cands {
			if keep[i] || c.value == nil || n == maxEvidence {
				continue
			}
			if pass == 0 && i == chosen || pass == 1 && c.basis.labelled() || pass == 2 {
				keep[i] = true
				n++
			}
		}
	}
	var out []models.AmountEvidence
	for i, c := range cands {
		if !keep[i] {
			continue
		}
		label := c.label
		if label == "" && c.basis.labelled() {
			label = labelOf(c.src.text, c.hit)
		}
		out = append(out, models.AmountEvidence{
			Source:   c.src.name,
			Filename: c.src.filename,
			Amount:   *c.value,
			Label:    label,
			Excerpt:  excerpt(c.src.text.s, c.hit.start),
			Chosen:   i == chosen,
		})
	}
	return out
}
