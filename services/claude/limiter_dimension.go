package claude

import (
	"math"
	"time"
)

// Pacing constants of the limiter (see limiter.go for the reasoning).
const (
	// paceTarget is the share of a learned limit the pacer aims at: high
	// enough to drain a backlog at >= 90 % of the limit, low enough that
	// estimation error and clock skew rarely reach the server's bucket.
	paceTarget = 0.95
	// minShare is the least share of a limit the pacer keeps, however much
	// other processes seem to use, so a process is never starved for good.
	minShare = 0.05
	// paceTolerance lets a request go this much before its paced slot: the
	// burst a caller may make after an idle period.
	paceTolerance = 200 * time.Millisecond
	// foreignWindow is the time constant over which consumption the limiter
	// cannot explain (other processes on the account) is averaged.
	foreignWindow = 10 * time.Second
)

// dimension is the limiter's picture of one of the account's rate limits:
// requests, input tokens or output tokens per minute. It keeps two things:
//
//   - a model of the server's token bucket (level, capacity, refilled at
//     limit/60 per second), from which admission takes what the server will
//     take (one request, the input tokens, max_tokens of output) and to
//     which Done gives back what the server gives back (unused output);
//     every response's -remaining header corrects it downwards, which is how
//     consumption by other processes sharing the account shows up;
//   - a pacer (GCRA, "virtual scheduling"): requests are spaced at the
//     share of the limit this process may use, by their expected net cost,
//     so a backlog drains smoothly instead of in bursts the server may
//     enforce over a shorter interval than the minute.
type dimension struct {
	name     string    // header infix: requests, input-tokens, output-tokens
	limit    float64   // per minute, from the -limit header; 0 = unknown
	capacity float64   // size of the server's bucket, learned
	level    float64   // modelled free capacity of the server's bucket
	at       time.Time // when level was last refilled
	tat      time.Time // the pacer's next slot (theoretical arrival time)
	sized    bool      // capacity was learned from a -remaining header
	gap      float64   // usual excess of the model over the headers (mean)

	foreign   float64 // unexplained consumption, decaying over foreignWindow
	foreignAt time.Time
}

func (d *dimension) known() bool { return d.limit > 0 }

// rate is the server's refill rate, per second.
func (d *dimension) rate() float64 { return d.limit / 60 }

func (d *dimension) refill(now time.Time) {
	if dt := now.Sub(d.at).Seconds(); dt > 0 {
		d.level = min(d.capacity, d.level+dt*d.rate())
	}
	d.at = now
}

// foreignRate is how much per second others seem to use, averaged.
func (d *dimension) foreignRate(now time.Time) float64 {
	decay := math.Exp(-now.Sub(d.foreignAt).Seconds() / foreignWindow.Seconds())
	return d.foreign * decay / foreignWindow.Seconds()
}

// paceRate is what this process may use per second: the target share of
// the limit, less what others use, times backoff (lowered after a 429).
func (d *dimension) paceRate(now time.Time, backoff float64) float64 {
	r := d.rate()
	return max(r*paceTarget*backoff-d.foreignRate(now), r*minShare)
}

// wait returns how long a request costing pace (net, for the pacer) and
// hold (what the server takes at admission) must wait; 0 means now.
func (d *dimension) wait(now time.Time, pace, hold, backoff float64) time.Duration {
	if !d.known() {
		return 0
	}
	d.refill(now)
	var w time.Duration
	if slot := d.tat.Add(-d.tolerance(hold)); slot.After(now) {
		w = slot.Sub(now)
	}
	// Keep a reserve: the model can be ahead of the server by the calls in
	// transit when a header corrected it. A request larger than the learned
	// bucket waits for a full bucket, not for ever: the bucket may be larger
	// than learned so far.
	need := min(hold+d.reserve(), d.capacity)
	if d.level < need {
		w = max(w, seconds((need-d.level)/d.rate()))
	}
	return w
}

// reserve is what admission leaves in the modelled bucket, so that the
// model's errors do not reach the server: a base share of the bucket, or
// twice the usual gap between the model and the headers, whichever is more.
// That gap is mostly calls in transit: the model books a call when it is
// sent, the server when it arrives, and while the server's bucket is full
// in between its refill is lost while the model's is not.
func (d *dimension) reserve() float64 {
	base := 0.05 * d.capacity
	if d.name == "requests" {
		base = max(1, 0.02*d.capacity)
	}
	return min(max(base, 2*d.gap), d.capacity/2)
}

// tolerance is how early a call may go before its paced slot: at most
// paceTolerance, and never more than the learned bucket can absorb (a
// server that holds one request's worth refuses any call that comes early).
func (d *dimension) tolerance(hold float64) time.Duration {
	spare := d.capacity - hold - d.reserve()
	return min(paceTolerance, seconds(spare/d.rate()))
}

// take books an admitted request.
func (d *dimension) take(now time.Time, pace, hold, backoff float64) {
	if !d.known() {
		return
	}
	if d.tat.Before(now) {
		d.tat = now
	}
	d.tat = d.tat.Add(seconds(pace / d.paceRate(now, backoff)))
	d.level -= hold
}

// settle corrects a booking once the answer shows the real cost: pace is
// the pacer's error (actual − expected, may be negative), back what the
// server gave back (e.g. unused output tokens, or everything for a request
// it refused).
func (d *dimension) settle(now time.Time, pace, back, backoff float64) {
	if !d.known() {
		return
	}
	d.tat = d.tat.Add(seconds(pace / d.paceRate(now, backoff)))
	d.refill(now)
	d.level = min(d.capacity, d.level+back)
}

// observe reads one response's -limit and -remaining for this dimension.
func (d *dimension) observe(now time.Time, limit, remaining float64, hasRemaining bool) {
	if limit > 0 && limit != d.limit {
		if !d.known() {
			d.level, d.at, d.tat, d.foreignAt = limit, now, now, now
		}
		d.limit, d.capacity, d.sized = limit, limit, false
	}
	if !d.known() || !hasRemaining {
		return
	}
	d.refill(now)
	// The server's bucket holds at least what it reports free. Learning its
	// size from below models a server that enforces a shorter window than the
	// documented minute; the first answer, with one call in flight, shows
	// nearly all of it.
	seen := remaining
	if !d.sized {
		d.capacity, d.sized = min(d.limit, max(seen, 1)), true
		d.level = min(d.level, remaining) // the first header is the whole truth there is
	} else {
		d.capacity = min(d.limit, max(d.capacity, seen))
	}
	d.level = min(d.level, d.capacity)
	// Down-corrections only: a header may predate our latest bookings. The
	// gap up to the usual one is transit (see reserve); what exceeds it is
	// consumption the model cannot explain: other processes on the account.
	// Headers carry whole numbers: the server's level is below remaining+1.
	gap := max(0, d.level-remaining-1)
	d.gap = ewma(d.gap, gap, 0.05)
	if gap > d.reserve() {
		d.foreign = d.foreignRate(now)*foreignWindow.Seconds() + max(0, gap-d.gap)
		d.foreignAt = now
		d.level = remaining
	}
}

// seconds converts float seconds to a Duration, saturating.
func seconds(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s > 1e6 {
		return time.Duration(1e6 * float64(time.Second))
	}
	return time.Duration(s * float64(time.Second))
}
