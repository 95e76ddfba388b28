package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/debts"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
	"github.com/lawfirm/creditor-email-matcher/services/pipeline"
	"github.com/lawfirm/creditor-email-matcher/services/rules"
)

// attemptStages reads the stages the email's only attempt recorded.
func attemptStages(t *testing.T, f fixture) (models.EmailAttempt, []models.Status) {
	t.Helper()
	var a models.EmailAttempt
	require.NoError(t, f.db.Where("incoming_email_id = ?", f.email).Take(&a).Error)
	var marks []models.StageMark
	require.NoError(t, json.Unmarshal(a.Stages, &marks))
	var stages []models.Status
	for i, m := range marks {
		stages = append(stages, m.Stage)
		require.False(t, m.At.IsZero())
		if i > 0 {
			require.False(t, m.At.Before(marks[i-1].At), "stages in time order")
		}
	}
	return a, stages
}

// TestQuickPathRecordsEveryStageWithTheFinalWrite: with the rules and no
// attachments the email goes processing → completed in one statement, which
// saves what each stage computed and the attempt's stages with their times,
// so the detail still shows every stage.
func TestQuickPathRecordsEveryStageWithTheFinalWrite(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	st := f.db.Store(t)
	var observed []string
	p := pipeline.New(st, rules.New(), matcher.New(st, matcher.DefaultConfig()), debts.Writer{SyncEnabled: true},
		func(stage string, _ time.Duration) { observed = append(observed, stage) })
	job := claim(t, st, f.email)
	status, err := p.Process(context.Background(), job)
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	require.Equal(t, []string{"parse", "extract", "match"}, observed)

	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	require.Equal(t, models.StatusCompleted, e.ProcessingStatus)
	require.NotNil(t, e.CleanedBody)
	require.NotContains(t, *e.CleanedBody, "Alte Forderung")
	require.Greater(t, *e.TokenCountBefore, *e.TokenCountAfter)
	var data models.ExtractedData
	require.NoError(t, json.Unmarshal(e.ExtractedData, &data))
	require.Equal(t, models.ExtractorRules, data.Extractor)
	require.Equal(t, models.MatchAuto, *e.MatchStatus)
	var n int64
	require.NoError(t, f.db.Model(&models.DebtUpdate{}).Where("incoming_email_id = ?", f.email).Count(&n).Error)
	require.EqualValues(t, 1, n)

	a, stages := attemptStages(t, f)
	require.Equal(t, models.OutcomeCompleted, *a.Outcome)
	require.Equal(t, []models.Status{models.StatusParsed, models.StatusExtracting, models.StatusExtracted, models.StatusMatching}, stages)

	detail, err := jobs.New(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil))).Get(context.Background(), f.email)
	require.NoError(t, err)
	require.Len(t, detail.Attempts, 1)
	require.Len(t, detail.Attempts[0].Stages, 4, "the job detail shows every stage")
}

func TestQuickPathNotCreditorReplyRecordsItsStages(t *testing.T) {
	t.Parallel()
	f := setup(t, "Abwesenheitsnotiz: Ich bin bis 10.12. nicht im Büro")
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET raw_body_html = '', raw_body_text = ? WHERE id = ?",
		"Vielen Dank für Ihre Nachricht. Ich bin bis zum 10.12.2026 nicht im Büro und habe keinen Zugriff auf meine E-Mails.", f.email).Error)
	st := f.db.Store(t)
	p := newPipeline(st, rules.New(), matcher.New(st, matcher.DefaultConfig()))
	status, err := p.Process(context.Background(), claim(t, st, f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusNotCreditorReply, status)
	var e models.IncomingEmail
	require.NoError(t, f.db.Take(&e, f.email).Error)
	require.Equal(t, models.StatusNotCreditorReply, e.ProcessingStatus)
	require.NotNil(t, e.CleanedBody)
	require.NotEmpty(t, e.ExtractedData)
	_, stages := attemptStages(t, f)
	require.Equal(t, []models.Status{models.StatusParsed, models.StatusExtracting, models.StatusExtracted}, stages)
}

// TestStageByStageRecordsItsStagesToo: an extractor that is not Quick
// writes each stage on its own, and the attempt's end records them all the
// same, so both paths show the same timeline.
func TestStageByStageRecordsItsStagesToo(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	st := f.db.Store(t)
	p := newPipeline(st, &countingExtractor{inner: rules.New()}, matcher.New(st, matcher.DefaultConfig()))
	status, err := p.Process(context.Background(), claim(t, st, f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
	_, stages := attemptStages(t, f)
	require.Equal(t, []models.Status{models.StatusParsed, models.StatusExtracting, models.StatusExtracted, models.StatusMatching}, stages)
}

// TestQuickPathAfterACrashReprocessesFromProcessing: a crash mid-way leaves
// the email in processing with nothing saved; once the reaper (here: the
// lease expiring and a new claim) hands it on, the next attempt does it all.
func TestQuickPathAfterACrashReprocessesFromProcessing(t *testing.T) {
	t.Parallel()
	f := setup(t, "AW: Ihre Anfrage")
	st := f.db.Store(t)
	claim(t, st, f.email) // the attempt that crashed: claimed, nothing written
	queued, _, err := st.RescueExpired(context.Background(), 10, 5)
	require.NoError(t, err)
	require.Empty(t, queued, "the lease has not expired")
	require.NoError(t, f.db.Exec("UPDATE incoming_emails SET lease_until = now() - interval '1 second' WHERE id = ?", f.email).Error)
	queued, _, err = st.RescueExpired(context.Background(), 10, 5)
	require.NoError(t, err)
	require.Equal(t, []uint64{f.email}, queued)

	p := newPipeline(st, rules.New(), matcher.New(st, matcher.DefaultConfig()))
	status, err := p.Process(context.Background(), claim(t, st, f.email))
	require.NoError(t, err)
	require.Equal(t, models.StatusCompleted, status)
}
