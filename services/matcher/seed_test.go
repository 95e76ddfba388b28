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

// skewedReplies builds one reply per sampled inquiry of apptest.SeedInquiries, the way
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
