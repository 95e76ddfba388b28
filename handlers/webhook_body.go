package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
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
type bodyBudget struct {
	sem      *semaphore.Weighted
	size     int64
	wait     time.Duration
	grace    time.Duration
	minRate  int64
	maxBytes int64 // WEBHOOK_MAX_BODY_BYTES
}

func newBodyBudget(cfg WebhookConfig) *bodyBudget {
	b := &bodyBudget{size: cfg.UnverifiedMaxBytes, wait: cfg.BudgetWait, grace: cfg.BodyGrace,
		minRate: cfg.MinBodyRate, maxBytes: cfg.MaxBodyBytes}
	if b.size <= 0 {
		b.size = defaultUnverifiedMaxBytes
	}
	b.size = max(b.size, b.maxBytes) // one body always fits
	if b.wait <= 0 {
		b.wait = defaultBudgetWait
	}
	if b.grace <= 0 {
		b.grace = defaultBodyGrace
	}
	if b.minRate <= 0 {
		b.minRate = defaultMinBodyRate
	}
	b.sem = semaphore.NewWeighted(b.size)
	return b
}

var errBudgetFull = models.Errorf(models.EUNAVAILABLE, "too many webhook bodies in flight, retry shortly")

// reserve waits up to b.wait for room for a body of n bytes (-1: unknown,
// chunked) and returns the reservation's release. Nothing is read.
func (b *bodyBudget) reserve(ctx context.Context, n int64) (release func(), err error) {
	if n < 0 {
		n = b.maxBytes
	}
	if n == 0 {
		return func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, errBudgetFull
	}
	var done bool
	return func() {
		if !done {
			done = true
			b.sem.Release(n)
		}
	}, nil
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
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(pace, body)
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
