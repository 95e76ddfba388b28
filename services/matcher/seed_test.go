package matcher

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
)

// seedSkewed fills a fresh schema with n recent inquiries spread over 50
// creditor domains the way a real book is: a few big creditors hold most
// inquiries (domain 0 about a quarter), the rest a handful each. Most of a
// creditor's inquiries go to one shared address. Statistics are gathered,
// as autovacuum would on a live table.
func seedSkewed(t testing.TB, n int) *apptest.DB {
	t.Helper()
	db := apptest.NewDB(t)
	require.NoError(t, db.Exec(`
INSERT INTO creditor_inquiries (client_name, client_aktenzeichen, creditor_name, creditor_email,
  reference_number, zendesk_ticket_id, sent_at, debt_amount)
SELECT (ARRAY['Max','Erika','Hans','Anna','Jürgen','Petra','Lukas','Sabine','Ali','Marta'])[1 + g % 10]
    || ' ' || (ARRAY['Müller','Schmidt','Schneider','Fischer','Weber','Meyer','Wagner','Becker',
                     'Schulz','Hoffmann','Schäfer','Koch','Bauer'])[1 + (g / 10) % 13],
  'RA-' || (2024 + g % 3) || '-' || lpad(g::text, 5, '0'),
  'Gläubiger ' || d || ' GmbH',
  CASE WHEN g % 7 = 0 THEN 'sb' || (g % 40) || '@creditor' || d || '.de'
       ELSE 'forderungen@creditor' || d || '.de' END,
  (1000000 + g)::text, (400000 + g)::text,
  now() - (g % 700) * interval '1 day',
  CASE WHEN g % 10 <> 0 THEN round((100 + (g * 37) % 50000) * 1.37, 2) END
FROM generate_series(1, ?) g,
  LATERAL (SELECT floor(power(((g * 7919) % 1000) / 1000.0, 3) * 50)::int AS d) dd`, n).Error)
	require.NoError(t, db.Exec("ANALYZE creditor_inquiries").Error)
	return db
}

// skewedReplies builds one reply per sampled inquiry of seedSkewed, the way
// the extractor sees it: ticket, case number, reference, names and sender.
func skewedReplies(t testing.TB, db *apptest.DB, count int) []Input {
	t.Helper()
	var rows []models.CreditorInquiry
	require.NoError(t, db.Order("id").Limit(count).
		Where("id % 97 = 0").Find(&rows).Error)
	require.NotEmpty(t, rows)
	var out []Input
	for i, r := range rows {
		in := Input{
			TicketID:  deref(r.ZendeskTicketID),
			FromEmail: fmt.Sprintf("Forderungsmanagement <%s>", deref(r.CreditorEmail)),
			Data: models.ExtractedData{
				ClientName:         r.ClientName,
				CreditorName:       r.CreditorName,
				ClientAktenzeichen: "Az. " + deref(r.ClientAktenzeichen),
				ReferenceNumbers:   []string{deref(r.ReferenceNumber)},
			},
			ReceivedAt: time.Now(),
		}
		if i%3 == 1 { // no ticket, a typo in the client's name
			in.TicketID = ""
			in.Data.ClientName = strings.Replace(in.Data.ClientName, "e", "a", 1)
		}
		out = append(out, in)
	}
	return out
}
