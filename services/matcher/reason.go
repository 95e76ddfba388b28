package matcher

import (
	"fmt"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// signalPhrases name the signals in reasons, strongest first. Reasons carry
// signal names and scores only, never names, numbers or amounts.
var signalPhrases = []struct{ key, phrase string }{
	{sigTicket, "ticket id"},
	{sigAktenzeichen, "case number"},
	{sigReference, "reference number"},
	{sigSenderEmail, "sender address"},
	{sigSenderDomain, "sender domain"},
	{sigCreditorName, "creditor name"},
	{sigClientName, "client name"},
}

// reason explains a decision in one short sentence.
func (m *Matcher) reason(status string, best scored, runnerUp float64, hasRunnerUp bool) string {
	var b strings.Builder
	agree := agreeingSignals(best.Signals)
	if len(agree) == 0 {
		b.WriteString("no signal agrees strongly")
	} else {
		b.WriteString(joinPhrases(agree))
		if len(agree) == 1 {
			b.WriteString(" agrees")
		} else {
			b.WriteString(" agree")
		}
	}
	if best.Signals[sigAkzConflict] > 0 {
		b.WriteString("; case number differs")
	}
	if best.Signals[sigClientConflict] > 0 {
		b.WriteString("; client name differs")
	}
	if best.Signals[sigCredConflict] > 0 {
		b.WriteString("; creditor name differs")
	}
	fmt.Fprintf(&b, "; score %.2f", best.Score)
	if hasRunnerUp {
		fmt.Fprintf(&b, ", runner-up %.2f", runnerUp)
	} else {
		b.WriteString(", no runner-up")
	}
	switch {
	case status == models.MatchAuto:
	case status == models.MatchNeedsReview && best.Score >= m.cfg.AutoThreshold:
		fmt.Fprintf(&b, "; gap below %.2f", m.cfg.MinGap)
	case status == models.MatchNeedsReview:
		fmt.Fprintf(&b, "; below auto threshold %.2f", m.cfg.AutoThreshold)
	default:
		fmt.Fprintf(&b, "; below review threshold %.2f", m.cfg.ReviewThreshold)
	}
	return b.String()
}

// agreeingSignals lists the phrases of the signals that added to the score.
func agreeingSignals(sig map[string]float64) []string {
	var out []string
	for _, s := range signalPhrases {
		v, ok := sig[s.key]
		if !ok {
			continue
		}
		switch s.key {
		case sigCreditorName:
			ok = v >= minCreditorSim
		case sigClientName:
			ok = v >= minClientSim
		}
		if ok && v > 0 {
			out = append(out, s.phrase)
		}
	}
	return out
}

func joinPhrases(p []string) string {
	if len(p) == 1 {
		return p[0]
	}
	return strings.Join(p[:len(p)-1], ", ") + " and " + p[len(p)-1]
}

// noCandidateReason explains why nothing was found.
func noCandidateReason(k lookupKeys) string {
	if k.empty() {
		return "the reply carries no ticket id, case number, reference or sender to look up"
	}
	return "no recent inquiry shares the ticket id, a case or reference number, or the sender"
}
