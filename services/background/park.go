package background

import "context"

// Slot is the worker slot a job runs in. A job about to wait on something
// slow that is not the worker's to do (a model call paced by its rate
// limit) parks: it gives the slot back, so another job can use the CPU and
// the database meanwhile, and resumes afterwards, waiting for a free slot
// again. A parked job must hold no database connection.
type Slot interface {
	// Park gives the slot back; the job keeps its lease.
	Park()
	// Resume waits for a slot again. On an error (ctx ended) the job holds
	// no slot and must not run more than its final write.
	Resume(ctx context.Context) error
}

type slotKey struct{}

// WithSlot returns ctx carrying the job's slot.
func WithSlot(ctx context.Context, s Slot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

// Park gives back the slot ctx carries, if any, and returns the function
// that takes one again; without a slot both are no-ops. Call resume exactly
// once.
func Park(ctx context.Context) (resume func(ctx context.Context) error) {
	s, ok := ctx.Value(slotKey{}).(Slot)
	if !ok {
		return func(context.Context) error { return nil }
	}
	s.Park()
	return s.Resume
}
