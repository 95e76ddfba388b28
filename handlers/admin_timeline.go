package handlers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/jobs"
)

// timelineEntry is one dated event on the job detail page.
type timelineEntry struct {
	At     time.Time
	What   string
	Detail string
}

// timeline reconstructs a job's history from its timestamps and attempts;
// there is no status log table, so this is what the rows remember.
func timeline(d jobs.Detail, now time.Time) []timelineEntry {
	out := []timelineEntry{{At: d.ReceivedAt, What: "received from Zendesk", Detail: "ticket " + d.ZendeskTicketID}}
	if !d.CreatedAt.IsZero() && d.CreatedAt.Sub(d.ReceivedAt).Abs() > time.Second {
		out = append(out, timelineEntry{At: d.CreatedAt, What: "stored"})
	}
	if d.LastDispatchedAt != nil {
		out = append(out, timelineEntry{At: *d.LastDispatchedAt, What: "last handed to the queue"})
	}
	for _, a := range d.Attempts {
		out = append(out, timelineEntry{At: a.StartedAt, What: fmt.Sprintf("attempt %d started", a.Attempt), Detail: "worker " + a.Worker})
		for _, st := range a.Stages {
			out = append(out, timelineEntry{At: st.At, What: fmt.Sprintf("attempt %d: %s", a.Attempt, st.Stage)})
		}
		if a.FinishedAt != nil {
			what := fmt.Sprintf("attempt %d ended", a.Attempt)
			if a.Outcome != nil {
				what += ": " + *a.Outcome
			}
			detail := ""
			if a.Error != nil {
				detail = *a.Error
			}
			out = append(out, timelineEntry{At: *a.FinishedAt, What: what, Detail: detail})
		}
	}
	if d.NextAttemptAt != nil {
		out = append(out, timelineEntry{At: *d.NextAttemptAt, What: "next attempt due"})
	}
	if d.CompletedAt != nil {
		what := "finished"
		if d.MatchStatus != nil && (*d.MatchStatus == models.MatchNeedsReview || len(d.ReviewDecisions) > 0) {
			what = "finished: held for review"
		}
		out = append(out, timelineEntry{At: *d.CompletedAt, What: what})
	}
	for _, x := range d.ReviewDecisions {
		out = append(out, timelineEntry{At: x.DecidedAt, What: "review: " + pastTense[x.Action], Detail: decisionDetail(x)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return append(out, timelineEntry{At: now, What: "now: " + string(d.Status)})
}

var pastTense = map[string]string{
	models.ReviewApprove: "approved", models.ReviewReassign: "reassigned", models.ReviewCorrect: "corrected",
	models.ReviewReject: "rejected",
}

// decisionDetail says what a decision applied and who made it.
func decisionDetail(x jobs.ReviewDecision) string {
	var parts []string
	if x.Action != models.ReviewReject && x.InquiryID != nil {
		parts = append(parts, fmt.Sprintf("inquiry %d", *x.InquiryID))
	}
	if x.Action != models.ReviewReject && x.Amount != nil {
		parts = append(parts, euro(*x.Amount))
	}
	if x.Note != "" {
		parts = append(parts, "note: "+x.Note)
	}
	who := "the admin page"
	if x.DecidedBy == "api" {
		who = "the API"
	}
	return strings.Join(append(parts, "via "+who), "; ")
}
