package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// StageMove is one job's move to its next pipeline stage, with what that
// stage saves. Nil fields leave their column as it is.
type StageMove struct {
	Job          *models.Job
	To           models.Status
	CleanedBody  *string
	TokensBefore *int
	TokensAfter  *int
	Extracted    models.JSON
}

// advanceStagesSQL moves many jobs each to its next stage in one statement:
// each row moves only from the stage its job last wrote and only under its
// lease token. The rows are locked through lockedByID and the guard is
// checked on the row as locked. Two moves for one email (an old attempt and
// a new one) match one token at most.
const advanceStagesSQL = `
WITH v AS (
  SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::text[])
    AS v(id, token, prev, next, cleaned, tokens_before, tokens_after, extracted)
), locked AS (SELECT * FROM ? l)
UPDATE incoming_emails e SET processing_status = v.next, updated_at = now(),
  cleaned_body = coalesce(v.cleaned, e.cleaned_body),
  token_count_before = coalesce(v.tokens_before, e.token_count_before),
  token_count_after = coalesce(v.tokens_after, e.token_count_after),
  extracted_data = coalesce(v.extracted::jsonb, e.extracted_data)
FROM locked JOIN v ON v.id = locked.id
WHERE e.id = locked.id AND locked.lease_token = v.token AND locked.processing_status = v.prev
RETURNING v.token`

// AdvanceStages applies moves in one statement, on the async pool: a crash
// may lose a stage marker, never a result the retry could not compute
// again. It returns, for each move, nil or why it did not happen
// (models.ErrLeaseLost, or a move that is not from one leased stage to the
// next, which is not sent: a move out of the stages ends the lease and goes
// through Finish). The error is for the statement as a whole. A moved job's
// email takes its new state.
//
// GORM builds it and reads the returned tokens with Find: Scan would have
// it format the statement with its values for a logger even when the
// logger is silent (one move: 17.8 KB and 180 allocations with Scan, 9.0 KB
// and 97 with Find, 1.9 KB and 56 for the former hand-built text). The
// statement runs once per batch of moves, so the rest is left to GORM
// (change.apply has the end-to-end figures).
func (s *Store) AdvanceStages(ctx context.Context, moves []StageMove) ([]error, error) {
	results := make([]error, len(moves))
	at := time.Now() // when the moves were asked for: the stages' start
	n := len(moves)
	ids, tokens, prev, next := make([]uint64, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	cleaned, extracted := make([]*string, 0, n), make([]*string, 0, n)
	before, after := make([]*int, 0, n), make([]*int, 0, n)
	sent := make(map[string]int, n) // lease token → index in moves
	for i, m := range moves {
		from := m.Job.Email.ProcessingStatus
		if !models.CanTransition(from, m.To) || !m.To.Leased() {
			results[i] = fmt.Errorf("%s → %s is not a stage move of the state machine", from, m.To)
			continue
		}
		sent[m.Job.Token] = i
		ids = append(ids, m.Job.Email.ID)
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
	var returned []string
	err := s.async.WithContext(ctx).Raw(advanceStagesSQL, array(ids), array(tokens), array(prev), array(next),
		array(cleaned), array(before), array(after), array(extracted), lockedByID(ids)).Find(&returned).Error
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
			moves[i].Job.Reached(moves[i].To, at)
		} else {
			results[i] = models.ErrLeaseLost
		}
	}
	return results, nil
}

// SaveExtraction moves job to extracted with data, durably and on its own:
// a model's answer cost money and time, so it waits for a durable commit
// rather than riding with the batched stage moves.
func (s *Store) SaveExtraction(ctx context.Context, job *models.Job, data models.JSON) error {
	at := time.Now()
	c := change{To: models.StatusExtracted, Token: job.Token, Set: []assign{{"extracted_data", data}}}
	if err := c.apply(ctx, s.db, job.Email.ID); err != nil {
		return err
	}
	job.Email.ProcessingStatus = models.StatusExtracted
	job.Reached(models.StatusExtracted, at)
	return nil
}

// Merge returns m followed by next, as one move: next's stage, and what
// either saves (next's value where both save a column). The quick path
// (services/pipeline) merges its fast stages and writes them with the final
// statement (Final.WithStages) instead of one stage move each.
func (m StageMove) Merge(next StageMove) StageMove {
	out := m
	if out.Job == nil {
		out.Job = next.Job
	}
	out.To = next.To
	if next.CleanedBody != nil {
		out.CleanedBody, out.TokensBefore, out.TokensAfter = next.CleanedBody, next.TokensBefore, next.TokensAfter
	}
	if len(next.Extracted) > 0 {
		out.Extracted = next.Extracted
	}
	return out
}

// columns are the assignments that save what m's stages computed.
func (m StageMove) columns() []assign {
	var set []assign
	if m.CleanedBody != nil {
		set = append(set, assign{"cleaned_body", *m.CleanedBody},
			assign{"token_count_before", m.TokensBefore}, assign{"token_count_after", m.TokensAfter})
	}
	if len(m.Extracted) > 0 {
		set = append(set, assign{"extracted_data", m.Extracted})
	}
	return set
}
