package matcher

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// now is the reply's arrival in every scenario.
var now = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// seedInquiry describes one inquiry row; empty strings are NULL.
type seedInquiry struct {
	key, client, akz, creditor, email, ref, ticket string
	age                                            time.Duration
}

// seedSet holds near-duplicates on purpose: same creditor with different
// clients, same client with different creditors, freemail creditors, an
// inquiry too old to answer, and two indistinguishable inquiries.
var seedSet = []seedInquiry{
	{key: "muellerVodafone", client: "Max Müller", akz: "12345/24", creditor: "Vodafone GmbH", email: "forderungen@vodafone.de", ref: "VF-998877", ticket: "1001", age: 10 * 24 * time.Hour},
	{key: "schmidtVodafone", client: "Erika Schmidt", akz: "22222/24", creditor: "Vodafone GmbH", email: "Forderungen@Vodafone.de ", ref: "VF-111222", ticket: "1002", age: 12 * 24 * time.Hour},
	{key: "muellerTelekom", client: "Max Müller", akz: "12345/24", creditor: "Telekom Deutschland GmbH", email: "inkasso@telekom.de", ticket: "1003", age: 10 * 24 * time.Hour},
	{key: "weberBauer", client: "Hans Peter Weber", akz: "2024_777", creditor: "Privatgläubiger Klaus Bauer", email: "klaus.bauer@gmx.de", ticket: "1004", age: 30 * 24 * time.Hour},
	{key: "schulzOtto", client: "Anna Schulz", akz: "33333/24", creditor: "Otto GmbH & Co. KG", email: "service@otto.de", ticket: "1005", age: 40 * 24 * time.Hour},
	{key: "grossSparkasse", client: "Jürgen Groß", akz: "MA-2024-0815", creditor: "Sparkasse KölnBonn", email: "info@sparkasse-koelnbonn.de", ticket: "1006", age: 5 * 24 * time.Hour},
	{key: "kleinOtto", client: "Peter Klein", akz: "44444/24", creditor: "Otto GmbH & Co. KG", email: "service@otto.de", age: 20 * 24 * time.Hour},
	{key: "schulzOttoOld", client: "Anna Schulz", akz: "55555/21", creditor: "Otto GmbH & Co. KG", email: "service@otto.de", age: 3 * 365 * 24 * time.Hour},
	{key: "langBerger", client: "Lisa Lang", akz: "66666/24", creditor: "Maria Berger", email: "maria.berger@gmx.de", ticket: "1009", age: 8 * 24 * time.Hour},
	{key: "beckerOlder", client: "Tom Becker", creditor: "Inkasso Nord GmbH", email: "post@inkasso-nord.de", age: 20 * 24 * time.Hour},
	{key: "beckerNewer", client: "Tom Becker", creditor: "Inkasso Nord GmbH", email: "post@inkasso-nord.de", age: 15 * 24 * time.Hour},
}

type fixture struct {
	db  *gorm.DB
	st  *store.Store
	m   *Matcher
	ids map[string]uint64
}

func setup(t *testing.T) fixture {
	t.Helper()
	db := apptest.NewDB(t)
	ids := map[string]uint64{}
	for _, s := range seedSet {
		sent := now.Add(-s.age)
		row := models.CreditorInquiry{
			ClientName: s.client, CreditorName: s.creditor, SentAt: &sent,
			ClientAktenzeichen: nullIfEmpty(s.akz), CreditorEmail: nullIfEmpty(s.email),
			ReferenceNumber: nullIfEmpty(s.ref), ZendeskTicketID: nullIfEmpty(s.ticket),
		}
		require.NoError(t, db.Create(&row).Error)
		ids[s.key] = row.ID
	}
	return fixture{db: db.DB, st: db.Store(t), m: New(db.Store(t), DefaultConfig()), ids: ids}
}

// nullIfEmpty maps "" to NULL, as the seed rows describe.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func input(ticket, from string, d models.ExtractedData) Input {
	return Input{TicketID: ticket, FromEmail: from, Data: d, ReceivedAt: now}
}

func (f fixture) match(t *testing.T, in Input) Result {
	t.Helper()
	res, err := f.m.Match(context.Background(), in)
	require.NoError(t, err)
	require.LessOrEqual(t, len(res.Candidates), maxReported)
	for i := 1; i < len(res.Candidates); i++ {
		require.GreaterOrEqual(t, res.Candidates[i-1].Score, res.Candidates[i].Score, "best first")
	}
	return res
}

