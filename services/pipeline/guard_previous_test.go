package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
)

// The change check compares with the inquiry's latest debt update once it
// has one, not with the amount the firm asked about: the inquiry asked
// about 1.999,00; a first reply of 2.345,67 (+17 %) is applied; a second
// of 1.100,00 is within 50 % of 1.999,00 but 53 % below 2.345,67, so it is
// held (amount_change) and writes no second debt update.
func TestTheGuardComparesWithTheLatestDebtUpdate(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	st := f.db.Store(t)
	p := pipeline.New(st, rules.New(), matcher.New(st, matcher.DefaultConfig()), debts.Writer{SyncEnabled: true}, nil,
		pipeline.WithGuard(review.DefaultLimits()))
	status, err := p.Process(context.Background(), claim(t, st, f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)

	var first models.IncomingEmail
	require.NoError(t, f.db.Take(&first, f.email).Error)
	second := first
	second.ID, second.DedupKey, second.ProcessingStatus = 0, first.DedupKey+":2", models.StatusQueued
	second.RawBodyHTML = strings.Replace(replyHTML, "2.345,67", "1.100,00", 1)
	second.CleanedBody, second.ExtractedData, second.MatchStatus, second.MatchedInquiryID = nil, nil, nil, nil
	second.MatchConfidence, second.MatchDetails, second.CompletedAt, second.StartedAt = nil, nil, nil, nil
	second.SyncStatus, second.Review = models.SyncNotApplicable, nil
	require.NoError(t, f.db.Omit("id").Create(&second).Error)

	status, err = p.Process(context.Background(), claim(t, st, second.ID))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, second.ID).Error)
	require.Equal(t, models.MatchNeedsReview, *e.MatchStatus)
	require.Contains(t, string(e.Review), models.ReasonAmountChange)
	var n int64
	require.NoError(t, f.db.Model(&models.DebtUpdate{}).Where("creditor_inquiry_id = ?", f.inquiry).Count(&n).Error)
	require.EqualValues(t, 1, n, "only the first reply's update")
}

// Before any answer the inquiry's own amount is the last known one, read
// with the candidates: a first reply far from it is held.
func TestTheGuardComparesAFirstAnswerWithTheInquiry(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	require.NoError(t, f.db.Model(&models.CreditorInquiry{}).Where("id = ?", f.inquiry).Update("debt_amount", 900).Error)
	st := f.db.Store(t)
	p := pipeline.New(st, rules.New(), matcher.New(st, matcher.DefaultConfig()), debts.Writer{SyncEnabled: true}, nil,
		pipeline.WithGuard(review.DefaultLimits()))
	_, err := p.Process(context.Background(), claim(t, st, f.email))
	require.NoError(t, err)
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	require.Equal(t, models.MatchNeedsReview, *e.MatchStatus)
	require.Contains(t, string(e.Review), models.ReasonAmountChange)
}
