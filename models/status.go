// Package models is the vocabulary of the creditor email matcher: the email
// state machine (states, the transition table, the state sets statements
// filter on), the tables' types, the outbox payloads and domain errors. It
// runs no statement and holds no connection: services/store does, deriving
// its state sets from the table here.
package models

import "slices"

// Status is a value of incoming_emails.processing_status.
type Status string

// The states of DESIGN.md §4. Who moves an email in and out of each:
//
//   - received: the webhook stores it; intake or the reaper moves it to queued.
//     A signed delivery whose content is unusable is stored failed at once
//     (received → failed within intake's INSERT).
//   - queued: intake, the scheduler (due retries), the reaper (expired leases,
//     lost pushes) or a manual retry; a worker claims it into processing.
//   - processing, parsed, reading_attachments, extracting, extracted, matching:
//     a worker under a lease token; the reaper returns expired leases to queued.
//   - retrying: a worker after a transient error; the scheduler queues it when due.
//   - completed, not_creditor_reply, failed: terminal; only a manual retry
//     moves failed back to queued.
const (
	StatusReceived         Status = "received"
	StatusQueued           Status = "queued"
	StatusProcessing       Status = "processing"
	StatusParsed           Status = "parsed"
	StatusExtracting       Status = "extracting"
	StatusExtracted        Status = "extracted"
	StatusMatching         Status = "matching"
	StatusRetrying         Status = "retrying"
	StatusCompleted        Status = "completed"
	StatusNotCreditorReply Status = "not_creditor_reply"
	StatusFailed           Status = "failed"
)

// StatusReadingAttachments is the stage between parsed and extracting of
// an email that lists attachments: they are downloaded and read, each
// stored as an email_attachments row before extraction uses it
// (services/attachments). Mail without attachments goes parsed →
// extracting.
const StatusReadingAttachments Status = "reading_attachments"

// AllStatuses lists every state in pipeline order.
var AllStatuses = []Status{
	StatusReceived, StatusQueued, StatusProcessing, StatusParsed, StatusReadingAttachments,
	StatusExtracting, StatusExtracted, StatusMatching, StatusRetrying, StatusCompleted,
	StatusNotCreditorReply, StatusFailed,
}

// ActiveStages are the states a worker holds an email in under a lease.
var ActiveStages = []Status{
	StatusProcessing, StatusParsed, StatusReadingAttachments, StatusExtracting, StatusExtracted, StatusMatching,
}

// transitions is the table of DESIGN.md §4: to-state → allowed from-states.
// completed and not_creditor_reply are also entered from processing: the
// quick path records its fast stages with the final statement
// (services/pipeline, quick).
var transitions = map[Status][]Status{
	StatusQueued:           {StatusReceived, StatusRetrying, StatusProcessing, StatusParsed, StatusReadingAttachments, StatusExtracting, StatusExtracted, StatusMatching, StatusFailed},
	StatusProcessing:       {StatusQueued, StatusReceived},
	StatusParsed:           {StatusProcessing},
	StatusExtracting:       {StatusParsed, StatusReadingAttachments},
	StatusExtracted:        {StatusExtracting},
	StatusMatching:         {StatusExtracted},
	StatusRetrying:         {StatusProcessing, StatusParsed, StatusReadingAttachments, StatusExtracting, StatusExtracted, StatusMatching},
	StatusCompleted:        {StatusMatching, StatusProcessing},
	StatusNotCreditorReply: {StatusExtracted, StatusProcessing},
	StatusFailed:           {StatusProcessing, StatusParsed, StatusReadingAttachments, StatusExtracting, StatusExtracted, StatusMatching, StatusRetrying, StatusReceived},

	StatusReadingAttachments: {StatusParsed},
}

// Claimable returns the states a worker may claim an email in: those the
// table lets move to processing (received and queued).
func Claimable() []Status { return From(StatusProcessing) }

// Waiting returns the states an email waits in for a worker, holding no
// lease: the claimable ones, and retrying until its retry is due. The
// reaper pushes such emails to the queue again when Redis lost them.
func Waiting() []Status { return append(slices.Clone(Claimable()), StatusRetrying) }

// From returns the states an email may be in to move to s.
func From(s Status) []Status { return transitions[s] }

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to Status) bool { return slices.Contains(transitions[to], from) }

// Valid reports whether s is a state of the machine.
func (s Status) Valid() bool { return slices.Contains(AllStatuses, s) }

// Leased reports whether s is a stage a worker holds under a lease.
func (s Status) Leased() bool { return slices.Contains(ActiveStages, s) }

// Terminal reports whether no worker will move s on by itself.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusNotCreditorReply || s == StatusFailed
}
