package matcher

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Signal names, stored in Candidate.Signals (each value 0–1) and shown in
// the admin detail view.
const (
	sigTicket         = "ticket_id"
	sigAktenzeichen   = "aktenzeichen"
	sigReference      = "reference"
	sigSenderEmail    = "sender_email"
	sigSenderDomain   = "sender_domain"
	sigCreditorName   = "creditor_name"
	sigClientName     = "client_name"
	sigRecency        = "recency"
	sigAkzConflict    = "aktenzeichen_conflict"
	sigClientConflict = "client_name_conflict"
	sigCredConflict   = "creditor_name_conflict"
)

// Weights. A candidate's score is the sum of the weights of the signals it
// shows, minus the penalties of the contradictions, clamped to 0–1:
//
//	ticket_id      0.60  same Zendesk ticket — strong alone, yet one ticket
//	                     may carry inquiries to several creditors
//	aktenzeichen   0.50  the firm's case number agrees (normalised)
//	reference      0.35  one of the reply's reference numbers agrees
//	sender_email   0.30  the sender is the inquiry's creditor address
//	sender_domain  0.20  otherwise: same domain, never a freemail one
//	creditor_name  ≤0.25 weight × similarity, when similarity ≥ 0.5
//	client_name    ≤0.35 weight × similarity, when similarity ≥ 0.7
//	recency        ≤0.02 tie-breaker: 1 when sent at the reply, 0 at two years
//
//	aktenzeichen_conflict  −0.40  both sides carry a case number and none agrees
//	client_name_conflict   −0.30  both name the client, similarity < 0.4
//	                       −0.15  similarity 0.4–0.6 (same surname, other person)
//	creditor_name_conflict −0.25  both name the creditor, similarity < 0.4, and
//	                              the sender is not the inquiry's address or domain
//
// The firm's case number belongs to the client, so all inquiries for one
// client share it: the creditor signals (sender, creditor name) are what
// tell those apart, hence the creditor conflict.
//
// So ticket id alone (0.60) or case number alone (0.50) asks for review;
// ticket id with the sender's address (0.90), or case number with the
// client's name (≈0.85), is enough to match automatically when no other
// inquiry comes within MinGap.
const (
	wTicket         = 0.60
	wAktenzeichen   = 0.50
	wReference      = 0.35
	wSenderEmail    = 0.30
	wSenderDomain   = 0.20
	wCreditorName   = 0.25
	wClientName     = 0.35
	wRecency        = 0.02
	pAkzConflict    = 0.40
	pClientConflict = 0.30
	pClientWeak     = 0.15
	pCredConflict   = 0.25

	minCreditorSim    = 0.5
	minClientSim      = 0.7
	clientConflictSim = 0.4
	clientWeakSim     = 0.6
	credConflictSim   = 0.4
)

// scored is a candidate plus its unclamped sum, which ranks candidates that
// both reach the 1.0 cap, and the row scored (for ranking and Result.Inquiry).
type scored struct {
	Candidate
	raw float64
	inq *models.CreditorInquiry
}

// scorer rates the inquiries of one Match call against its reply.
type scorer struct {
	k          lookupKeys
	in         Input
	receivedAt time.Time
	creditor   *nameComparer
	client     *nameComparer
}

func newScorer(k lookupKeys, in Input, receivedAt time.Time) *scorer {
	return &scorer{k: k, in: in, receivedAt: receivedAt,
		creditor: newNameComparer(in.Data.CreditorName), client: newNameComparer(in.Data.ClientName)}
}

// score rates one inquiry against the reply.
func (sc *scorer) score(inq *models.CreditorInquiry) scored {
	k, in, receivedAt := sc.k, sc.in, sc.receivedAt
	sig := map[string]float64{}
	raw := 0.0
	add := func(name string, value, weight float64) {
		sig[name] = round3(value)
		raw += value * weight
	}

	if k.ticketID != "" && strings.TrimSpace(deref(inq.ZendeskTicketID)) == k.ticketID {
		add(sigTicket, 1, wTicket)
	}
	raw += scoreNumbers(k, *inq, sig)
	sender := scoreSender(k, *inq, sig)
	raw += sender

	if in.Data.CreditorName != "" && inq.CreditorName != "" {
		s := sc.creditor.similarity(inq.CreditorName)
		sig[sigCreditorName] = round3(s)
		switch {
		case s >= minCreditorSim:
			raw += s * wCreditorName
		case s < credConflictSim && sender == 0:
			sig[sigCredConflict] = 1
			raw -= pCredConflict
		}
	}
	if in.Data.ClientName != "" && inq.ClientName != "" {
		s := sc.client.similarity(inq.ClientName)
		sig[sigClientName] = round3(s)
		switch {
		case s >= minClientSim:
			raw += s * wClientName
		case s < clientConflictSim:
			sig[sigClientConflict] = 1
			raw -= pClientConflict
		case s < clientWeakSim:
			sig[sigClientConflict] = 0.5
			raw -= pClientWeak
		}
	}

	if inq.SentAt != nil {
		age := receivedAt.Sub(*inq.SentAt)
		if r := 1 - float64(max(age, 0))/float64(lookback); r > 0 {
			add(sigRecency, r, wRecency)
		}
	}
	return scored{
		Candidate: Candidate{InquiryID: inq.ID, Score: round3(clamp01(raw)), Signals: sig},
		raw:       raw,
		inq:       inq,
	}
}

// scoreNumbers adds the case-number and reference signals, or the penalty
// when both sides carry a case number and none of the reply's agrees.
func scoreNumbers(k lookupKeys, inq models.CreditorInquiry, sig map[string]float64) float64 {
	total := 0.0
	if akz := normalizeNumber(deref(inq.ClientAktenzeichen)); akz != "" {
		switch {
		case slices.Contains(k.numbers, akz):
			sig[sigAktenzeichen] = 1
			total += wAktenzeichen
		case k.aktenzeichen != "":
			sig[sigAkzConflict] = 1
			total -= pAkzConflict
		}
	}
	if ref := normalizeNumber(deref(inq.ReferenceNumber)); len(ref) >= minKeyLen && slices.Contains(k.numbers, ref) {
		sig[sigReference] = 1
		total += wReference
	}
	return total
}

// scoreSender adds the sender address signal, or the weaker domain one.
func scoreSender(k lookupKeys, inq models.CreditorInquiry, sig map[string]float64) float64 {
	addr := strings.ToLower(strings.TrimSpace(deref(inq.CreditorEmail)))
	if addr == "" || k.sender == "" {
		return 0
	}
	if addr == k.sender {
		sig[sigSenderEmail] = 1
		return wSenderEmail
	}
	if d := domainOf(addr); d != "" && slices.Contains(k.domains, d) {
		sig[sigSenderDomain] = 1
		return wSenderDomain
	}
	return 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
