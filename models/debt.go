package models

// DebtRecord is what one creditor answer with an amount writes when its
// email completes, all in the statement that completes it: the debt update,
// the staff's notification and, for an automatic match, the portal sync
// and the inquiry's answered flag. services/debts decides it; the store
// writes it.
type DebtRecord struct {
	// Update is the debt_updates row (at most one per email).
	Update DebtUpdate
	// Notification is the debt_notification outbox row's payload.
	Notification DebtNotificationPayload
	// Sync, for an automatic match, is the creditor_debt_update outbox
	// row's payload; its DebtUpdateID is the id Update gets, filled in by
	// the same statement. Nil otherwise: a person decides first.
	Sync *DebtSyncPayload
	// Answered is the inquiry the answer settles, marked response_received
	// (with Sync); nil leaves every inquiry as it is.
	Answered *uint64
}
