package pipeline

import (
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
)

// disagreementReason is the match explanation of an email whose sources
// state different totals.
const disagreementReason = "the email and its attachments state different totals (sources_disagree): a person decides"

// reviewDisagreement sends an email whose labelled totals disagree
// (ExtractedData.SourcesDisagree: the body and an attachment, or two
// attachments) to review: match status needs_review, whatever the matcher
// concluded, so no amount is applied automatically; both amounts are in
// extracted_data.amount_evidence.
//
// This is the stand-in until the review queue lands (DESIGN.md §5,
// reason code sources_disagree): that issue replaces this function with
// its reasons and removes the call in match.
func reviewDisagreement(res matcher.Result, data models.ExtractedData) matcher.Result {
	if !data.SourcesDisagree || data.DebtAmount == nil {
		return res
	}
	res.Status, res.Reason = models.MatchNeedsReview, disagreementReason
	return res
}
