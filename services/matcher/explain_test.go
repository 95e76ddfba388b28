package matcher

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// TestCandidateQueryUsesIndexes proves the query's key expressions are those
// of the migration's indexes: on a table of recent inquiries the plan uses
// every key index and never reads the whole table.
func TestCandidateQueryUsesIndexes(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	require.NoError(t, db.Exec(`
INSERT INTO creditor_inquiries (client_name, client_aktenzeichen, creditor_name, creditor_email,
  reference_number, zendesk_ticket_id, sent_at)
SELECT 'Client ' || g, g || '/24', 'Creditor ' || (g % 500), 'c' || g || '@creditor' || (g % 500) || '.de',
  'REF-' || g, (100000 + g)::text, now() - (g % 600) * interval '1 day'
FROM generate_series(1, 20000) g`).Error)
	require.NoError(t, db.Exec("ANALYZE creditor_inquiries").Error)
	in := input("1001", "mahnung@post.inkasso-x.de", models.ExtractedData{
		ClientAktenzeichen: "12345/24", ReferenceNumbers: []string{"KD-4711"},
	})
	groups := keyGroups(keysFor(in))
	require.Len(t, groups, 2)
	var text string
	for _, keys := range groups {
		query := db.ToSQL(func(tx *gorm.DB) *gorm.DB {
			var rows []models.CreditorInquiry
			return candidateQuery(tx, keys, now).Find(&rows)
		})
		var plan []string
		require.NoError(t, db.Raw("EXPLAIN "+query).Scan(&plan).Error)
		text += strings.Join(plan, "\n") + "\n"
	}
	require.NotContains(t, text, "Seq Scan", text)
	for _, idx := range []string{
		"creditor_inquiries_ticket_idx",
		"creditor_inquiries_aktenzeichen_norm_idx",
		"creditor_inquiries_reference_norm_idx",
		"creditor_inquiries_email_lower_idx",
		"creditor_inquiries_email_domain_idx",
	} {
		require.Contains(t, text, idx, text)
	}
}
