package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawfirm/creditor-email-matcher/handlers"
)

// Hard bounds: a bench run always ends by itself.
const (
	MaxCount    = 1_000_000
	MaxDuration = 10 * time.Minute
	// variants is how many distinct replies are pre-rendered; requests cycle
	// through them with a unique webhook_id each.
	variants = 2048
)

// LoadConfig says what to post, where, and how much.
type LoadConfig struct {
	URL         string        // webhook URL; its host must be 127.0.0.1
	Secret      string        // WEBHOOK_SECRET of the target
	Concurrency int           // concurrent senders
	Count       int           // requests to send (upper bound)
	Duration    time.Duration // wall-time bound; 0 means MaxDuration
	RunID       string        // prefix of every webhook_id, unique per run
	Corpus      *Corpus
	Timeout     time.Duration // per request; 0 means 15s
}

// LoadResult is what the runner saw.
type LoadResult struct {
	Sent, Accepted, Duplicates, TransportErrors int
	Status                                      map[int]int
	Latencies                                   []time.Duration // sorted
	Start, End                                  time.Time
	BodyBytesMin, BodyBytesMax, BodyBytesMean   int
}

// RandomHex returns n random bytes as hex, for run ids, database names and
// webhook secrets.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CheckLoopback refuses any target but 127.0.0.1.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parse url: %w", err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("url %q: only http://127.0.0.1 targets are allowed", raw)
	}
	return nil
}

// Run posts the corpus's replies until Count requests were sent or Duration
// passed, whichever comes first, and returns what it measured.
func Run(ctx context.Context, cfg LoadConfig) (LoadResult, error) {
	if err := CheckLoopback(cfg.URL); err != nil {
		return LoadResult{}, err
	}
	cfg = bounded(cfg)
	frags, lmin, lmax, lmean, err := renderVariants(cfg.Corpus, min(cfg.Count, variants))
	if err != nil {
		return LoadResult{}, err
	}
	client := LoopbackClient(cfg.Concurrency, cfg.Timeout)
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var next atomic.Int64
	per := make([]workerStats, cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range per {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &per[w]
			s.status = map[int]int{}
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.Count {
					return
				}
				s.post(ctx, client, cfg, i, frags[i%len(frags)])
			}
		}()
	}
	wg.Wait()
	res := merge(per)
	res.Start, res.End = start, time.Now()
	res.BodyBytesMin, res.BodyBytesMax, res.BodyBytesMean = lmin, lmax, lmean
	return res, nil
}

func bounded(cfg LoadConfig) LoadConfig {
	cfg.Concurrency = min(max(cfg.Concurrency, 1), 1024)
	cfg.Count = min(max(cfg.Count, 1), MaxCount)
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		cfg.Duration = MaxDuration
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Corpus == nil {
		cfg.Corpus = NewCorpus(1, 2000)
	}
	return cfg
}

// renderVariants pre-renders n replies as JSON objects, so the timed loop
// only splices in a webhook_id and signs.
func renderVariants(c *Corpus, n int) (frags [][]byte, lmin, lmax, lmean int, err error) {
	now := time.Now()
	lmin, total := int(^uint(0)>>1), 0
	for i := range n {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.Reply(i, now)); err != nil {
			return nil, 0, 0, 0, fmt.Errorf("render reply: %w", err)
		}
		b := bytes.TrimSpace(buf.Bytes())
		frags = append(frags, b)
		lmin, lmax, total = min(lmin, len(b)), max(lmax, len(b)), total+len(b)
	}
	return frags, lmin, lmax, total / n, nil
}

// LoopbackClient returns an HTTP client that dials 127.0.0.1 only, keeping
// up to conns connections, each request bounded by timeout.
func LoopbackClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
				return nil, fmt.Errorf("refusing to dial %q: loopback only", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
		DisableCompression: true, IdleConnTimeout: 30 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

type workerStats struct {
	sent, accepted, dup, transport int
	status                         map[int]int
	lat                            []time.Duration
	body                           []byte
}

var acceptedMark = []byte(`"status":"accepted"`)
var duplicateMark = []byte(`"status":"duplicate"`)

// post sends request i and records its outcome.
func (s *workerStats) post(ctx context.Context, client *http.Client, cfg LoadConfig, i int, frag []byte) {
	s.body = append(s.body[:0], `{"webhook_id":"`...)
	s.body = append(s.body, cfg.RunID...)
	s.body = append(s.body, '-')
	s.body = strconv.AppendInt(s.body, int64(i), 10)
	s.body = append(s.body, `",`...)
	s.body = append(s.body, frag[1:]...)
	ts := time.Now().UTC().Format(time.RFC3339)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(s.body))
	if err != nil {
		s.transport++
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	req.Header.Set("X-Zendesk-Webhook-Signature", handlers.Sign(cfg.Secret, ts, s.body))
	t0 := time.Now()
	resp, err := client.Do(req)
	s.sent++
	if err != nil {
		if ctx.Err() != nil {
			s.sent-- // cut off by the duration bound or cancelled: not a sample
			return
		}
		s.transport++
		return
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	s.lat = append(s.lat, time.Since(t0))
	s.status[resp.StatusCode]++
	if resp.StatusCode != http.StatusOK {
		return
	}
	switch {
	case bytes.Contains(answer, acceptedMark):
		s.accepted++
	case bytes.Contains(answer, duplicateMark):
		s.dup++
	}
}

func merge(per []workerStats) LoadResult {
	res := LoadResult{Status: map[int]int{}}
	for _, s := range per {
		res.Sent += s.sent
		res.Accepted += s.accepted
		res.Duplicates += s.dup
		res.TransportErrors += s.transport
		for k, v := range s.status {
			res.Status[k] += v
		}
		res.Latencies = append(res.Latencies, s.lat...)
	}
	slices.Sort(res.Latencies)
	return res
}
