package rules

import (
	"bufio"
	"context"
	"math"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/parser"
)

// corpusCase is one email of testdata/corpus: an .eml-like file with From,
// Subject, Content-Type, any forwarded headers, Expect-* fields and a body.
type corpusCase struct {
	file        string
	input       models.EmailInput
	html, text  string
	wantReply   bool
	wantAmount  *float64
	wantAz      string
	wantRefs    []string
	wantClient  string
	wantCreditr string
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.eml"))
	require.NoError(t, err)
	sort.Strings(files)
	cases := make([]corpusCase, 0, len(files))
	for _, f := range files {
		cases = append(cases, readCorpusFile(t, f))
	}
	return cases
}

func readCorpusFile(t testing.TB, path string) corpusCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	head, body, ok := strings.Cut(string(raw), "\n\n")
	require.True(t, ok, "%s: no blank line after headers", path)
	c := corpusCase{file: filepath.Base(path), input: models.EmailInput{Headers: map[string]string{}}}
	contentType := "text/plain"
	sc := bufio.NewScanner(strings.NewReader(head))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		require.True(t, ok, "%s: bad header %q", path, sc.Text())
		val = strings.TrimSpace(val)
		switch key {
		case "From":
			c.input.FromName, c.input.FromEmail = parseFrom(val)
		case "Subject":
			c.input.Subject = val
		case "Content-Type":
			contentType = val
		case "Expect-Reply":
			c.wantReply = val == "true"
		case "Expect-Amount":
			if val != "null" {
				v, err := strconv.ParseFloat(val, 64)
				require.NoError(t, err, path)
				c.wantAmount = &v
			}
		case "Expect-Aktenzeichen":
			c.wantAz = val
		case "Expect-References":
			c.wantRefs = []string{}
			for _, r := range strings.Split(val, ";") {
				if r = strings.TrimSpace(r); r != "" {
					c.wantRefs = append(c.wantRefs, r)
				}
			}
		case "Expect-Client":
			c.wantClient = val
		case "Expect-Creditor":
			c.wantCreditr = val
		default:
			c.input.Headers[key] = val
		}
	}
	if contentType == "text/html" {
		c.html = body
	} else {
		c.text = body
	}
	return c
}

func parseFrom(v string) (name, email string) {
	if a, err := mail.ParseAddress(v); err == nil {
		return a.Name, a.Address
	}
	// "MAILER-DAEMON@host (Mail Delivery System)"
	addr, comment, _ := strings.Cut(v, " (")
	return strings.TrimSuffix(comment, ")"), addr
}

var nameNoiseRe = regexp.MustCompile(`[^\p{L}\p{N}&]+`)

// sameCompany compares creditor names loosely: case, punctuation and a
// shorter form contained in the longer one ("Muster Bank" ~ "Muster Bank AG").
func sameCompany(want, got string) bool {
	w := strings.TrimSpace(nameNoiseRe.ReplaceAllString(strings.ToLower(want), " "))
	g := strings.TrimSpace(nameNoiseRe.ReplaceAllString(strings.ToLower(got), " "))
	if w == "" || g == "" {
		return w == g
	}
	return strings.Contains(w, g) && len(g) >= 4 || strings.Contains(g, w)
}

func sameAmount(want, got *float64) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	return math.Abs(*want-*got) < 0.005
}

// TestCorpusAccuracy runs every corpus email through the real body cleaner
// and the extractor, logs accuracy per field and fails below 95 % on the
// fields the pipeline acts on: is_creditor_reply, amount and case numbers.
func TestCorpusAccuracy(t *testing.T) {
	t.Parallel()
	cases := loadCorpus(t)
	require.GreaterOrEqual(t, len(cases), 60)
	fields := []string{"is_creditor_reply", "debt_amount", "case_numbers", "client_aktenzeichen", "reference_numbers", "client_name", "creditor_name"}
	hits := map[string]int{}
	ex := New()
	for _, c := range cases {
		got, err := ex.Extract(context.Background(), c.cleanedInput())
		require.NoError(t, err)
		require.Equal(t, models.ExtractorRules, got.Extractor)
		require.NotNil(t, got.ReferenceNumbers)
		ok := map[string]bool{
			"is_creditor_reply":   got.IsCreditorReply == c.wantReply,
			"debt_amount":         sameAmount(c.wantAmount, got.DebtAmount),
			"client_aktenzeichen": got.ClientAktenzeichen == c.wantAz,
			"reference_numbers":   equalRefs(c.wantRefs, got.ReferenceNumbers),
			"client_name":         got.ClientName == c.wantClient,
			"creditor_name":       sameCompany(c.wantCreditr, got.CreditorName),
		}
		ok["case_numbers"] = ok["client_aktenzeichen"] && ok["reference_numbers"]
		for _, f := range fields {
			if ok[f] {
				hits[f]++
				continue
			}
			t.Logf("%s: %s wrong: %s", c.file, f, describe(f, c, got))
		}
	}
	acc := map[string]float64{}
	for _, f := range fields {
		acc[f] = float64(hits[f]) / float64(len(cases))
		t.Logf("accuracy %-20s %5.1f %% (%d/%d)", f, 100*acc[f], hits[f], len(cases))
	}
	for _, f := range []string{"is_creditor_reply", "debt_amount", "case_numbers"} {
		require.GreaterOrEqual(t, acc[f], 0.95, "accuracy of %s", f)
	}
}

func equalRefs(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if refKey(want[i]) != refKey(got[i]) {
			return false
		}
	}
	return true
}

func describe(field string, c corpusCase, got models.ExtractedData) string {
	amount := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return strconv.FormatFloat(*p, 'f', 2, 64)
	}
	switch field {
	case "is_creditor_reply":
		return "want " + strconv.FormatBool(c.wantReply) + ", got " + strconv.FormatBool(got.IsCreditorReply)
	case "debt_amount":
		return "want " + amount(c.wantAmount) + ", got " + amount(got.DebtAmount)
	case "client_aktenzeichen":
		return "want " + strconv.Quote(c.wantAz) + ", got " + strconv.Quote(got.ClientAktenzeichen)
	case "reference_numbers", "case_numbers":
		return "want az " + strconv.Quote(c.wantAz) + " refs " + strings.Join(c.wantRefs, "|") + ", got az " + strconv.Quote(got.ClientAktenzeichen) + " refs " + strings.Join(got.ReferenceNumbers, "|")
	case "client_name":
		return "want " + strconv.Quote(c.wantClient) + ", got " + strconv.Quote(got.ClientName)
	default:
		return "want " + strconv.Quote(c.wantCreditr) + ", got " + strconv.Quote(got.CreditorName)
	}
}

// cleanedInput is the email as the pipeline hands it to the extractor:
// headers plus the body cleaned by the real parser.
func (c corpusCase) cleanedInput() models.EmailInput {
	in := c.input
	in.CleanedBody = parser.Parse(c.html, c.text).Text
	return in
}

// corpusInputs returns every corpus email as cleanedInput.
func corpusInputs(tb testing.TB) []models.EmailInput {
	tb.Helper()
	cases := loadCorpus(tb)
	inputs := make([]models.EmailInput, len(cases))
	for i, c := range cases {
		inputs[i] = c.cleanedInput()
	}
	return inputs
}
