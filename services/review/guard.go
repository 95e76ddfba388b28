// Package review keeps doubtful amounts out of clients' files: the guard
// decides, right before an email's final write, whether its amount may be
// applied automatically; the service applies a person's decision on an
// email the guard held (DESIGN.md §1.7, §3 review, §5).
package review

import (
	"math"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// reasonText is the one table of reasons: each code with its sentence for
// people, in the order a review lists them.
var reasonText = []models.ReviewReason{
	{Code: models.ReasonNoSource, Message: "The amount was not found in the email or its attachments; it may not have been read but made up."},
	{Code: models.ReasonAmountInvalid, Message: "The amount is zero, negative or not a number."},
	{Code: models.ReasonAmountOverMax, Message: "The amount is above the largest amount applied without a person (AMOUNT_MAX)."},
	{Code: models.ReasonAmountChange, Message: "The amount differs from the inquiry's last known amount by more than AMOUNT_CHANGE_REVIEW allows."},
	{Code: models.ReasonSourcesDisagree, Message: "The email and its attachments state different totals."},
	{Code: models.ReasonMatchUncertain, Message: "It is not certain which inquiry this reply answers."},
	{Code: models.ReasonNoCandidate, Message: "No inquiry was found that this reply could answer."},
}

// Message is the sentence for code ("" for an unknown code).
func Message(code string) string {
	for _, r := range reasonText {
		if r.Code == code {
			return r.Message
		}
	}
	return ""
}

// Codes lists every reason code in the table's order.
func Codes() []string {
	out := make([]string, len(reasonText))
	for i, r := range reasonText {
		out[i] = r.Code
	}
	return out
}

// Limits are the guard's thresholds (AMOUNT_MAX, AMOUNT_CHANGE_REVIEW).
type Limits struct {
	// AmountMax is the largest amount applied automatically (EUR).
	AmountMax float64
	// ChangeFraction is the largest change, as a fraction of the last known
	// amount, applied automatically, in either direction.
	ChangeFraction float64
}

// DefaultLimits are the documented defaults.
func DefaultLimits() Limits { return Limits{AmountMax: 500_000, ChangeFraction: 0.5} }

// Input is what the guard looks at, right before the final write.
type Input struct {
	// MatchStatus and InquiryID are the matcher's decision.
	MatchStatus string
	InquiryID   *uint64
	Data        models.ExtractedData
	// Previous is the proposed inquiry's last known amount (nil: unknown,
	// no change check).
	Previous *float64
	// Subject, Body and Attachments are the texts the email was read from,
	// where an amount without a recorded source is looked for verbatim.
	Subject     string
	Body        string
	Attachments []models.AttachmentText
}

// Verdict is the guard's answer: no reasons means the match and amount are
// applied as the matcher decided.
type Verdict struct {
	Reasons []models.ReviewReason
}

// Held reports whether the email must wait for a person.
func (v Verdict) Held() bool { return len(v.Reasons) > 0 }

// Review is the verdict as stored with a held email.
func (v Verdict) Review(in Input) models.Review {
	msgs := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		msgs[i] = r.Message
	}
	return models.Review{Reasons: v.Reasons, Sentence: strings.Join(msgs, " "),
		ProposedInquiryID: in.InquiryID, Amount: in.Data.DebtAmount, PreviousAmount: in.Previous}
}

// Check is the guard. An amount is applied automatically only when it was
// read from the email or an attachment, 0 < amount ≤ AmountMax, the match is
// auto_matched, the sources agree, and it differs from the last known
// amount by at most ChangeFraction. An email without an amount is held only
// when its match is uncertain; without an amount and without a candidate it
// is simply not matched.
func (l Limits) Check(in Input) Verdict {
	found := map[string]bool{}
	amount := in.Data.DebtAmount
	if amount != nil {
		a := *amount
		switch {
		case math.IsNaN(a) || math.IsInf(a, 0) || a <= 0:
			found[models.ReasonAmountInvalid] = true
		case a > l.AmountMax:
			found[models.ReasonAmountOverMax] = true
		}
		if !sourced(in, a) {
			found[models.ReasonNoSource] = true
		}
		if in.Data.SourcesDisagree {
			found[models.ReasonSourcesDisagree] = true
		}
		if changed(a, in.Previous, l.ChangeFraction) {
			found[models.ReasonAmountChange] = true
		}
	}
	switch {
	case in.MatchStatus == models.MatchNeedsReview:
		found[models.ReasonMatchUncertain] = true
	case in.MatchStatus == models.MatchAuto && in.InquiryID != nil:
	case amount != nil:
		found[models.ReasonNoCandidate] = true
	}
	var v Verdict
	for _, r := range reasonText {
		if found[r.Code] {
			v.Reasons = append(v.Reasons, r)
		}
	}
	return v
}

// changed reports a change of more than fraction against prev, either way.
func changed(a float64, prev *float64, fraction float64) bool {
	if prev == nil || *prev <= 0 || math.IsNaN(a) {
		return false
	}
	return math.Abs(a-*prev) > fraction**prev+0.005
}

// sourced reports whether the amount was read from the email: the
// extractor named the body, the subject or an attachment as its source,
// or (for an extractor that names no sources) the amount is written in one
// of them.
func sourced(in Input, a float64) bool {
	switch src := in.Data.Sources[models.FieldDebtAmount]; {
	case src == models.SourceBody, src == models.SourceSubject, strings.HasPrefix(src, "attachment:"):
		return true
	case src != "":
		return false // named, but not a place an amount may come from (the sender)
	}
	if FindAmount(in.Body, a) || FindAmount(in.Subject, a) {
		return true
	}
	for _, t := range in.Attachments {
		if FindAmount(t.Text, a) {
			return true
		}
	}
	return false
}
