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
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/parser"
)

// corpusCase is one email of testdata/corpus: an .eml-like file with From,
// Subject, Content-Type, any forwarded headers, Attachment lines, Expect-*
// fields and a body. An attachment is given as
//
//	Attachment: <position> | <filename> | <text file in testdata/corpus/attachments>
//
// the text file holding what a reader made of it (pdftotext -layout, DOCX
// paragraphs, XLSX rows as "cell | cell", OCR output).
type corpusCase struct {
	file         string
	input        models.EmailInput
	html, text   string
	wantReply    bool
	wantAmount   *float64
	wantAz       string
	wantRefs     []string
	wantClient   string
	wantCreditr  string
	wantDisagree bool
	// wantAmountSource, when set, is where the amount must come from
	// (models.ExtractedData.Sources["debt_amount"]).
	wantAmountSource string
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
		case "Expect-Disagree":
			c.wantDisagree = val == "true"
		case "Expect-Amount-Source":
			c.wantAmountSource = val
		case "Attachment":
			c.input.Attachments = append(c.input.Attachments, readCorpusAttachment(t, path, val))
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

// readCorpusAttachment reads "<position> | <filename> | <text file>".
func readCorpusAttachment(t testing.TB, path, val string) models.AttachmentText {
	t.Helper()
	parts := strings.Split(val, "|")
	require.Len(t, parts, 3, "%s: bad Attachment %q", path, val)
	pos, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	require.NoError(t, err, path)
	text, err := os.ReadFile(filepath.Join(filepath.Dir(path), "attachments", strings.TrimSpace(parts[2])))
	require.NoError(t, err, path)
	return models.AttachmentText{Position: pos, Filename: strings.TrimSpace(parts[1]), Text: string(text)}
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
	fields := []string{"is_creditor_reply", "debt_amount", "sources_disagree", "case_numbers", "client_aktenzeichen", "reference_numbers", "client_name", "creditor_name"}
	hits := map[string]int{}
	ex := New()
	for _, c := range cases {
		got, err := ex.Extract(context.Background(), c.cleanedInput())
		require.NoError(t, err)
		require.Equal(t, models.ExtractorRules, got.Extractor)
		require.NotNil(t, got.ReferenceNumbers)
		ok := c.fieldsRight(got)
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
	for _, f := range []string{"is_creditor_reply", "debt_amount", "sources_disagree", "case_numbers"} {
		require.GreaterOrEqual(t, acc[f], 0.95, "accuracy of %s", f)
	}
}

// fieldsRight tells for each field whether the extraction got it right;
// case_numbers are the firm's and the creditor's together.
func (c corpusCase) fieldsRight(got models.ExtractedData) map[string]bool {
	ok := map[string]bool{
		"is_creditor_reply":   got.IsCreditorReply == c.wantReply,
		"debt_amount":         sameAmount(c.wantAmount, got.DebtAmount) && (c.wantAmountSource == "" || got.Sources[models.FieldDebtAmount] == c.wantAmountSource),
		"sources_disagree":    got.SourcesDisagree == c.wantDisagree,
		"client_aktenzeichen": got.ClientAktenzeichen == c.wantAz,
		"reference_numbers":   equalRefs(c.wantRefs, got.ReferenceNumbers),
		"client_name":         got.ClientName == c.wantClient,
		"creditor_name":       sameCompany(c.wantCreditr, got.CreditorName),
	}
	ok["case_numbers"] = ok["client_aktenzeichen"] && ok["reference_numbers"]
	return ok
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
		return "want " + amount(c.wantAmount) + " from " + strconv.Quote(c.wantAmountSource) + ", got " + amount(got.DebtAmount) + " from " + strconv.Quote(got.Sources[models.FieldDebtAmount])
	case "sources_disagree":
		return "want " + strconv.FormatBool(c.wantDisagree) + ", got " + strconv.FormatBool(got.SourcesDisagree)
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

// corpusInputsWith returns the corpus emails as cleanedInput that have
// attachments (with true) or have none (with false).
func corpusInputsWith(tb testing.TB, attachments bool) []models.EmailInput {
	tb.Helper()
	var inputs []models.EmailInput
	for _, in := range corpusInputs(tb) {
		if (len(in.Attachments) > 0) == attachments {
			inputs = append(inputs, in)
		}
	}
	return inputs
}

// TestCorpusAttachments holds every corpus email with attachments to all
// its Expect-* fields: they specify how body and attachments combine (an
// attachment's labelled total beats the body's unlabelled amount, differing
// labelled totals disagree, no amount stays none, case numbers, names and
// the creditor come from attachments when the body lacks them).
func TestCorpusAttachments(t *testing.T) {
	t.Parallel()
	ex := New()
	n := 0
	for _, c := range loadCorpus(t) {
		if len(c.input.Attachments) == 0 {
			continue
		}
		n++
		got, err := ex.Extract(context.Background(), c.cleanedInput())
		require.NoError(t, err)
		for f, ok := range c.fieldsRight(got) {
			if !ok {
				t.Errorf("%s: %s wrong: %s", c.file, f, describe(f, c, got))
			}
		}
		checkEvidence(t, c.file, got)
	}
	require.GreaterOrEqual(t, n, 20, "attachment cases in the corpus")
}

// checkEvidence holds an extraction's evidence to its promises: the chosen
// candidate is the amount, each excerpt shows its amount's line, and a
// disagreement shows both sides.
func checkEvidence(t *testing.T, file string, got models.ExtractedData) {
	t.Helper()
	if got.DebtAmount == nil {
		require.Empty(t, got.AmountEvidence, file)
		require.False(t, got.SourcesDisagree, file)
		return
	}
	chosen := 0
	for _, e := range got.AmountEvidence {
		require.NotEmpty(t, e.Excerpt, file)
		require.LessOrEqual(t, utf8.RuneCountInString(e.Excerpt), maxExcerptRunes, file)
		if e.Chosen {
			chosen++
			require.InDelta(t, *got.DebtAmount, e.Amount, 0.001, file)
			require.Equal(t, got.Sources[models.FieldDebtAmount], e.Source, file)
		}
	}
	require.Equal(t, 1, chosen, "%s: one chosen evidence", file)
	if got.SourcesDisagree {
		amounts := map[float64]bool{}
		for _, e := range got.AmountEvidence {
			if e.Label != "" {
				amounts[e.Amount] = true
			}
		}
		require.GreaterOrEqual(t, len(amounts), 2, "%s: both sides of the disagreement", file)
	}
}