func (f fixture) requireStatus(t *testing.T, res Result, status, key string) {
	t.Helper()
	require.Equal(t, status, res.Status, "reason: %s", res.Reason)
	if key == "" {
		require.Nil(t, res.InquiryID)
		require.Nil(t, res.Inquiry)
		return
	}
	require.NotNil(t, res.InquiryID)
	require.Equal(t, f.ids[key], *res.InquiryID, "reason: %s", res.Reason)
	require.NotNil(t, res.Inquiry, "the debt writer needs the matched row")
	require.Equal(t, *res.InquiryID, res.Inquiry.ID)
	require.Equal(t, res.Candidates[0].Score, res.Confidence)
}

func (f fixture) candidateIDs(res Result) []uint64 {
	out := make([]uint64, 0, len(res.Candidates))
	for _, c := range res.Candidates {
		out = append(out, c.InquiryID)
	}
	return out
}

func TestMatch(t *testing.T) {
	t.Parallel()
	f := setup(t)

	t.Run("ticket id and sender address", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("1001", "forderungen@vodafone.de", models.ExtractedData{
			ClientName: "Max Mueller", CreditorName: "Vodafone",
		}))
		f.requireStatus(t, res, models.MatchAuto, "muellerVodafone")
		require.Equal(t, 1.0, res.Confidence)
		sig := res.Candidates[0].Signals
		require.Equal(t, 1.0, sig["ticket_id"])
		require.Equal(t, 1.0, sig["sender_email"])
		require.Equal(t, 1.0, sig["client_name"])
		// The other Vodafone client comes in through the shared address but loses on the name.
		require.Equal(t, f.ids["schmidtVodafone"], res.Candidates[1].InquiryID)
		require.Equal(t, 1.0, res.Candidates[1].Signals["client_name_conflict"])
	})

	t.Run("same creditor different clients: umlaut and order insensitive name decides", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "Forderungen@vodafone.de", models.ExtractedData{
			ClientName: "Müller, Max", CreditorName: "Vodafone GmbH",
		}))
		f.requireStatus(t, res, models.MatchAuto, "muellerVodafone")
		require.GreaterOrEqual(t, res.Confidence, 0.9)
		require.ElementsMatch(t, []uint64{f.ids["muellerVodafone"], f.ids["schmidtVodafone"]}, f.candidateIDs(res))
	})

	t.Run("same client different creditors: case number with underscore and spaces", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "inkasso@telekom.de", models.ExtractedData{
			ClientName: "Max Müller", CreditorName: "Telekom Deutschland", ClientAktenzeichen: " 12345 _ 24",
		}))
		f.requireStatus(t, res, models.MatchAuto, "muellerTelekom")
		require.Equal(t, 1.0, res.Candidates[0].Signals["aktenzeichen"])
		// The Vodafone inquiry shares client and case number but not the creditor.
		require.Equal(t, f.ids["muellerVodafone"], res.Candidates[1].InquiryID)
		require.Equal(t, 1.0, res.Candidates[1].Signals["creditor_name_conflict"])
	})

	t.Run("same client, creditor unknown: ambiguous", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "noreply@unknown-sender.example", models.ExtractedData{
			ClientName: "Max Müller", ClientAktenzeichen: "12345/24",
		}))
		require.Equal(t, models.MatchNeedsReview, res.Status, res.Reason)
		require.NotNil(t, res.InquiryID)
		require.Len(t, res.Candidates, 2)
		require.Contains(t, res.Reason, "gap below")
	})

	t.Run("freemail creditor matched by exact address only", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "klaus.bauer@gmx.de", models.ExtractedData{
			ClientName: "Weber, Hans-Peter", CreditorName: "Klaus Bauer",
		}))
		f.requireStatus(t, res, models.MatchAuto, "weberBauer")
		require.Equal(t, []uint64{f.ids["weberBauer"]}, f.candidateIDs(res), "gmx.de must not pull in other gmx creditors")
	})

	t.Run("freemail domain alone finds nothing and names are not scanned", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "someone.else@gmx.de", models.ExtractedData{
			ClientName: "Lisa Lang", CreditorName: "Maria Berger",
		}))
		f.requireStatus(t, res, models.MatchNone, "")
		require.Empty(t, res.Candidates)
		require.Zero(t, res.Confidence)
	})

	t.Run("ticket id alone needs review", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("1005", "noreply@example.org", models.ExtractedData{}))
		f.requireStatus(t, res, models.MatchNeedsReview, "schulzOtto")
		require.InDelta(t, 0.62, res.Confidence, 0.02)
		require.Contains(t, res.Reason, "below auto threshold")
	})

	t.Run("shared creditor address, old inquiry out of range", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "service@otto.de", models.ExtractedData{
			ClientName: "Anna Schulz", CreditorName: "Otto",
		}))
		f.requireStatus(t, res, models.MatchAuto, "schulzOtto")
		require.NotContains(t, f.candidateIDs(res), f.ids["schulzOttoOld"], "older than two years")
		require.Contains(t, f.candidateIDs(res), f.ids["kleinOtto"])
	})

	t.Run("reference number with client and creditor names", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "noreply@mailer.example", models.ExtractedData{
			ClientName: "Erika Schmidt", CreditorName: "Vodafone", ReferenceNumbers: []string{"vf 111 222"},
		}))
		f.requireStatus(t, res, models.MatchAuto, "schmidtVodafone")
		require.Equal(t, 1.0, res.Candidates[0].Signals["reference"])
	})

	t.Run("firm case number with dashes, sender on a subdomain", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "mahnwesen@post.sparkasse-koelnbonn.de", models.ExtractedData{
			ClientName: "Juergen Gross", ReferenceNumbers: []string{"MA 2024 0815"},
		}))
		f.requireStatus(t, res, models.MatchAuto, "grossSparkasse")
		require.Equal(t, 1.0, res.Candidates[0].Signals["sender_domain"])
		require.Equal(t, 1.0, res.Candidates[0].Signals["aktenzeichen"])
	})

	t.Run("contradicting case number outweighs the ticket id", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("1002", "forderungen@vodafone.de", models.ExtractedData{
			ClientName: "Max Müller", CreditorName: "Vodafone", ClientAktenzeichen: "12345/24",
		}))
		f.requireStatus(t, res, models.MatchAuto, "muellerVodafone")
		var other Candidate
		for _, c := range res.Candidates {
			if c.InquiryID == f.ids["schmidtVodafone"] {
				other = c
			}
		}
		require.Equal(t, 1.0, other.Signals["ticket_id"])
		require.Equal(t, 1.0, other.Signals["aktenzeichen_conflict"])
		require.Less(t, other.Score, 0.8)
	})

	t.Run("indistinguishable inquiries need review, newest first", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "post@inkasso-nord.de", models.ExtractedData{
			ClientName: "Becker, Tom", CreditorName: "Inkasso Nord",
		}))
		f.requireStatus(t, res, models.MatchNeedsReview, "beckerNewer")
		require.GreaterOrEqual(t, res.Confidence, 0.8)
		require.Contains(t, res.Reason, "gap below 0.15")
	})

	t.Run("keys that hit nothing", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("999999", "billing@nobody.example", models.ExtractedData{
			ClientName: "Max Müller", ClientAktenzeichen: "00000/00",
		}))
		f.requireStatus(t, res, models.MatchNone, "")
		require.Empty(t, res.Candidates)
		require.Contains(t, res.Reason, "no recent inquiry")
	})

	t.Run("nothing to look up", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, Input{Data: models.ExtractedData{ClientName: "Max Müller"}})
		f.requireStatus(t, res, models.MatchNone, "")
		require.Contains(t, res.Reason, "no ticket id")
	})

	t.Run("weak candidates are no match", func(t *testing.T) {
		t.Parallel()
		res := f.match(t, input("", "service@otto.de", models.ExtractedData{ClientName: "Somebody Else"}))
		f.requireStatus(t, res, models.MatchNone, "")
		require.NotEmpty(t, res.Candidates, "scores are kept for the admin view")
		require.Contains(t, res.Reason, "below review threshold")
	})
}

