package review_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

func ptr[T any](v T) *T { return &v }

// clean is an email the guard lets through: auto match, amount read from
// the body, within the limits and the change allowed.
func clean() review.Input {
	return review.Input{MatchStatus: models.MatchAuto, InquiryID: ptr(uint64(7)), Previous: ptr(1000.0),
		Data: models.ExtractedData{DebtAmount: ptr(1234.56),
			Sources: map[string]string{models.FieldDebtAmount: models.SourceBody}}}
}

func TestGuardReasons(t *testing.T) {
	t.Parallel()
	lim := review.DefaultLimits()
	cases := map[string]func(*review.Input){
		"":                           func(*review.Input) {},
		models.ReasonNoSource:        func(in *review.Input) { in.Data.Sources = nil; in.Body = "Forderung: 99,00 EUR" },
		models.ReasonAmountInvalid:   func(in *review.Input) { in.Data.DebtAmount = ptr(-5.0); in.Previous = nil },
		models.ReasonAmountOverMax:   func(in *review.Input) { in.Data.DebtAmount = ptr(600_000.0); in.Previous = nil },
		models.ReasonAmountChange:    func(in *review.Input) { in.Data.DebtAmount = ptr(400.0) }, // lower is held too
		models.ReasonSourcesDisagree: func(in *review.Input) { in.Data.SourcesDisagree = true },
		models.ReasonMatchUncertain:  func(in *review.Input) { in.MatchStatus = models.MatchNeedsReview },
		models.ReasonNoCandidate:     func(in *review.Input) { in.MatchStatus, in.InquiryID, in.Previous = models.MatchNone, nil, nil },
	}
	for code, change := range cases {
		in := clean()
		change(&in)
		v := lim.Check(in)
		if code == "" {
			require.False(t, v.Held(), "clean input held: %v", v.Reasons)
			continue
		}
		require.Equal(t, []string{code}, v.Review(in).Codes(), code)
		require.NotEmpty(t, review.Message(code))
	}
}

func TestGuardSourceFallbackFindsTheAmountWritten(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"Gesamt 1.234,56 €", "Saldo: 1234,56", "total 1234.56 EUR", "1,234.56", "1 234,56"} {
		require.True(t, review.FindAmount(text, 1234.56), text)
	}
	require.False(t, review.FindAmount("Saldo 1.234,57 und 11234,56", 1234.56))
	in := clean()
	in.Data.Sources = nil
	in.Attachments = []models.AttachmentText{{Position: 0, Text: "Gesamtforderung 1.234,56"}}
	require.False(t, review.DefaultLimits().Check(in).Held())
	in.Data.Sources = map[string]string{models.FieldDebtAmount: models.SourceSender}
	require.True(t, review.DefaultLimits().Check(in).Held(), "the sender is no source of an amount")
}

func TestGuardWithoutAmount(t *testing.T) {
	t.Parallel()
	in := clean()
	in.Data.DebtAmount = nil
	require.False(t, review.DefaultLimits().Check(in).Held(), "a confident match without amount completes")
	in.MatchStatus, in.InquiryID = models.MatchNone, nil
	require.False(t, review.DefaultLimits().Check(in).Held(), "no match and no amount: nothing to decide")
}
