package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
	"github.com/lawfirm/creditor-email-matcher/services/review"
)

// reasonCount is one chip above the queue.
type reasonCount struct {
	Code   string
	Count  int64
	URL    string
	Active bool
}

// queueRow is one open item as the queue shows it.
type queueRow struct {
	review.Item
	Age string
}

type reviewListView struct {
	pageBase
	Reason   string
	Total    int64
	Counts   []reasonCount
	Rows     []queueRow
	NextURL  string
	FirstURL string
	Notice   string
	Problem  string
	Error    *models.Error
}

// reviewNotices are the flashes a decision's redirect shows on the queue.
var reviewNotices = map[string]string{
	models.ReviewApprove:  "approved: the extracted amount is applied to the proposed inquiry.",
	models.ReviewReassign: "reassigned: the amount is applied to the inquiry you chose.",
	models.ReviewCorrect:  "corrected: your amount is applied, with your note.",
	models.ReviewReject:   "rejected: nothing was applied.",
}

var reviewProblems = map[string]string{
	"decided": "was decided already (perhaps by a colleague just now); nothing was changed.",
}

// reviewQueue shows the open items, oldest first, with counts by reason.
func (a *adminPages) reviewQueue(c *gin.Context) {
	q := c.Request.URL.Query()
	v := reviewListView{pageBase: pageBase{Title: "Review", CSRF: c.GetString(csrfKey), Tab: "review"}, Reason: q.Get("reason")}
	if job := q.Get("job"); job != "" {
		if _, err := strconv.ParseUint(job, 10, 64); err == nil {
			if n, ok := reviewNotices[q.Get("notice")]; ok {
				v.Notice = "Email " + job + " " + n
			}
			if p, ok := reviewProblems[q.Get("problem")]; ok {
				v.Problem = "Email " + job + " " + p
			}
		}
	}
	f := review.Filter{Reason: v.Reason}
	var err error
	if s := q.Get("cursor"); s != "" {
		var cur jobs.Cursor
		if cur, err = jobs.DecodeCursor(s); err == nil {
			f.After = &cur
		}
	}
	var out review.Queue
	if err == nil {
		out, err = a.reviews.List(c.Request.Context(), f)
	}
	status := http.StatusOK
	if err != nil {
		var ok bool
		if v.Error, status, ok = clientError(err); !ok {
			pageError(c, a.log, a.pages, v.CSRF, err)
			return
		}
	}
	now := a.now()
	v.Total = out.Total
	for _, it := range out.Items {
		since := it.ReceivedAt
		if it.WaitingSince != nil {
			since = *it.WaitingSince
		}
		v.Rows = append(v.Rows, queueRow{Item: it, Age: age(now.Sub(since))})
	}
	link := func(reason, cursor string) string {
		l := url.Values{}
		if reason != "" {
			l.Set("reason", reason)
		}
		if cursor != "" {
			l.Set("cursor", cursor)
		}
		if len(l) == 0 {
			return "/admin/reviews"
		}
		return "/admin/reviews?" + l.Encode()
	}
	for _, code := range review.Codes() {
		v.Counts = append(v.Counts, reasonCount{Code: code, Count: out.ByReason[code], URL: link(code, ""), Active: code == v.Reason})
	}
	if out.NextCursor != nil {
		v.NextURL = link(v.Reason, *out.NextCursor)
	}
	if q.Get("cursor") != "" {
		v.FirstURL = link(v.Reason, "")
	}
	render(c, a.log, a.pages, status, "reviews", v)
}

// age is a waiting time as staff say it: 40 s, 12 min, 3 h 5 min, 2 d 4 h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d d %d h", int(d.Hours())/24, int(d.Hours())%24)
}

// fieldRow is one extracted field with where it was read.
type fieldRow struct {
	Name, Value, Source string
}

// evidenceRow is one amount found, with its source in words.
type evidenceRow struct {
	models.AmountEvidence
	Where string
}

