package rules

import (
	"regexp"
	"strings"
)

// amountKind is what an amount means in its sentence.
type amountKind int

const (
	kindBare       amountKind = iota // money with no telling word
	kindClaim                        // "die Forderung beträgt …": a claim, not named a total
	kindTotal                        // Gesamtforderung, Restschuld, Summe …
	kindItem                         // Hauptforderung, Zinsen, Kosten …
	kindPayment                      // payments received, credits: subtract in a breakdown
	kindSettlement                   // offers, installments: never the claim
	kindIgnore                       // other money: income, share capital, credit lines
)

// Keyword patterns, case-insensitive. RE2 \b is ASCII-only, so stems that
// may start with an umlaut are written without it. The long alternations are
// keywordRes: most labels contain none of their words, which a substring
// search finds out before the regexp would run.
var (
	totalRe      = mustKeywords(`(?i)gesamtforderung(?:en)?|gesamtbetrag|gesamtsumme|gesamtsaldo|gesamtschuld|gesamtrückstand|gesamtkosten|\bgesamt\b|insgesamt|endsumme|endbetrag|\bsumme\b|restschuld(?:en)?|restforderung|restbetrag|restsaldo|offene[rns]? (?:saldo|forderung(?:en)?|betrag|summe|posten|rechnungsbetrag)|noch offen|noch zu zahlen|noch zu begleichen|zu zahlende[rn]? betrag|zahlbetrag|forderungshöhe|forderungsstand|forderungssumme|forderungsbetrag|höhe der forderung|aktuelle[rn]? (?:forderung|saldo|kontostand|stand)|kontostand|sollsaldo|schuldsaldo|endsaldo|kontosaldo|\bsaldo\b|ablösebetrag|ablösesumme|brutto|rückstand|rückstände|rückständig|total amount|total due|total outstanding|total balance|total claim|outstanding balance|outstanding amount|amount outstanding|balance outstanding|balance due|amount due|amount owed|amount payable|total payable|\btotal\b|\bbalance\b`)
	itemRe       = mustKeywords(`(?i)hauptforderung|hauptsache|hauptbetrag|ursprungsforderung|ursprüngliche[rn]? (?:forderung|betrag)|zinsen|\bzins\b|kosten|gebühr(?:en)?|mahnspesen|inkassovergütung|auslagen|nebenforderung(?:en)?|rücklastschrift|\bporto\b|postentgelt|säumniszuschl(?:ag|äge)|zuschl(?:ag|äge)|rechnung(?:en)?|beitr(?:ag|äge)|prämie(?:n)?|entgelt|zwischensumme|\bnetto\b|nettobetrag|\bust\b|mwst|mehrwertsteuer|umsatzsteuer|\w*steuer\b|kaufpreis|warenwert|bestellwert|vertragsstrafe|schadenersatz|schadensersatz|\bprincipal\b|\binterest\b|\bfees?\b|\bcharges?\b|\bcosts?\b|\binvoices?\b|\bsubtotal\b`)
	settlementRe = mustKeywords(`(?i)vergleich\w*|angebot|anbieten|bieten\b|abgeltung|abgegolten|ratenzahlung(?:en)?|ratenplan|ratenvereinbarung|teilzahlungsvereinbarung|\braten?\b|monatsrate|mindestrate|einmalzahlung|einmalbetrag|einmalig\w*|nachlass|erlass|verzicht\w*|\bsettlement\b|\boffer\w*|\binstal+ments?\b|payment plan`)
	paymentRe    = mustKeywords(`(?i)zahlungseing(?:ang|änge)|teilzahlung(?:en)?|gezahlt|bezahlt|überwiesen|gutschrift(?:en)?|abzgl\.?|abzüglich|geleistete[rn]? zahlung(?:en)?|zahlung(?:en)? (?:erhalten|eingegangen)|eingang einer zahlung|erhaltene[rn]? zahlung(?:en)?|\bzahlungen\b|zahlung vom|\bpayments? received\b|\bpaid\b|\bless payments?\b`)
	ignoreRe     = mustKeywords(`(?i)streitwert|gegenstandswert|freibetrag|pfändungsfrei\w*|einkommen|gehalt|\blohn\b|stammkapital|grundkapital|kreditrahmen|kreditlinie|dispo\w*|verfügungsrahmen|\blimit\b|kaution`)
	referenceRe  = mustKeywords(`(?i)nummer|\bnr\b\.?|-nr\b|zeichen|\baz\b|iban|\bbic\b|\btel\b|telefon|\bfax\b|\bplz\b|datum|\bdate\b|\bno\b\.?|\bnumber\b|\bid\b`)
	claimRe      = mustKeywords(`(?i)forderung(?:en)?|betrag|beträgt|betragen|beläuft|belaufen|schuldet|schulden|\bschuld\b|\boffen\b|fällig|ausstehend|außenst(?:and|ände)|verbindlichkeit(?:en)?|in höhe von|i\. ?h\. ?v\.|\bowes?\b|\bowed\b|\bdebt\b|\bamount\b|\boutstanding\b|\bdue\b`)
	// monthlyRe after an amount marks an installment ("50 € monatlich").
	monthlyRe = regexp.MustCompile(`(?i)^[\s,.)]*(?:monatlich\w*|mtl\.?|pro monat|im monat|je monat|/ ?monat|per month|a month|monthly|each month|/ ?mon)`)
	// refusalRe marks a sentence that turns an offer down, so its figures stay claims.
	refusalRe = mustKeywords(`(?i)lehnen|abgelehnt|ablehnen|nicht (?:an|zu)|keine[nmr]? |kein |reject|declin`)
	// unitPriceRe at the end of a label marks a price per unit.
	unitPriceRe = mustTail(`(?i)(?:^|[^\p{L}])(?:je|jeweils|à|a|pro|each|per|zu je)$`)
	// openAfterRe after an amount says it is still owed ("… ist noch offen").
	openAfterRe = mustKeywords(`(?i)offen|rückständig|ausstehend|unbezahlt|nicht bezahlt|nicht beglichen|outstanding|unpaid|overdue`)
	// saldoRe: a minus before a balance means the account is overdrawn.
	saldoRe = mustKeywords(`(?i)saldo|kontostand|balance`)
)