func TestMatchThresholdsConfigurable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := input("", "forderungen@vodafone.de", models.ExtractedData{ClientName: "Max Müller", CreditorName: "Vodafone"})

	res := f.match(t, in)
	f.requireStatus(t, res, models.MatchAuto, "muellerVodafone")

	strict := New(f.st, Config{AutoThreshold: 0.99, ReviewThreshold: 0.95, MinGap: 0.15})
	res, err := strict.Match(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, models.MatchNone, res.Status, res.Reason)
	require.Nil(t, res.InquiryID)
	require.Contains(t, res.Reason, "below review threshold 0.95")
}

func TestReasonCarriesNoPersonalData(t *testing.T) {
	t.Parallel()
	f := setup(t)
	in := input("1001", "forderungen@vodafone.de", models.ExtractedData{
		ClientName: "Max Müller", CreditorName: "Vodafone", ClientAktenzeichen: "12345/24",
		ReferenceNumbers: []string{"VF-998877"}, DebtAmount: new(1234.56),
	})
	res, err := f.m.Match(context.Background(), in)
	require.NoError(t, err)
	f.requireStatus(t, res, models.MatchAuto, "muellerVodafone")
	require.Equal(t, "ticket id, case number, reference number, sender address, creditor name and client name agree; score 1.00, runner-up 0.62",
		res.Reason)
	for _, secret := range []string{"Müller", "Max", "Vodafone", "12345", "998877", "1234", "vodafone.de"} {
		require.NotContains(t, res.Reason, secret)
	}

	b, err := json.Marshal(res)
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, models.MatchAuto, back["status"])
	require.Contains(t, back, "inquiry_id")
	require.Contains(t, back, "confidence")
	require.Contains(t, back, "candidates")
}

