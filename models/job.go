package models

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
}
