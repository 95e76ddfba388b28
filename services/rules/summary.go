package rules

import (
	"strconv"
	"strings"
)

// confidence turns how the fields were found into a 0–1 score.
func confidence(kind replyKind, strong bool, basis amountBasis, hasClient, hasRefs bool) float64 {
	if kind != replyCreditor {
		if strong {
			return 0.95
		}
		return 0.75
	}
	var c float64
	switch basis {
	case basisTotal:
		c = 0.9
	case basisClaimSum:
		c = 0.85
	case basisClaim:
		c = 0.75
	case basisSum:
		c = 0.6
	case basisBare:
		c = 0.4
	case basisBareMany:
		c = 0.3
	case basisSettle:
		c = 0.45
	default:
		c = 0.35
	}
	if hasClient {
		c += 0.03
	}
	if hasRefs {
		c += 0.02
	}
	return min(c, 0.95)
}

// summarize builds one or two German sentences from the extracted fields only.
func summarize(kind replyKind, creditor, client string, amount *float64, basis amountBasis, firmRef string) string {
	switch kind {
	case replyAutoReply:
		return "Keine Gläubigerantwort: automatische Antwort bzw. Abwesenheitsnotiz."
	case replyBounce:
		return "Keine Gläubigerantwort: Unzustellbarkeitsmeldung."
	case replyNewsletter:
		return "Keine Gläubigerantwort: Newsletter bzw. Massen-E-Mail."
	}
	who := "Der Gläubiger"
	if creditor != "" {
		who = creditor
	}
	about := ""
	if client != "" {
		about = " zu " + client
	}
	if firmRef != "" {
		about += " (Az. " + firmRef + ")"
	}
	var b strings.Builder
	switch {
	case amount != nil:
		b.WriteString(who + " beziffert die Forderung" + about + " auf " + formatEuro(*amount) + ".")
		if basis == basisSum {
			b.WriteString(" Der Betrag ist die Summe der genannten Einzelposten.")
		}
	case basis == basisSettle:
		b.WriteString(who + " hat" + about + " geantwortet und nennt nur einen Vergleichs- oder Ratenbetrag, keine Gesamtforderung.")
	default:
		b.WriteString(who + " hat" + about + " geantwortet, ohne eine Forderungshöhe zu nennen.")
	}
	return b.String()
}

// formatEuro writes v the German way: "1.234,56 €".
func formatEuro(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + "," + frac + " €"
}

// sourceNote tells staff which attachment the amount came from and, when
// labelled amounts disagree, which ones.
func sourceNote(cands []amountCandidate, chosen int, disagree bool) string {
	var b strings.Builder
	if c := cands[chosen]; c.src.attachment() {
		b.WriteString(" Der Betrag stammt aus dem Anhang " + quoteName(c.src.filename) + ".")
	}
	if disagree {
		var parts []string
		for _, c := range cands {
			if c.countsAsTotal() {
				parts = append(parts, formatEuro(*c.value)+" "+sourcePhrase(c.src))
			}
		}
		b.WriteString(" Die genannten Beträge weichen voneinander ab (" + strings.Join(parts, ", ") + "); bitte prüfen.")
	}
	return b.String()
}

// sourcePhrase names a source in a German sentence.
func sourcePhrase(s textSource) string {
	if s.attachment() {
		return "im Anhang " + quoteName(s.filename)
	}
	return "in der E-Mail"
}

func quoteName(name string) string {
	if name == "" {
		return "ohne Namen"
	}
	return "„" + name + "“"
}
