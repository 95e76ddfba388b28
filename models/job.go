package models

import (
	"context"

	"gorm.io/gorm"
)

// Job is one claimed attempt at an email: the row as claimed plus the lease
// token that every write of this attempt must carry.
type Job struct {
	Email   IncomingEmail
	Token   string
	Attempt int
	Worker  string
}

// Advance moves the job's email to a pipeline stage or its final state,
// guarded by the lease token, with the effects that belong to the move;
// ErrLeaseLost means another attempt owns the email now.
func (j *Job) Advance(ctx context.Context, tx *gorm.DB, to Status, set map[string]any, effects ...Effect) error {
	err := Change{ID: j.Email.ID, To: to, Token: j.Token, Set: set, Effects: effects}.Apply(ctx, tx)
	if err == nil {
		j.Email.ProcessingStatus = to
	}
	return err
}
