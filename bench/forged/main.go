// Command forged measures the webhook under an unauthenticated flood: many
// clients post large bodies with forged signature headers (fresh timestamps,
// well-formed signatures that verify with no secret), while real signed
// webhooks arrive at a modest rate. It reports the service's peak RSS, the
// latency of the signed webhooks, and how each of them was answered: a
// refused one must get 503 with Retry-After, which Zendesk retries. Only
// http://127.0.0.1 targets; the run is bounded in time.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/bench/webhooks"
	"github.com/lawfirm/creditor-email-matcher/handlers"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "forged:", err)
		os.Exit(1)
	}
}

// config is the run's shape, from the flags.
type config struct {
	url, secret string
	clients     int
	size        int
	duration    time.Duration
	rate        float64
	rssPID      int
	summary     bool
}

func parse(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("forged", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080/api/v1/zendesk/webhook", "webhook URL (127.0.0.1 only)")
	fs.StringVar(&c.secret, "secret", getenv("WEBHOOK_SECRET"), "the service's webhook secret, for the signed webhooks (default $WEBHOOK_SECRET)")
	fs.IntVar(&c.clients, "c", 64, "clients posting forged bodies, each one request at a time")
	fs.IntVar(&c.size, "size", 5_000_000, "bytes of each forged body")
	fs.DurationVar(&c.duration, "d", 30*time.Second, "how long to run (at most 10m)")
	fs.Float64Var(&c.rate, "rate", 10, "signed webhooks per second")
	fs.IntVar(&c.rssPID, "rss-pid", 0, "sample this process's RSS during the run and report its peak")
	fs.BoolVar(&c.summary, "summary", false, "also print one machine-readable SUMMARY line")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case c.secret == "":
		return c, fmt.Errorf("-secret (or WEBHOOK_SECRET) is required: the signed webhooks need it")
	case c.clients < 1 || c.clients > 1024 || c.size < 1 || c.size > 64<<20 || c.rate <= 0 || c.rate > 1000:
		return c, fmt.Errorf("out of range: -c 1–1024, -size 1–64 MiB, -rate (0, 1000]")
	case c.duration <= 0 || c.duration > webhooks.MaxDuration:
		return c, fmt.Errorf("-d must be within (0, %s]", webhooks.MaxDuration)
	}
	return c, webhooks.CheckLoopback(c.url)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := parse(args, getenv)
	if err != nil {
		return err
	}
	var sampler *procstat.Sampler
	if cfg.rssPID > 0 {
		if _, err := procstat.ReadMem(cfg.rssPID); err != nil {
			return err
		}
		sampler = procstat.Sample(ctx, cfg.rssPID, 20*time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var forged forgedStats
	var wg sync.WaitGroup
	body := forgedBody(cfg.size)
	client := webhooks.LoopbackClient(cfg.clients, 60*time.Second)
	for range cfg.clients {
		wg.Go(func() { forged.loop(ctx, client, cfg.url, body) })
	}
	signed := sendSigned(ctx, cfg)
	wg.Wait()
	var peak procstat.Mem
	if sampler != nil {
		peak = sampler.Stop()
	}
	report(stdout, cfg, &forged, signed, peak)
	if len(signed.latencies) == 0 {
		return fmt.Errorf("no signed webhook was answered")
	}
	return nil
}

// forgedBody is a JSON object of about size bytes: what an attacker without
// the secret might send.
func forgedBody(size int) []byte {
	const head, tail = `{"ticket_id":"forged","from_email":"x@forged.example","body_text":"`, `"}`
	pad := max(size-len(head)-len(tail), 0)
	return append(append([]byte(head), bytes.Repeat([]byte("A"), pad)...), tail...)
}

// forgedStats counts the forged requests' answers.
type forgedStats struct {
	mu        sync.Mutex
	status    map[int]int
	transport int
}

// loop posts the forged body with fresh, well-formed but wrong signature
// headers until ctx ends.
func (f *forgedStats) loop(ctx context.Context, client *http.Client, url string, body []byte) {
	sig := make([]byte, 32)
	for ctx.Err() == nil {
		_, _ = rand.Read(sig)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", time.Now().UTC().Format(time.RFC3339))
		req.Header.Set("X-Zendesk-Webhook-Signature", base64.StdEncoding.EncodeToString(sig))
		res, err := client.Do(req)
		f.mu.Lock()
		switch {
		case err != nil && ctx.Err() != nil:
		case err != nil:
			f.transport++ // e.g. the server closed before taking the whole body
		default:
			if f.status == nil {
				f.status = map[int]int{}
			}
			f.status[res.StatusCode]++
		}
		f.mu.Unlock()
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			_ = res.Body.Close()
		}
	}
}

// signedStats is what the signed webhooks saw.
type signedStats struct {
	sent, transport int
	status          map[int]int
	noRetryAfter    int // refusals without a usable Retry-After
	latencies       []time.Duration
}

// sendSigned posts real signed webhooks from the bench corpus at cfg.rate
// until ctx ends, each with a unique webhook_id, and waits for all answers.
func sendSigned(ctx context.Context, cfg config) signedStats {
	corpus := webhooks.NewCorpus(1, 200)
	runID := "forged-" + webhooks.RandomHex(6)
	client := webhooks.LoopbackClient(64, 15*time.Second)
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer tick.Stop()
	var (
		mu  sync.Mutex
		out = signedStats{status: map[int]int{}}
		wg  sync.WaitGroup
	)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			slices.Sort(out.latencies)
			return out
		case <-tick.C:
		}
		wg.Go(func() {
			// Answers are awaited past the run's end: Zendesk would wait too.
			lat, status, retryAfter, err := postSigned(context.WithoutCancel(ctx), client, cfg, corpus, runID, i)
			mu.Lock()
			defer mu.Unlock()
			out.sent++
			if err != nil {
				out.transport++
				return
			}
			out.latencies = append(out.latencies, lat)
			out.status[status]++
			if _, err := strconv.Atoi(retryAfter); status != http.StatusOK && (status != http.StatusServiceUnavailable || err != nil) {
				out.noRetryAfter++
			}
		})
	}
}

func postSigned(ctx context.Context, client *http.Client, cfg config, corpus *webhooks.Corpus, runID string, i int) (time.Duration, int, string, error) {
	reply, err := json.Marshal(corpus.Reply(i, time.Now()))
	if err != nil {
		return 0, 0, "", err
	}
	body := append([]byte(fmt.Sprintf(`{"webhook_id":"%s-%d",`, runID, i)), reply[1:]...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, "", err
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	req.Header.Set("X-Zendesk-Webhook-Signature", handlers.Sign(cfg.secret, ts, body))
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	return time.Since(start), res.StatusCode, res.Header.Get("Retry-After"), nil
}
