package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Defaults of the unverified-body bounds (WebhookConfig's zero values).
const (
	defaultUnverifiedMaxBytes = 32 << 20
	// defaultBudgetWait is how long a request waits for room in the budget
	// before it gets 503: short, because Zendesk gives up after about 10 s
	// and retries a 503 with a short Retry-After.
	defaultBudgetWait = time.Second
	// defaultBodyGrace and defaultMinBodyRate bound how slowly a body may
	// arrive: after grace, at least rate bytes per second on average. A
	// 5 MiB body from Zendesk's data centres takes well under a second; a
	// sender that trickles or stalls loses its place instead of holding
	// the budget.
	defaultBodyGrace   = time.Second
	defaultMinBodyRate = 1 << 20
)

// bodyBudget bounds the bytes of webhook bodies held before their signature
// is checked, across all requests at once (DESIGN.md §6.6). A request
// reserves its Content-Length (the body limit when it is chunked) before
// reading and gives it back right after the signature check. Waiters are
// served first come, first served (semaphore.Weighted is FIFO), each for at
// most wait.
//
// The budget has two lanes. Zendesk's replies are mostly a few kilobytes,
// and in one FIFO queue they would wait behind every multi-megabyte body
// ahead of them, forged or not: bodies up to smallBody take the small lane
// (a quarter of the budget), larger ones the large lane (the rest, at least
// one whole body). The two together never exceed the budget.
type bodyBudget struct {
	small, large *semaphore.Weighted // small is nil when the budget is too small to split
	smallBody    int64
	wait         time.Duration
	grace        time.Duration
	minRate      int64
	maxBytes     int64 // WEBHOOK_MAX_BODY_BYTES
	buffers      sync.Pool
}

// maxSmallBody is the largest body of the small lane: a reply with quoted
// history and HTML markup, but no embedded files.
const maxSmallBody = 64 << 10

func newBodyBudget(cfg WebhookConfig) *bodyBudget {
	b := &bodyBudget{wait: cfg.BudgetWait, grace: cfg.BodyGrace, minRate: cfg.MinBodyRate, maxBytes: cfg.MaxBodyBytes}
	size := cfg.UnverifiedMaxBytes
	if size <= 0 {
		size = defaultUnverifiedMaxBytes
	}
	size = max(size, b.maxBytes) // one body always fits
	if b.wait <= 0 {
		b.wait = defaultBudgetWait
	}
	if b.grace <= 0 {
		b.grace = defaultBodyGrace
	}
	if b.minRate <= 0 {
		b.minRate = defaultMinBodyRate
	}
	b.smallBody = min(maxSmallBody, b.maxBytes/8)
	smallLane := min(size/4, size-b.maxBytes)
	if b.smallBody > 0 && smallLane >= b.smallBody {
		b.small = semaphore.NewWeighted(smallLane)
		size -= smallLane
	}
	b.large = semaphore.NewWeighted(size)
	return b
}

var errBudgetFull = models.Errorf(models.EUNAVAILABLE, "too many webhook bodies in flight, retry shortly")

// reserve waits up to b.wait for room for a body of n bytes (-1: unknown,
// chunked) in its lane and returns the reservation's release. Nothing is
// read.
func (b *bodyBudget) reserve(ctx context.Context, n int64) (release func(), err error) {
	if n < 0 {
		n = b.maxBytes
	}
	if n == 0 {
		return func() {}, nil
	}
	lane := b.large
	if b.small != nil && n <= b.smallBody {
		lane = b.small
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := lane.Acquire(ctx, n); err != nil {
		return nil, errBudgetFull
	}
	var done bool
	return func() {
		if !done {
			done = true
			lane.Release(n)
		}
	}, nil
}

// Large buffers of bodies that failed their check are reused, so a flood
// of forged bodies allocates nothing once warm and the heap does not grow
// with garbage between collections. Only buffers whose body was never
// handed on are recycled. sync.Pool drops them when the flood is over.
const (
	minPooledBuffer = 256 << 10
	bufferRounding  = 64 << 10
)

// buffer returns a buffer of n bytes, reused when one fits.
func (b *bodyBudget) buffer(n int64) []byte {
	if n >= minPooledBuffer {
		if p, ok := b.buffers.Get().(*[]byte); ok && int64(cap(*p)) >= n {
			return (*p)[:n]
		}
		return make([]byte, n, (n+bufferRounding-1)/bufferRounding*bufferRounding)
	}
	return make([]byte, n)
}

// recycle takes back the buffer of a body nobody holds any more.
func (b *bodyBudget) recycle(body []byte) {
	if cap(body) >= minPooledBuffer {
		b.buffers.Put(&body)
	}
}

// read reads the body of r, which has a reservation: exactly Content-Length
// bytes, or for a chunked body at most maxBytes (ETOOLARGE beyond). The
// sender must keep up a minimum rate (minRate after grace), enforced with
// the connection's read deadline, so a slow sender cannot hold its
// reservation for long.
func (b *bodyBudget) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	pace := &pacedReader{r: r.Body, rc: rc, start: time.Now(), grace: b.grace, rate: b.minRate}
	// The deadline must not outlive the read: the server's background read
	// after the body would hit it and cancel the request's context.
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()

	var body []byte
	var err error
	if r.ContentLength >= 0 {
		body = b.buffer(r.ContentLength)
		if _, err = io.ReadFull(pace, body); err != nil {
			b.recycle(body)
		}
	} else {
		body, err = readChunked(http.MaxBytesReader(w, io.NopCloser(pace), b.maxBytes), b.maxBytes)
	}
	if err == nil {
		return body, nil
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, models.Errorf(models.ETOOLARGE, "body exceeds %d bytes", b.maxBytes)
	case errors.Is(err, errTooSlow):
		return nil, models.Errorf(models.EINVALID, "body arrived too slowly")
	}
	return nil, models.Errorf(models.EINVALID, "could not read body")
}

// readChunked reads a body of unknown length, at most limit bytes (the
// reader enforces it), into one buffer grown by doubling.
func readChunked(r io.Reader, limit int64) ([]byte, error) {
	buf := make([]byte, 0, min(int64(64<<10), limit+1))
	for {
		if int64(len(buf)) > limit {
			return nil, &http.MaxBytesError{Limit: limit}
		}
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var errTooSlow = errors.New("body below the minimum rate")

// pacedReader moves the connection's read deadline ahead as bytes arrive:
// the next bytes are due by start + grace + received/rate.
type pacedReader struct {
	r        io.Reader
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     int64
	received int64
}

func (p *pacedReader) Read(buf []byte) (int, error) {
	due := p.start.Add(p.grace + time.Duration(float64(p.received)/float64(p.rate)*float64(time.Second)))
	// ErrNotSupported (a test recorder) leaves the body unpaced.
	_ = p.rc.SetReadDeadline(due)
	n, err := p.r.Read(buf)
	p.received += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && time.Now().After(due) {
		return n, errTooSlow
	}
	return n, err
}
