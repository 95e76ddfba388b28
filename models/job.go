package models

// Job is one claimed attempt at an email: the row as claimed plus the lease
// token that every write of this attempt must carry.
type Job struct {
	Email   IncomingEmail
	Token   string
	Attempt int
	Worker  string
}