// candidateRow is one of the matcher's candidates with its signals.
type candidateRow struct {
	InquiryID uint64
	Score     float64
	Signals   []signal
	Proposed  bool
	Inquiry   *models.CreditorInquiry // nil when it no longer exists
}

type signal struct {
	Name  string
	Value float64
}

type reviewView struct {
	pageBase
	C          review.Case
	D          jobs.Detail
	Fields     []fieldRow
	Evidence   []evidenceRow
	Candidates []candidateRow
	Error      *models.Error
	Form       url.Values // the refused form, shown again
	// Proposed is the proposed inquiry, nil without one.
	Proposed *models.CreditorInquiry
}

// reviewScreen shows one held email with its evidence and the four actions.
func (a *adminPages) reviewScreen(c *gin.Context) {
	a.showReview(c, http.StatusOK, nil, nil)
}

func (a *adminPages) showReview(c *gin.Context, status int, problem *models.Error, form url.Values) {
	csrf := c.GetString(csrfKey)
	id, err := jobID(c.Param("id"))
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	cs, err := a.reviews.Case(c.Request.Context(), id)
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	d, err := a.svc.Get(c.Request.Context(), id)
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	v := reviewView{pageBase: pageBase{Title: "Review email " + strconv.FormatUint(id, 10), CSRF: csrf, Tab: "review"},
		C: cs, D: d, Error: problem, Form: form}
	var data models.ExtractedData
	if len(d.ExtractedData) > 0 && json.Unmarshal(d.ExtractedData, &data) == nil {
		v.Fields = fieldsOfData(data, d.Attachments)
		for _, x := range data.AmountEvidence {
			v.Evidence = append(v.Evidence, evidenceRow{AmountEvidence: x, Where: sourceText(x.Source, d.Attachments)})
		}
	}
	v.Candidates = candidatesOf(d.MatchDetails, cs.ProposedInquiryID)
	var ids []uint64
	if cs.ProposedInquiryID != nil {
		ids = append(ids, *cs.ProposedInquiryID)
	}
	for _, x := range v.Candidates {
		ids = append(ids, x.InquiryID)
	}
	inqs, err := a.reviews.Inquiries(c.Request.Context(), ids)
	if err != nil {
		pageError(c, a.log, a.pages, csrf, err)
		return
	}
	if cs.ProposedInquiryID != nil {
		if inq, ok := inqs[*cs.ProposedInquiryID]; ok {
			v.Proposed = &inq
		}
	}
	for i := range v.Candidates {
		if inq, ok := inqs[v.Candidates[i].InquiryID]; ok {
			v.Candidates[i].Inquiry = &inq
		}
	}
	render(c, a.log, a.pages, status, "review", v)
}

// fieldsOfData lists the extracted fields with their sources in words.
func fieldsOfData(x models.ExtractedData, files []jobs.Attachment) []fieldRow {
	src := func(field string) string { return sourceText(x.Sources[field], files) }
	amount := ""
	if x.DebtAmount != nil {
		amount = euro(*x.DebtAmount)
	}
	return []fieldRow{
		{"Amount", amount, src(models.FieldDebtAmount)},
		{"Client", x.ClientName, src(models.FieldClientName)},
		{"Creditor", x.CreditorName, src(models.FieldCreditorName)},
		{"Client case number", x.ClientAktenzeichen, src(models.FieldClientAktenzeichen)},
		{"Reference numbers", strings.Join(x.ReferenceNumbers, ", "), src(models.FieldReferenceNumbers)},
	}
}

// sourceText names a source for people: "attachment 1 (name.pdf)", "body".
func sourceText(s string, files []jobs.Attachment) string {
	pos, ok := strings.CutPrefix(s, "attachment:")
	if !ok {
		return s
	}
	n, err := strconv.Atoi(pos)
	if err != nil {
		return s
	}
	for _, f := range files {
		if f.Position == n {
			return fmt.Sprintf("attachment %d (%s)", n+1, f.Filename)
		}
	}
	return fmt.Sprintf("attachment %d", n+1)
}

