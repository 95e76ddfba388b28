// Package matcher finds the creditor inquiry a reply answers. It looks up
// candidates by indexed keys (ticket id, case and reference numbers, sender
// address and domain), scores each on every signal including name
// similarity, and decides auto_matched, needs_review or no_match.
package matcher

import (
	"context"
	"sort"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// Config holds thresholds (from MATCH_AUTO_THRESHOLD default 0.8,
// MATCH_REVIEW_THRESHOLD 0.45, MATCH_MIN_GAP 0.15).
type Config struct{ AutoThreshold, ReviewThreshold, MinGap float64 }

// DefaultConfig returns the documented default thresholds.
func DefaultConfig() Config {
	return Config{AutoThreshold: 0.8, ReviewThreshold: 0.45, MinGap: 0.15}
}

// Input is what the matcher knows about the reply.
type Input struct {
	TicketID   string
	FromEmail  string
	Data       models.ExtractedData
	ReceivedAt time.Time
}

// Candidate is one scored inquiry.
type Candidate struct {
	InquiryID uint64             `json:"inquiry_id"`
	Score     float64            `json:"score"`
	Signals   map[string]float64 `json:"signals"` // e.g. "ticket_id":1, "aktenzeichen":1, "creditor_name":0.92 …
}

// Result is the decision plus its explanation (stored as
// incoming_emails.match_details jsonb). Confidence is the best candidate's
// score whatever the status (0 without candidates); InquiryID is nil for
// no_match and the best candidate otherwise.
type Result struct {
	Status     string      `json:"status"` // models.MatchAuto / MatchNeedsReview / MatchNone
	InquiryID  *uint64     `json:"inquiry_id"`
	Confidence float64     `json:"confidence"`
	Reason     string      `json:"reason"`     // short English sentence without personal data
	Candidates []Candidate `json:"candidates"` // top 5, best first
	// Inquiry is the matched inquiry as read for scoring (with the amount
	// it asked about), so the caller need not read it again; nil for no_match.
	Inquiry *models.CreditorInquiry `json:"-"`
}

// maxReported is how many candidates a Result keeps.
const maxReported = 5

// Matcher scores inquiries against replies. It is safe for concurrent use.
type Matcher struct {
	store *store.Store
	cfg   Config
}

const (
	// lookback is how old an inquiry may be and still be answered.
	lookback = 2 * 365 * 24 * time.Hour
	// clockSlack tolerates an inquiry stamped slightly after the reply.
	clockSlack = 7 * 24 * time.Hour
	// queryTimeout bounds the candidate query.
	queryTimeout = 10 * time.Second
)

// New returns a matcher reading its candidates from st
// (store.InquiryCandidates). A zero Config means DefaultConfig.
func New(st *store.Store, cfg Config) *Matcher {
	if cfg == (Config{}) {
		cfg = DefaultConfig()
	}
	return &Matcher{store: st, cfg: cfg}
}

// Match reads candidates and scores them. It reads only; the caller stores
// the result.
func (m *Matcher) Match(ctx context.Context, in Input) (Result, error) {
	receivedAt := in.ReceivedAt
	if receivedAt.IsZero() {
		receivedAt = time.Now()
	}
	k := keysFor(in)
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := m.store.InquiryCandidates(qctx, k.candidateKeys(receivedAt))
	if err != nil {
		return Result{}, err
	}
	sc := newScorer(k, in, receivedAt)
	ranked := make([]scored, 0, len(rows))
	for i := range rows {
		ranked = append(ranked, sc.score(&rows[i]))
	}
	sort.SliceStable(ranked, func(i, j int) bool { return better(ranked[i], ranked[j]) })
	return m.decide(k, ranked), nil
}

// better orders candidates: higher score, then higher unclamped sum, then
// the candidate order of the lookup (the more recent inquiry, then the newer
// row).
func better(a, b scored) bool {
	switch {
	case a.Score != b.Score:
		return a.Score > b.Score
	case a.raw != b.raw:
		return a.raw > b.raw
	}
	return models.CompareInquiryRecency(a.inq, b.inq) < 0
}

// decide applies the thresholds to the ranked candidates.
func (m *Matcher) decide(k lookupKeys, ranked []scored) Result {
	res := Result{Status: models.MatchNone, Candidates: []Candidate{}}
	for i := 0; i < len(ranked) && i < maxReported; i++ {
		res.Candidates = append(res.Candidates, ranked[i].Candidate)
	}
	if len(ranked) == 0 {
		res.Reason = noCandidateReason(k)
		return res
	}
	best := ranked[0]
	runnerUp := 0.0
	if len(ranked) > 1 {
		runnerUp = ranked[1].Score
	}
	res.Confidence = best.Score
	gap := round3(best.Score - runnerUp)
	switch {
	case best.Score >= m.cfg.AutoThreshold && gap >= m.cfg.MinGap:
		res.Status = models.MatchAuto
	case best.Score >= m.cfg.ReviewThreshold:
		res.Status = models.MatchNeedsReview
	}
	if res.Status != models.MatchNone {
		id := best.InquiryID
		res.InquiryID = &id
		res.Inquiry = best.inq
	}
	res.Reason = m.reason(res.Status, best, runnerUp, len(ranked) > 1)
	return res
}