// classRule pairs a pattern with the kind it marks; order breaks ties.
type classRule struct {
	re   keywordRe
	kind amountKind
}

var strongRules = []classRule{
	{totalRe, kindTotal},
	{itemRe, kindItem},
	{settlementRe, kindSettlement},
	{paymentRe, kindPayment},
	{ignoreRe, kindIgnore},
}

// inclusionRe between a total word and an item word means the item is part
// of the total ("Gesamtforderung inkl. Zinsen und Kosten: …").
var inclusionRe = mustKeywords(`(?i)inkl\.?|inklusive|einschl\.?|einschließlich|\bincl\.?|including|zzgl\.?|zuzüglich|nebst|\bsamt\b|\bplus\b|\bmit\b`)

// nearestKind returns the kind of the keyword that ends closest to the end of
// label (the text just before an amount); longer matches win ties, so
// "Zwischensumme" beats "Summe". found is false when no strong keyword occurs.
func nearestKind(label foldedText) (kind amountKind, found bool) {
	bestEnd, bestLen := -1, 0
	var lastTotalEnd = -1
	for _, r := range strongRules {
		for _, m := range r.re.findAll(label) {
			if r.kind == kindTotal && m[1] > lastTotalEnd {
				lastTotalEnd = m[1]
			}
			l := m[1] - m[0]
			if m[1] > bestEnd || m[1] == bestEnd && l > bestLen {
				bestEnd, bestLen, kind, found = m[1], l, r.kind, true
			}
		}
	}
	if found && kind == kindItem && lastTotalEnd >= 0 && lastTotalEnd < bestEnd &&
		inclusionRe.match(label.slice(lastTotalEnd, bestEnd)) {
		kind = kindTotal
	}
	return kind, found
}

// classified is an amount hit with its meaning.
type classified struct {
	amountHit
	kind amountKind
	// labelStart and afterEnd bound the words classify read before and
	// after the amount, where labelOf finds the label again.
	labelStart, afterEnd int
}

