package store

import (
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// effect is a write that happens together with a change, or not at all:
// one data-modifying statement that takes the moved email's id from the CTE
// "moved" (INSERT … SELECT … FROM moved, or UPDATE … WHERE EXISTS (SELECT 1
// FROM moved)). Its name makes its RETURNING rows readable by the effects
// after it in the same statement.
type effect struct {
	name string
	expr clause.Expr
}

// withEffects wraps the guarded UPDATE q with effects into one statement
// that returns how many emails moved (0 or 1).
func withEffects(q clause.Expr, effects []effect) clause.Expr {
	var sql strings.Builder
	vars := make([]any, 0, len(effects)+1)
	sql.WriteString("WITH moved AS (? RETURNING id)")
	vars = append(vars, q)
	for i, e := range effects {
		name := e.name
		if name == "" {
			name = "effect" + strconv.Itoa(i)
		}
		sql.WriteString(", " + name + " AS (?)")
		vars = append(vars, e.expr)
	}
	sql.WriteString(" SELECT count(*) FROM moved")
	return clause.Expr{SQL: sql.String(), Vars: vars}
}

// recordEffects are the writes of a debt record, in an order that lets the
// sync row read the debt update's id.
func recordEffects(emailID uint64, r *models.DebtRecord) []effect {
	if r == nil {
		return nil
	}
	out := []effect{debtInsert(r.Update), outboxRow(models.OutboxDebtNotification, emailID, r.Notification)}
	if r.Answered != nil {
		out = append(out, inquiryAnswered(*r.Answered))
	}
	if r.Sync != nil {
		out = append(out, syncRow(emailID, *r.Sync))
	}
	return out
}

// debtInsert inserts up for the moved email, as the effect "debt" that the
// sync row reads its id from. A conflict cannot happen while the guard holds
// (the row is only ever written by the statement that completes the email);
// the key makes sure.
func debtInsert(up models.DebtUpdate) effect {
	return effect{name: "debt", expr: gorm.Expr(`INSERT INTO debt_updates (incoming_email_id, creditor_inquiry_id,
  client_name, client_aktenzeichen, creditor_name, creditor_email, previous_amount, amount, reference_numbers,
  match_status, match_confidence)
SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM moved
ON CONFLICT (incoming_email_id) DO NOTHING RETURNING id`,
		up.CreditorInquiryID, up.ClientName, up.ClientAktenzeichen, up.CreditorName, up.CreditorEmail,
		up.PreviousAmount, up.Amount, up.ReferenceNumbers, up.MatchStatus, up.MatchConfidence)}
}

// syncRow is the creditor_debt_update outbox row, whose payload gets the id
// the "debt" effect returned; without a debt update, no row is written.
func syncRow(emailID uint64, p models.DebtSyncPayload) effect {
	kind := models.OutboxCreditorDebtUpdate
	return effect{expr: gorm.Expr(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
SELECT ?, moved.id, jsonb_set(?::jsonb, '{debt_update_id}', to_jsonb(debt.id)), ? FROM moved, debt
ON CONFLICT (idempotency_key) DO NOTHING`, kind, models.MustJSON(p), models.OutboxKey(kind, emailID))}
}

// outboxRow records one outbox row of kind for the moved email, unless its
// idempotency key exists.
func outboxRow(kind string, emailID uint64, payload any) effect {
	return effect{expr: gorm.Expr(`INSERT INTO outbox_messages (aggregate_type, aggregate_id, payload, idempotency_key)
SELECT ?, id, ?, ? FROM moved ON CONFLICT (idempotency_key) DO NOTHING`,
		kind, models.MustJSON(payload), models.OutboxKey(kind, emailID))}
}

// inquiryAnswered marks the inquiry an answer settles.
func inquiryAnswered(inquiryID uint64) effect {
	return effect{expr: gorm.Expr(`UPDATE creditor_inquiries SET response_received = true, updated_at = now()
WHERE id = ? AND EXISTS (SELECT 1 FROM moved)`, inquiryID)}
}

// attemptEnd closes job's attempt with the stages it reached and its model
// usage, unless something closed it already (the reaper's rescue).
func attemptEnd(job *models.Job, outcome string, errText *string) effect {
	return effect{expr: gorm.Expr(finishAttemptSQL+" AND EXISTS (SELECT 1 FROM moved)", finishAttemptArgs(job, outcome, errText)...)}
}

// finishAttemptSQL closes the attempt with a lease token, unless something
// closed it already (the final write of the attempt, or the reaper's
// rescue), with the attempt's model usage: no statement of its own.
const finishAttemptSQL = `UPDATE email_attempts SET finished_at = now(), outcome = ?, error = ?, stages = ?,
  llm_input_tokens = ?, llm_output_tokens = ?, llm_cache_write_tokens = ?, llm_cache_read_tokens = ?,
  llm_calls = ?, llm_rate_limited = ?
WHERE lease_token = ? AND finished_at IS NULL`

// finishAttemptArgs are finishAttemptSQL's arguments for job's attempt:
// the stages it reached (NULL when none) and its model usage.
func finishAttemptArgs(job *models.Job, outcome string, errText *string) []any {
	var stages models.JSON
	if len(job.Stages) > 0 {
		stages = models.MustJSON(job.Stages)
	}
	u := job.LLM.Total()
	return []any{outcome, errText, stages, u.InputTokens, u.OutputTokens, u.CacheWriteTokens, u.CacheReadTokens,
		u.Calls, u.RateLimited, job.Token}
}