// candidatesOf reads the matcher's candidates from match_details; a
// document it cannot read shows none.
func candidatesOf(doc models.JSON, proposed *uint64) []candidateRow {
	var md struct {
		Candidates []struct {
			InquiryID uint64             `json:"inquiry_id"`
			Score     float64            `json:"score"`
			Signals   map[string]float64 `json:"signals"`
		} `json:"candidates"`
	}
	if len(doc) == 0 || json.Unmarshal(doc, &md) != nil {
		return nil
	}
	out := make([]candidateRow, 0, len(md.Candidates))
	for _, x := range md.Candidates {
		r := candidateRow{InquiryID: x.InquiryID, Score: x.Score, Proposed: proposed != nil && *proposed == x.InquiryID}
		for k, val := range x.Signals {
			r.Signals = append(r.Signals, signal{k, val})
		}
		sort.Slice(r.Signals, func(i, j int) bool { return r.Signals[i].Name < r.Signals[j].Name })
		out = append(out, r)
	}
	return out
}

// euro shows an amount the German way: 2.480,00 EUR.
func euro(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	whole, cents, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	out := b.String() + "," + cents + " EUR"
	if neg {
		out = "-" + out
	}
	return out
}

// parseAmount reads an amount as staff type it: 1.234,56 / 1234,56 /
// 1234.56 / 1,234.56.
func parseAmount(s string) (float64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "EUR"))
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "€", "")
	comma, dot := strings.LastIndex(s, ","), strings.LastIndex(s, ".")
	switch {
	case comma > dot: // German: the comma is the decimal mark
		s = strings.ReplaceAll(s, ".", "")
		s = strings.Replace(s, ",", ".", 1)
	default:
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// decide applies one of the four action forms, then returns to the queue
// with a flash; a refused form shows the screen again with the problem.
func (a *adminPages) decide(c *gin.Context) {
	if !a.checkCSRF(c) {
		return
	}
	id, err := jobID(c.Param("id"))
	if err != nil {
		pageError(c, a.log, a.pages, c.GetString(csrfKey), err)
		return
	}
	action := c.PostForm("action")
	r := review.Request{Action: action, Note: c.PostForm("note"), DecidedBy: c.GetString(sessionIDKey)}
	fields := map[string]string{}
	if action == models.ReviewReassign {
		if s := strings.TrimSpace(c.PostForm("inquiry_id")); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || n == 0 {
				fields["inquiry_id"] = "must be an inquiry id (a whole number)"
			}
			r.InquiryID = &n
		}
	}
	if action == models.ReviewCorrect {
		if s := strings.TrimSpace(c.PostForm("amount")); s != "" {
			f, ok := parseAmount(s)
			if !ok {
				fields["amount"] = "must be an amount such as 1.234,56"
			}
			r.Amount = &f
		}
	}
	if len(fields) == 0 {
		err = a.reviews.Decide(c.Request.Context(), id, r)
	} else {
		err = &models.Error{Code: models.EINVALID, Message: "invalid review decision", Fields: fields}
	}
	job := strconv.FormatUint(id, 10)
	switch code := models.ErrorCode(err); {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin/reviews?notice="+url.QueryEscape(action)+"&job="+job)
	case code == models.ECONFLICT:
		if cs, cerr := a.reviews.Case(c.Request.Context(), id); cerr == nil && cs.Open {
			e, _, _ := clientError(err) // still open: this decision cannot apply
			a.showReview(c, http.StatusConflict, e, c.Request.PostForm)
			return
		}
		c.Redirect(http.StatusSeeOther, "/admin/reviews?problem=decided&job="+job)
	case code == models.EINVALID:
		e, _, _ := clientError(err)
		a.showReview(c, http.StatusBadRequest, e, c.Request.PostForm)
	default:
		pageError(c, a.log, a.pages, c.GetString(csrfKey), err)
	}
}
