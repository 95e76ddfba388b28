package handlers_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// heldCase is an email the guard held, with the evidence a person sees.
type heldCase struct {
	ID, Inquiry, Other uint64
}

// held stores two inquiries and a reply the guard held because its amount
// (2.480,00 EUR, read from an attachment) moved too far from the 1.000 EUR
// asked about; received is its age.
func (e *jobsEnv) held(t *testing.T, received time.Duration) heldCase {
	t.Helper()
	inq := models.CreditorInquiry{ClientName: "Mustermann, Max", CreditorName: "Inkasso Beispiel GmbH", DebtAmount: ptrF(1000)}
	require.NoError(t, e.db.Omit("id").Create(&inq).Error)
	other := models.CreditorInquiry{ClientName: "Musterfrau, Erika", CreditorName: "Inkasso Beispiel GmbH", DebtAmount: ptrF(300)}
	require.NoError(t, e.db.Omit("id").Create(&other).Error)
	amount, prev := 2480.0, 1000.0
	excerpt := "Gesamtforderung zum 01.12.2026: 2.480,00 EUR"
	data := models.ExtractedData{IsCreditorReply: true, ClientName: "Mustermann, Max", CreditorName: "Inkasso Beispiel GmbH",
		DebtAmount: &amount, ReferenceNumbers: []string{"AZ-2026-0815"}, Confidence: 0.9, Extractor: "rules",
		Sources: map[string]string{models.FieldDebtAmount: models.AttachmentSource(0), models.FieldClientName: models.SourceBody,
			models.FieldCreditorName: models.SourceSender, models.FieldReferenceNumbers: models.SourceSubject},
		AmountEvidence: []models.AmountEvidence{{Source: models.AttachmentSource(0), Filename: "forderungsaufstellung.pdf",
			Amount: amount, Label: "Gesamtforderung", Excerpt: excerpt, Chosen: true}}}
	details := map[string]any{"status": models.MatchNeedsReview, "inquiry_id": inq.ID, "confidence": 0.93,
		"reason": "reference number and client name match", "candidates": []map[string]any{
			{"inquiry_id": inq.ID, "score": 0.93, "signals": map[string]float64{"aktenzeichen": 1, "client_name": 0.95, "creditor_name": 0.9}},
			{"inquiry_id": other.ID, "score": 0.41, "signals": map[string]float64{"creditor_name": 0.9}},
		}}
	rv := models.Review{Reasons: []models.ReviewReason{{Code: models.ReasonAmountChange,
		Message: "The amount 2480.00 differs from the last known 1000.00 by more than allowed."}},
		Sentence: "The amount changed by 148 % against the last known amount.", ProposedInquiryID: &inq.ID,
		Amount: &amount, PreviousAmount: &prev}
	at := time.Now().Add(-received).UTC()
	var id uint64
	require.NoError(t, e.db.Raw(`INSERT INTO incoming_emails (zendesk_ticket_id, dedup_key, from_email, subject, received_at,
  processing_status, started_at, completed_at, cleaned_body, match_status, match_confidence, matched_inquiry_id,
  extracted_data, match_details, review, sync_status, attachment_urls)
VALUES ('4711', ?, 'forderung@inkasso-beispiel.example', 'AZ-2026-0815 Mustermann', ?, 'completed', ?, ?,
  'Sehr geehrte Damen und Herren, anbei die aktuelle Forderungsaufstellung zu Max Mustermann.', 'needs_review', 0.93, ?,
  ?, ?, ?, 'not_applicable', '[]') RETURNING id`,
		"k-"+apptest.RandomID(), at, at, at, inq.ID, models.MustJSON(data), models.MustJSON(details), models.MustJSON(rv)).Row().Scan(&id))
	size, reader, pages, text := int64(48213), "pdf_text", 1, "Forderungsaufstellung\n"+excerpt
	require.NoError(t, e.db.Create(&models.EmailAttachment{IncomingEmailID: id, Position: 0, Filename: "forderungsaufstellung.pdf",
		ContentType: "application/pdf", SizeBytes: &size, Status: models.AttachmentRead, Reader: &reader, Pages: &pages,
		Text: &text, Attempts: 1}).Error)
	return heldCase{ID: id, Inquiry: inq.ID, Other: other.ID}
}

func ptrF(f float64) *float64 { return &f }

func (e *jobsEnv) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Table(table).Where(where, args...).Count(&n).Error)
	return n
}

func TestReviewAPIDecodesStrictly(t *testing.T) {
	t.Parallel()
	e := newJobsEnv(t)
	h := e.held(t, time.Hour)
	path := fmt.Sprintf("/api/v1/jobs/%d/review", h.ID)
	for name, body := range map[string]string{
		"unknown field":    `{"action":"approve","by":"me"}`,
		"trailing bytes":   `{"action":"approve"} {}`,
		"trailing junk":    `{"action":"approve"}x`,
		"not an object":    `["approve"]`,
		"empty":            ``,
		"wrong type":       `{"action":"correct","amount":"12,50","note":"x"}`,
		"unknown action":   `{"action":"accept"}`,
		"correct, no note": `{"action":"correct","amount":12.5}`,
		"correct, zero":    `{"action":"correct","amount":0,"note":"x"}`,
		"reassign, none":   `{"action":"reassign"}`,
		"reassign, absent": `{"action":"reassign","inquiry_id":999999999}`,
	} {
		code, raw := e.admin(t, http.MethodPost, path, body)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", name, raw)
		require.Equal(t, "invalid", decodeError(t, raw).Error.Code, name)
	}
	require.EqualValues(t, 0, e.count(t, "review_decisions", "incoming_email_id = ?", h.ID))

	code, raw := e.admin(t, http.MethodPost, path, `{"action":"approve"}`)
	require.Equal(t, http.StatusOK, code, string(raw))
	require.JSONEq(t, fmt.Sprintf(`{"id":%d,"action":"approve"}`, h.ID), string(raw))
	code, raw = e.admin(t, http.MethodPost, path, `{"action":"reject"}`)
	require.Equal(t, http.StatusConflict, code, string(raw))
	require.Equal(t, "conflict", decodeError(t, raw).Error.Code)
	require.EqualValues(t, 1, e.count(t, "review_decisions", "incoming_email_id = ?", h.ID))
	require.EqualValues(t, 1, e.count(t, "debt_updates", "incoming_email_id = ? AND amount = 2480", h.ID))

	code, raw = e.admin(t, http.MethodPost, "/api/v1/jobs/999999999/review", `{"action":"approve"}`)
	require.Equal(t, http.StatusNotFound, code, string(raw))
	require.Equal(t, "not_found", decodeError(t, raw).Error.Code)
	code, _ = e.call(t, http.MethodPost, path, "", `{"action":"approve"}`)
	require.Equal(t, http.StatusUnauthorized, code)
}
