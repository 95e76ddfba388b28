package models

import "time"

// Job is one claimed attempt at an email: the row as claimed plus the lease
// token that every write of this attempt must carry.
type Job struct {
	Email   IncomingEmail
	Token   string
	Attempt int
	Worker  string
	// LLM sums the model usage of this attempt; the processor puts it on
	// the attempt's context (WithUsageMeter), every model call adds to it,
	// and the statement that finishes the attempt writes its total. nil
	// until the processor sets it: a nil meter records nothing.
	LLM *UsageMeter

	// Stages are the pipeline stages this attempt reached, in order; the
	// attempt's end records them (email_attempts.stages), so the timeline
	// shows every stage, also those the quick path never wrote on their own.
	Stages []StageMark
}

// StageMark is a stage an attempt reached and when.
type StageMark struct {
	Stage Status    `json:"stage"`
	At    time.Time `json:"at"`
}

// Reached records that the attempt entered stage at at.
func (j *Job) Reached(stage Status, at time.Time) {
	j.Stages = append(j.Stages, StageMark{Stage: stage, At: at})
}
