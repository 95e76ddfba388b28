// Command asynqbase is the baseline the matcher's queue is measured against:
// a bare job-queue library (asynq) doing only a claim UPDATE and a completion
// UPDATE per job on an incoming_emails-like table, with server concurrency 8.
// It creates its own database, enqueues N task ids while the server runs,
// waits until every row is completed, reports jobs/s and drops the database.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "asynqbase:", err)
		os.Exit(1)
	}
}

type options struct {
	count, conc, enqueuers int
	wait                   time.Duration
	pgAdmin, redisAddr     string
	summary                bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("asynqbase", flag.ContinueOnError)
	fs.IntVar(&o.count, "n", 20000, "jobs (at most 1,000,000)")
	fs.IntVar(&o.conc, "workers", 8, "asynq server concurrency")
	fs.IntVar(&o.enqueuers, "c", 32, "concurrent enqueuers (like the service's 32 webhook senders)")
	fs.DurationVar(&o.wait, "wait", 150*time.Second, "give up after this long")
	fs.StringVar(&o.pgAdmin, "pg", "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable", "admin connection")
	fs.StringVar(&o.redisAddr, "redis", "127.0.0.1:6379", "Redis address")
	fs.BoolVar(&o.summary, "summary", false, "also print one machine-readable SUMMARY line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.count = min(max(o.count, 1), 1_000_000)
	o.wait = min(max(o.wait, time.Second), 10*time.Minute)
	pg, err := url.Parse(o.pgAdmin)
	if err != nil || pg.Hostname() != "127.0.0.1" || !strings.HasPrefix(o.redisAddr, "127.0.0.1:") {
		return errors.New("-pg and -redis must point at 127.0.0.1")
	}
	name := "bench_asynq_" + randomHex(5)
	admin, err := openDB(o.pgAdmin, 1)
	if err != nil {
		return err
	}
	defer closeDB(admin)
	if err := admin.WithContext(ctx).Exec(`CREATE DATABASE ` + name).Error; err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	defer func() {
		if err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`).Error; err != nil {
			fmt.Fprintln(os.Stderr, "asynqbase: drop database:", err)
		}
	}()
	pg.Path = "/" + name
	return measure(ctx, o, pg.String(), name, stdout)
}

func measure(ctx context.Context, o options, dsn, queue string, stdout io.Writer) error {
	db, err := openDB(dsn, 20)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := createTable(ctx, db, o.count); err != nil {
		return err
	}
	redisOpt := asynq.RedisClientOpt{Addr: o.redisAddr}
	inspector := asynq.NewInspector(redisOpt)
	defer inspector.Close()
	defer cleanRedis(o.redisAddr, queue)
	defer func() { _ = inspector.DeleteQueue(queue, true) }()

	var done atomic.Int64
	allDone := make(chan struct{})
	srv := asynq.NewServer(redisOpt, asynq.Config{
		Concurrency: o.conc, Queues: map[string]int{queue: 1}, Logger: quietLogger{},
		LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc("email", func(ctx context.Context, t *asynq.Task) error {
		if err := process(ctx, db, t); err != nil {
			return err
		}
		if done.Add(1) == int64(o.count) {
			close(allDone)
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	defer srv.Shutdown()

	start := time.Now()
	cpu0 := takeCPU()
	enqueueDur, err := enqueue(ctx, redisOpt, queue, o.count, o.enqueuers)
	if err != nil {
		return err
	}
	select {
	case <-allDone:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.wait):
		return fmt.Errorf("only %d of %d jobs done after %s", done.Load(), o.count, o.wait)
	}
	elapsed := time.Since(start)
	cpu := takeCPU().minus(cpu0)
	var completed int64
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM emails WHERE status = 'completed'`).Scan(&completed).Error; err != nil {
		return fmt.Errorf("count completed: %w", err)
	}
	report(stdout, o, enqueueDur, elapsed, completed, cpu)
	if completed != int64(o.count) {
		return fmt.Errorf("%d of %d rows completed", completed, o.count)
	}
	return nil
}

// report prints the run's figures and, with -summary, the SUMMARY line.
func report(stdout io.Writer, o options, enqueueDur, elapsed time.Duration, completed int64, cpu cpuSnap) {
	rss, hwm := memory()
	rate := float64(o.count) / elapsed.Seconds()
	fmt.Fprintf(stdout, "asynq v0.26.0 baseline: %d jobs, server concurrency %d, %d enqueuers\n", o.count, o.conc, o.enqueuers)
	fmt.Fprintf(stdout, "enqueue:      %s (%.0f tasks/s, concurrent with processing)\n", enqueueDur.Round(time.Millisecond), float64(o.count)/enqueueDur.Seconds())
	fmt.Fprintf(stdout, "throughput:   %.0f jobs/s (first enqueue → last completion: %s); %d rows completed\n", rate, elapsed.Round(time.Millisecond), completed)
	fmt.Fprintf(stdout, "process RSS:  %.1f MiB now, VmHWM %.1f MiB (client, server and DB pool in one process)\n", mib(rss), mib(hwm))
	fmt.Fprintf(stdout, "cpu seconds:  this process %.1f, postgres %.1f, redis %.1f; whole machine %.1f (2 cores)\n",
		cpu.self.Seconds(), cpu.postgres.Seconds(), cpu.redis.Seconds(), cpu.machine.Seconds())
	if o.summary {
		fmt.Fprintf(stdout, "SUMMARY asynq jobs_per_sec=%.0f completed=%d rss_hwm_mib=%.1f\n", rate, completed, mib(hwm))
	}
}

// createTable makes an incoming_emails-like table with n queued rows.
func createTable(ctx context.Context, db *gorm.DB, n int) error {
	stmts := []string{
		`CREATE TABLE emails (
  id bigserial PRIMARY KEY, ticket_id text NOT NULL, from_email text NOT NULL, subject text NOT NULL DEFAULT '',
  raw_body_html text NOT NULL DEFAULT '', status text NOT NULL DEFAULT 'queued',
  received_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE INDEX emails_status_received_idx ON emails (status, received_at)`,
		`INSERT INTO emails (ticket_id, from_email, subject, raw_body_html)
  SELECT g::text, 'forderungen@beispiel-inkasso.de', 'AW: Anfrage Forderungshöhe', repeat('<p>Gesamtforderung 1.234,56 €</p>', 150)
  FROM generate_series(1, ` + strconv.Itoa(n) + `) g`,
		`ANALYZE emails`,
	}
	for _, s := range stmts {
		if err := db.WithContext(ctx).Exec(s).Error; err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	}
	return nil
}

// process is the whole job: claim, then complete, each a guarded UPDATE.
func process(ctx context.Context, db *gorm.DB, t *asynq.Task) error {
	id, err := strconv.ParseInt(string(t.Payload()), 10, 64)
	if err != nil {
		return fmt.Errorf("task payload: %w: %w", err, asynq.SkipRetry)
	}
	res := db.WithContext(ctx).Exec(`UPDATE emails SET status = 'processing', started_at = now(), updated_at = now()
WHERE id = ? AND status = 'queued'`, id)
	if res.Error != nil {
		return fmt.Errorf("claim %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil // already taken
	}
	res = db.WithContext(ctx).Exec(`UPDATE emails SET status = 'completed', completed_at = now(), updated_at = now()
WHERE id = ?`, id)
	if res.Error != nil {
		return fmt.Errorf("complete %d: %w", id, res.Error)
	}
	return nil
}

// enqueue submits ids 1..n from c goroutines and returns how long it took.
func enqueue(ctx context.Context, opt asynq.RedisClientOpt, queue string, n, c int) (time.Duration, error) {
	client := asynq.NewClient(opt)
	defer client.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c)
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id := next.Add(1)
				if id > int64(n) || ctx.Err() != nil {
					return
				}
				task := asynq.NewTask("email", []byte(strconv.FormatInt(id, 10)))
				if _, err := client.EnqueueContext(ctx, task, asynq.Queue(queue), asynq.MaxRetry(3)); err != nil {
					errs <- fmt.Errorf("enqueue %d: %w", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// cleanRedis deletes what DeleteQueue leaves: the queue's processed/failed counters.
func cleanRedis(addr, queue string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "asynq:{"+queue+"}:*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func openDB(dsn string, maxOpen int) (*gorm.DB, error) {
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	return db, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// quietLogger drops asynq's info chatter; warnings and errors go to stderr.
type quietLogger struct{}

func (quietLogger) Debug(...any)   {}
func (quietLogger) Info(...any)    {}
func (quietLogger) Warn(a ...any)  { log.Print(append([]any{"asynq warn: "}, a...)...) }
func (quietLogger) Error(a ...any) { log.Print(append([]any{"asynq error: "}, a...)...) }
func (quietLogger) Fatal(a ...any) { log.Fatal(append([]any{"asynq fatal: "}, a...)...) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