// TestMatchReturnsInquiryAsRead checks that Result.Inquiry carries the
// matched row's columns as the debt writer uses them, the amount the
// inquiry asked about included.
func TestMatchReturnsInquiryAsRead(t *testing.T) {
	t.Parallel()
	f := setup(t)
	require.NoError(t, f.db.Model(&models.CreditorInquiry{}).Where("id = ?", f.ids["grossSparkasse"]).
		Update("debt_amount", 1234.56).Error)
	res, err := f.m.Match(context.Background(), input("1006", "info@sparkasse-koelnbonn.de", models.ExtractedData{}))
	require.NoError(t, err)
	f.requireStatus(t, res, models.MatchAuto, "grossSparkasse")
	inq := res.Inquiry
	require.Equal(t, "Jürgen Groß", inq.ClientName)
	require.Equal(t, "Sparkasse KölnBonn", inq.CreditorName)
	require.Equal(t, "MA-2024-0815", deref(inq.ClientAktenzeichen))
	require.Equal(t, "info@sparkasse-koelnbonn.de", deref(inq.CreditorEmail))
	require.Equal(t, "1006", deref(inq.ZendeskTicketID))
	require.NotNil(t, inq.SentAt)
	require.True(t, now.Add(-5*24*time.Hour).Equal(*inq.SentAt))
	require.NotNil(t, inq.DebtAmount)
	require.Equal(t, 1234.56, *inq.DebtAmount)
}

func TestMatchCanceledContext(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.m.Match(ctx, input("1001", "", models.ExtractedData{}))
	require.Error(t, err)
}

func TestBusySenderDoesNotCrowdOutNumberMatch(t *testing.T) {
	t.Parallel()
	db := apptest.NewDB(t)
	require.NoError(t, db.Exec(`
INSERT INTO creditor_inquiries (client_name, creditor_name, creditor_email, sent_at)
SELECT 'Client ' || g, 'Big Creditor AG', 'bulk@big-creditor.de', ?::timestamptz - g * interval '1 hour'
FROM generate_series(1, 300) g`, now).Error)
	sent := now.Add(-300 * 24 * time.Hour)
	old := models.CreditorInquiry{ClientName: "Old Client", CreditorName: "Big Creditor AG",
		CreditorEmail: nullIfEmpty("bulk@big-creditor.de"), ZendeskTicketID: nullIfEmpty("T-1"), SentAt: &sent}
	require.NoError(t, db.Create(&old).Error)

	res, err := New(db.Store(t), DefaultConfig()).Match(context.Background(), input("T-1", "bulk@big-creditor.de", models.ExtractedData{}))
	require.NoError(t, err)
	require.Equal(t, models.MatchAuto, res.Status, res.Reason)
	require.Equal(t, old.ID, *res.InquiryID)
	require.Len(t, res.Candidates, maxReported)
}
