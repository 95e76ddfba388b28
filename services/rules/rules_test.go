package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
)

func TestExtractBuildsAllFields(t *testing.T) {
	t.Parallel()
	got, err := New().Extract(context.Background(), models.EmailInput{
		FromEmail: "forderung@muster-inkasso.de",
		Subject:   "AW: Forderungsanfrage Mandant Max Mustermann - Az. 12345/24",
		CleanedBody: "Unser Zeichen: INK-4711\nDie Gesamtforderung gegen Ihren Mandanten beträgt 1.234,56 €.\n\n" +
			"Mit freundlichen Grüßen\nMuster Inkasso GmbH",
	})
	require.NoError(t, err)
	require.True(t, got.IsCreditorReply)
	require.NotNil(t, got.DebtAmount)
	require.InDelta(t, 1234.56, *got.DebtAmount, 0.001)
	require.Equal(t, "Mustermann, Max", got.ClientName)
	require.Equal(t, "Muster Inkasso GmbH", got.CreditorName)
	require.Equal(t, "12345/24", got.ClientAktenzeichen)
	require.Equal(t, []string{"INK-4711"}, got.ReferenceNumbers)
	require.Equal(t, models.ExtractorRules, got.Extractor)
	require.GreaterOrEqual(t, got.Confidence, 0.9)
	require.Equal(t, "Muster Inkasso GmbH beziffert die Forderung zu Mustermann, Max (Az. 12345/24) auf 1.234,56 €.", got.Summary)
}

func TestExtractNotAReply(t *testing.T) {
	t.Parallel()
	got, err := New().Extract(context.Background(), models.EmailInput{
		FromEmail:   "a@b.de",
		Subject:     "Automatische Antwort: Forderungsanfrage",
		CleanedBody: "Ich bin bis 30.04. nicht im Büro. Gesamtforderung laut Anfrage 500 €.",
	})
	require.NoError(t, err)
	require.False(t, got.IsCreditorReply)
	require.Nil(t, got.DebtAmount)
	require.Equal(t, []string{}, got.ReferenceNumbers)
	require.Contains(t, got.Summary, "Keine Gläubigerantwort")
}

func TestExtractEmptyAndCancelled(t *testing.T) {
	t.Parallel()
	got, err := New().Extract(context.Background(), models.EmailInput{})
	require.NoError(t, err)
	require.NotNil(t, got.ReferenceNumbers)
	require.Nil(t, got.DebtAmount)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = New().Extract(ctx, models.EmailInput{CleanedBody: "x"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestConfidenceOrdersByEvidence(t *testing.T) {
	t.Parallel()
	total := confidence(replyCreditor, false, basisTotal, false, false)
	sum := confidence(replyCreditor, false, basisSum, false, false)
	bare := confidence(replyCreditor, false, basisBare, false, false)
	require.Greater(t, total, sum)
	require.Greater(t, sum, bare)
}
