package pipeline

import (
	"context"
	"fmt"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/review"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// WithGuard sets the review guard's thresholds (AMOUNT_MAX,
// AMOUNT_CHANGE_REVIEW); without it the documented defaults apply.
func WithGuard(l review.Limits) Option {
	return func(p *Pipeline) { p.limits = l }
}

// final is the one place a matched reply's final write is decided: the
// review guard runs on the matcher's result, and the email either applies
// its amount (debt update, portal sync, notification) or waits for a person
// with no debt update and a review_needed row. Every path that completes a
// creditor reply calls it right before store.Finish.
func (p *Pipeline) final(ctx context.Context, job *models.Job, data models.ExtractedData, res matcher.Result,
	texts []models.AttachmentText) (store.Final, error) {
	in, err := p.guardInput(ctx, job, data, res, texts)
	if err != nil {
		return store.Final{}, err
	}
	m := store.Match{Status: res.Status, InquiryID: res.InquiryID, Confidence: clamp01(res.Confidence),
		Details: models.MustJSON(res)}
	verdict := p.limits.Check(in)
	if verdict.Held() {
		rv := verdict.Review(in)
		notice := models.ReviewNeededPayload{EmailID: job.Email.ID, TicketID: job.Email.ZendeskTicketID,
			Reasons: rv.Codes(), Sentence: rv.Sentence}
		return store.AwaitingReview(m, rv, notice), nil
	}
	decision := debts.Decision{Status: res.Status, InquiryID: res.InquiryID, Confidence: res.Confidence,
		Inquiry: res.Inquiry, Previous: in.Previous}
	record, syncStatus, err := p.debts.Record(job.Email, data, decision)
	if err != nil {
		return store.Final{}, err
	}
	return store.Completed(m, syncStatus, record), nil
}

// guardInput gathers what the guard looks at: the proposed inquiry's last
// known amount, and the texts an amount without a recorded source is looked
// for in (the attachments' stored texts when an earlier attempt read them).
func (p *Pipeline) guardInput(ctx context.Context, job *models.Job, data models.ExtractedData, res matcher.Result,
	texts []models.AttachmentText) (review.Input, error) {
	in := review.Input{MatchStatus: res.Status, InquiryID: res.InquiryID, Data: data,
		Subject: job.Email.Subject, Attachments: texts}
	if job.Email.CleanedBody != nil {
		in.Body = *job.Email.CleanedBody
	}
	if data.DebtAmount == nil {
		return in, nil
	}
	if res.InquiryID != nil {
		prev, err := p.store.LastKnownAmount(ctx, *res.InquiryID, res.Inquiry)
		if err != nil {
			return in, fmt.Errorf("guard: %w", err)
		}
		in.Previous = prev
	}
	if data.Sources[models.FieldDebtAmount] == "" && texts == nil && job.Email.AttachmentURLs != nil {
		rows, err := p.store.Attachments(ctx, job.Email.ID)
		if err != nil {
			return in, fmt.Errorf("guard: %w", err)
		}
		for _, r := range rows {
			if r.Text != nil {
				in.Attachments = append(in.Attachments, models.AttachmentText{Position: r.Position, Filename: r.Filename, Text: *r.Text})
			}
		}
	}
	return in, nil
}
