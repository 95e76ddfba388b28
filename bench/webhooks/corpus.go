// Package webhooks is the benchmark tools' shared half: a corpus of realistic
// creditor replies as Zendesk posts them, and a bounded, loopback-only load
// runner that signs and posts them and measures the answers.
package webhooks

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Creditor is a company that answers the firm's inquiries.
type Creditor struct {
	Name   string
	Email  string
	Domain string
}

// Case is one inquiry the firm sent: who owes whom, under which numbers.
// Replies generated for a case carry its ticket, sender and numbers, so the
// matcher finds the inquiry when the bench seeds it (see Corpus.Cases).
type Case struct {
	Ticket       string
	ClientFirst  string
	ClientLast   string
	Aktenzeichen string // the firm's file number
	Reference    string // the creditor's own number
	Creditor     Creditor
	AmountCents  int64
	SentAt       time.Time
}

// ClientName is "First Last".
func (c Case) ClientName() string { return c.ClientFirst + " " + c.ClientLast }

var (
	firstNames = []string{"Max", "Anna", "Jürgen", "Sabine", "Mehmet", "Katharina", "Thomas", "Ewa", "Lukas",
		"Monika", "Stefan", "Aylin", "Wolfgang", "Petra", "Dragan", "Sophie", "Günter", "Bärbel", "Oleksandr", "Jana"}
	lastNames = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
		"Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Yılmaz", "Kowalski",
		"Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier"}
	creditorStems = []string{"Creditreform Inkasso", "Sparkasse Rhein-Neckar", "Telekom Deutschland", "Stadtwerke Mainz",
		"Otto Payments", "Vodafone Kabel", "EOS Deutscher Inkasso-Dienst", "Santander Consumer Bank", "Klarna Bank",
		"AOK Nordost", "Allianz Versicherung", "infoscore Forderungsmanagement", "Volksbank Mittelhessen",
		"PayPal Europe", "Zalando Payments", "1&1 Versatel", "Riverty Services", "Intrum Deutschland",
		"Hanseatische Inkasso-Treuhand", "ADAC Finanzdienste"}
	streets = []string{"Hauptstraße", "Bahnhofstraße", "Am Markt", "Industriestraße", "Königsallee", "Lindenweg"}
	cities  = []string{"10117 Berlin", "80331 München", "20095 Hamburg", "50667 Köln", "60311 Frankfurt am Main",
		"70173 Stuttgart", "04109 Leipzig", "44135 Dortmund"}
)

// Corpus builds deterministic cases and replies from a seed.
type Corpus struct {
	cases []Case
	seed  uint64
	// Files, when set, are real attachments to serve: every reply i then
	// attaches Files[i % len(Files)] instead of the occasional sample PDF
	// on a host the service cannot reach.
	Files []Attachment
}

// NewCorpus returns a corpus of n cases (inquiries) derived from seed.
func NewCorpus(seed uint64, n int) *Corpus {
	if n < 1 {
		n = 1
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	creditors := make([]Creditor, len(creditorStems))
	for i, s := range creditorStems {
		slug := strings.NewReplacer(" ", "-", "&", "und", "ü", "ue", "ö", "oe", "ä", "ae").Replace(strings.ToLower(s))
		domain := slug + ".de"
		creditors[i] = Creditor{Name: s + " GmbH", Email: "forderungen@" + domain, Domain: domain}
	}
	base := time.Now().UTC().Add(-30 * 24 * time.Hour).Truncate(time.Hour)
	cases := make([]Case, n)
	for i := range cases {
		cases[i] = Case{
			Ticket:       fmt.Sprint(400000 + int(seed%1000)*10000 + i),
			ClientFirst:  firstNames[r.IntN(len(firstNames))],
			ClientLast:   lastNames[r.IntN(len(lastNames))],
			Aktenzeichen: fmt.Sprintf("%s-%d-%05d", []string{"RA", "SK", "IN"}[i%3], 2024+i%3, r.IntN(100000)),
			Reference:    fmt.Sprintf("%d%07d", 1+r.IntN(9), r.IntN(10000000)),
			Creditor:     creditors[r.IntN(len(creditors))],
			AmountCents:  int64(2000 + r.IntN(1500000)),
			SentAt:       base.Add(time.Duration(r.IntN(29*24)) * time.Hour),
		}
	}
	return &Corpus{cases: cases, seed: seed}
}

// Cases returns the inquiries replies refer to (for seeding creditor_inquiries).
func (c *Corpus) Cases() []Case { return c.cases }

// euro formats cents the German way: 1.234,56.
func euro(cents int64) string {
	s := fmt.Sprint(cents / 100)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(ch)
	}
	return fmt.Sprintf("%s,%02d", b.String(), cents%100)
}

// euroEN formats cents the English way: 1,234.56.
func euroEN(cents int64) string {
	return strings.NewReplacer(".", ",", ",", ".").Replace(euro(cents))
}
