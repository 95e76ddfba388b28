package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// StageMove is one job's move to its next pipeline stage, with what that
// stage saves. Nil fields leave their column as it is.
type StageMove struct {
	Job          *Job
	To           Status
	CleanedBody  *string
	TokensBefore *int
	TokensAfter  *int
	Extracted    JSON
}

// LockedByID is a FROM item that locks the emails whose ids are in the
// bigint[] parameter $1 and yields their id, lease_token and
// processing_status as locked (FOR UPDATE returns a row's latest version).
// Every statement that writes several running or waiting emails at once
// locks through it: in id order, so two such statements never deadlock;
// and by one primary-key lookup per id, so no plan can scan instead — not
// the status index over a backlog, nor the whole table under a generic
// plan that a prepared statement made while the table was still small.
const LockedByID = `(SELECT e.id, e.lease_token, e.processing_status
  FROM (SELECT DISTINCT id FROM unnest($1::bigint[]) AS ids(id) ORDER BY id) ids
  CROSS JOIN LATERAL (SELECT id, lease_token, processing_status FROM incoming_emails
                      WHERE id = ids.id FOR UPDATE) e)`

// advanceStagesSQL is the batched form of Change for pipeline stages: each
// row moves only from the stage its job last wrote and only under its lease
// token. The rows are locked through LockedByID and the guard is checked on
// the row as locked. Two moves for one email (an old attempt and a new one) match one
// token at most.
const advanceStagesSQL = `
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[])
    AS v(id, token, prev, next, cleaned, tokens_before, tokens_after, extracted)
), locked AS (SELECT * FROM ` + LockedByID + ` l)
UPDATE incoming_emails e SET processing_status = v.next, updated_at = now(),
  cleaned_body = coalesce(v.cleaned, e.cleaned_body),
  token_count_before = coalesce(v.tokens_before, e.token_count_before),
  token_count_after = coalesce(v.tokens_after, e.token_count_after),
  extracted_data = coalesce(v.extracted::jsonb, e.extracted_data)
FROM locked JOIN v ON v.id = locked.id
WHERE e.id = locked.id AND locked.lease_token = v.token AND locked.processing_status = v.prev
RETURNING v.token`

// AdvanceStages applies moves in one statement and returns, for each move,
// nil or why it did not happen (ErrLeaseLost, or a move that is not from one
// leased stage to the next, which is not sent: a move out of the stages ends
// the lease and goes through Change). The error is for the statement as a
// whole.
func AdvanceStages(ctx context.Context, db *gorm.DB, moves []StageMove) ([]error, error) {
	results := make([]error, len(moves))
	n := len(moves)
	ids, tokens, prev, next := make([]int64, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	cleaned, extracted := make([]*string, 0, n), make([]*string, 0, n)
	before, after := make([]*int, 0, n), make([]*int, 0, n)
	sent := make(map[string]int, n) // lease token → index in moves
	for i, m := range moves {
		from := m.Job.Email.ProcessingStatus
		if !CanTransition(from, m.To) || !m.To.Leased() {
			results[i] = fmt.Errorf("%s → %s is not a stage move of the state machine", from, m.To)
			continue
		}
		sent[m.Job.Token] = i
		ids = append(ids, int64(m.Job.Email.ID))
		tokens = append(tokens, m.Job.Token)
		prev, next = append(prev, string(from)), append(next, string(m.To))
		cleaned, before, after = append(cleaned, m.CleanedBody), append(before, m.TokensBefore), append(after, m.TokensAfter)
		var ex *string
		if len(m.Extracted) > 0 {
			s := string(m.Extracted)
			ex = &s
		}
		extracted = append(extracted, ex)
	}
	if len(ids) == 0 {
		return results, nil
	}
	returned, err := column[string](ctx, db, advanceStagesSQL, ids, tokens, prev, next, cleaned, before, after, extracted)
	if err != nil {
		return nil, fmt.Errorf("advance stages: %w", err)
	}
	moved := make(map[string]bool, len(returned))
	for _, token := range returned {
		moved[token] = true
	}
	for token, i := range sent {
		if moved[token] {
			moves[i].Job.Email.ProcessingStatus = moves[i].To
		} else {
			results[i] = ErrLeaseLost
		}
	}
	return results, nil
}
