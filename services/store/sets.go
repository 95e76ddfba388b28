package store

import (
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// The state sets the statements filter on, taken here, and only here, from
// the state machine of package models, so a state added there cannot be
// missed by a query. The fixed statements carry them as SQL lists rendered
// once (inList): a list of constants plans exactly as the literals these
// statements were first measured with. A change's allowed source states
// vary with the change and go as one text[] parameter (stateArray).
var (
	// claimableStates are those a worker claims an email from.
	claimableStates = inList(models.Claimable())
	// leasedStates are the stages a worker holds an email in under a lease.
	leasedStates = inList(models.ActiveStages)
	// waitingStates are those an email waits in for a worker, holding no lease.
	waitingStates = inList(models.Waiting())
)

// inList renders states as a SQL list, "('queued', 'received')". The names
// are the code's own constants, never input.
func inList(states []models.Status) string {
	quoted := make([]string, len(states))
	for i, s := range states {
		quoted[i] = "'" + string(s) + "'"
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// stateArray passes states as one text[] parameter (processing_status =
// ANY(?)).
func stateArray(states []models.Status) pgtype.Array[string] {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return array(names)
}

// array passes v as one PostgreSQL array parameter. GORM expands a plain
// slice into a list of parameters, "(?, ?, …)", for IN; a pgtype.Array is
// one value, which pgx encodes as an array.
func array[T any](v []T) pgtype.Array[T] {
	a := pgtype.Array[T]{Elements: v, Valid: true}
	if len(v) > 0 {
		a.Dims = []pgtype.ArrayDimension{{Length: int32(len(v)), LowerBound: 1}}
	}
	return a
}
