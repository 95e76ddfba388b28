package intake

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/services/groupcommit"
)

// benchBody is about the size of a real creditor reply (5 KB of HTML).
var benchBody = strings.Repeat("<p>Sehr geehrte Damen und Herren, die Forderung beträgt 1.234,56 EUR.</p>\n", 70)

// BenchmarkAccept stores distinct emails from 32 concurrent senders, as the
// webhook load test does, without HTTP. Keep runs short on the shared
// machine: go test -run '^$' -bench Accept -benchtime 3s ./services/intake
func BenchmarkAccept(b *testing.B) {
	env := newEnv(b, 20)
	svc := env.service(env.queue())
	var batches atomic.Int64
	svc.batch = groupcommit.New(func(ctx context.Context, batch []*request) func() {
		batches.Add(1)
		return svc.writeBatch(ctx, batch)
	}, batchOptions())
	run := apptest.RandomID()
	var (
		n         atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
	)
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	pgBefore := procstat.CPUByName("postgres")["postgres"]
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var own []time.Duration
		for pb.Next() {
			key := fmt.Sprintf("%s-%d", run, n.Add(1))
			t0 := time.Now()
			_, err := svc.Accept(context.Background(), Email{
				TicketID: "T" + key, WebhookID: key, DedupKey: "webhook:" + key,
				FromEmail: "forderung@example.com", Subject: "Ihre Anfrage", BodyHTML: benchBody,
				ReceivedAt: time.Now().UTC(),
			})
			own = append(own, time.Since(t0))
			if err != nil {
				b.Error(err)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, own...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	pgCPU := procstat.CPUByName("postgres")["postgres"] - pgBefore
	if len(latencies) == 0 {
		return // every call failed, reported above
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "accepts/s")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/float64(max(batches.Load(), 1)), "rows/batch")
	// All postgres processes of the machine, so only roughly this run's.
	b.ReportMetric(float64(pgCPU.Microseconds())/float64(b.N), "pg-cpu-µs/op")
}