// classifyHits gives every hit a kind from the words around it: the label
// between the previous amount (or the sentence start) and this one, then the
// words after it, then the whole sentence for settlement talk. With rows
// (statements, tables), the words after an amount end with its line: the
// next line is the next row, and its label names the next amount.
func classifyHits(body foldedText, hits []amountHit, rows bool) []classified {
	text := body.s
	out := make([]classified, 0, len(hits))
	for i, h := range hits {
		sentStart := sentenceStart(text, h.start, 240)
		labelStart := sentStart
		if i > 0 && hits[i-1].end > labelStart {
			labelStart = hits[i-1].end
		}
		afterEnd := sentenceEnd(text, h.end, 120)
		if i+1 < len(hits) && hits[i+1].start < afterEnd {
			afterEnd = hits[i+1].start
		}
		if nl := strings.IndexByte(text[h.end:afterEnd], '\n'); rows && nl >= 0 {
			afterEnd = h.end + nl
		}
		label := body.slice(labelStart, h.start)
		after := body.slice(h.end, afterEnd)
		k, ok := classify(h, label, after, body.slice(sentStart, sentenceEnd(text, h.end, 240)))
		if !ok {
			continue
		}
		trimmed := strings.TrimRight(label.s, " \t€")
		switch {
		case strings.HasSuffix(trimmed, "=") && len(out) > 0 && out[len(out)-1].end >= labelStart-8:
			// "4 x 29,90 € = 119,60 €": the result replaces the factor.
			k = out[len(out)-1].kind
			out[len(out)-1].kind = kindIgnore
		case unitPriceRe.MatchString(trimmed):
			k = kindIgnore // "je 18,36 €": a unit price, not a sum
		}
		out = append(out, classified{amountHit: h, kind: k, labelStart: labelStart, afterEnd: afterEnd})
	}
	return out
}

// classify decides one hit's kind; ok is false when the hit is not money.
func classify(h amountHit, label, after, sentence foldedText) (amountKind, bool) {
	after = after.trimLeft(" \t€")
	afterWords := after.trimLeft(" ").trimPrefix("EUR").trimPrefix("Euro")
	kind, found := nearestKind(label)
	if !h.currency {
		// Without a currency only a telling word on the same line makes a number money.
		trimmed := label.trimRight(" \t\n:|")
		line := trimmed.slice(strings.LastIndexByte(trimmed.s, '\n')+1, len(trimmed.s))
		lk, lfound := nearestKind(line)
		if !lfound && !claimRe.match(line) {
			return 0, false
		}
		if refEnd := lastMatchEnd(referenceRe, line); refEnd > lastKeywordEnd(line) {
			return 0, false
		}
		if lfound {
			kind, found = lk, true
		}
	}
	if monthlyRe.MatchString(afterWords.s) && kind != kindTotal {
		return kindSettlement, true
	}
	if !found {
		kind, found = kindFromAfter(afterWords)
	} else if kind == kindItem && openAfterRe.match(afterWords.head(60)) {
		kind = kindClaim // "Der Rechnungsbetrag von 89,90 € ist noch offen."
	}
	if !found {
		kind = kindBare
		if claimRe.match(label) || claimRe.match(afterWords) {
			kind = kindClaim
		}
		if settlementRe.match(sentence) && !refusalRe.match(sentence) {
			kind = kindSettlement
		}
	}
	if h.negative {
		if (kind == kindTotal || kind == kindClaim) && saldoRe.match(label) {
			return kind, true // overdrawn account: the minus is the debt
		}
		if kind != kindSettlement && kind != kindIgnore {
			kind = kindPayment
		}
	}
	return kind, true
}

// kindFromAfter looks at the words following an amount ("120 € sind noch
// offen", "200 € wurden gezahlt").
func kindFromAfter(after foldedText) (amountKind, bool) {
	words := after.head(80)
	for _, r := range []classRule{{paymentRe, kindPayment}, {settlementRe, kindSettlement}, {totalRe, kindTotal}} {
		if r.re.match(words) {
			return r.kind, true
		}
	}
	return 0, false
}

func lastMatchEnd(re keywordRe, s foldedText) int {
	end := -1
	for _, m := range re.findAll(s) {
		end = m[1]
	}
	return end
}

func lastKeywordEnd(s foldedText) int {
	end := lastMatchEnd(claimRe, s)
	for _, r := range strongRules {
		end = max(end, lastMatchEnd(r.re, s))
	}
	return end
}
