// Package svcproc runs the real service binary for a benchmark: it builds
// it, creates a fresh database, starts the binary and waits for its address
// line and /readyz, and removes the database and Redis keys afterwards.
// bench/llm uses it; bench/e2e holds the same steps in its own package
// (to be moved here once the branches meet).
package svcproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

const modulePath = "github.com/lawfirm/creditor-email-matcher"

// ModuleRoot finds the service module's directory from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the service module (no go.mod of " + modulePath + " above)")
		}
		dir = parent
	}
}

// Build compiles pkg of the module at modDir ("." for the service,
// "./bench/profiled" for its profiling variant; the asynq twin from its own
// module) into dir and returns a copy of it named name: the service runs
// from a copy, as from an image (the linker's own output file measured more
// file-backed RSS than a copy of the same bytes).
func Build(ctx context.Context, modDir, pkg, name, dir string) (string, error) {
	built, out := filepath.Join(dir, name+".built"), filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", built, pkg)
	cmd.Dir = modDir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	src, err := os.Open(built)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return "", err
	}
	return out, dst.Close()
}

// Service is the matcher running as a child process.
type Service struct {
	cmd     *exec.Cmd
	LogPath string
	Port    string
	exited  chan struct{}
}

// Start runs bin with env added to a minimal environment and waits for its
// "http server listening" log line (logged at info) and /readyz.
func Start(ctx context.Context, bin, logPath string, env []string) (*Service, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create service log: %w", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start service: %w", err)
	}
	_ = logFile.Close()
	s := &Service{cmd: cmd, LogPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if port := ListeningPort(logPath); port != "" {
			s.Port = port
			if err := s.waitReady(ctx, deadline); err != nil {
				s.Stop()
				return nil, err
			}
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("service exited during start-up; see %s", logPath)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.Stop()
	return nil, fmt.Errorf("service did not log its address within 60s; see %s", logPath)
}

// ListeningPort finds the port in the service's "http server listening" line.
func ListeningPort(logPath string) string {
	f, err := os.Open(logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "http server listening" {
			if _, port, err := net.SplitHostPort(line.Addr); err == nil {
				return port
			}
		}
	}
	return ""
}

func (s *Service) waitReady(ctx context.Context, deadline time.Time) error {
	u := "http://127.0.0.1:" + s.Port + "/readyz"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service not ready within 60s; see %s", s.LogPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("service exited; see %s", s.LogPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the service's process id.
func (s *Service) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM, then SIGKILL after 30s. Safe twice.
func (s *Service) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// LogLines counts the service log's lines per level and message, for the
// levels asked (messages are fixed strings; the service never logs content).
func LogLines(logPath string, levels ...string) map[string]int {
	out := map[string]int{}
	f, err := os.Open(logPath)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		for _, l := range levels {
			if line.Level == l {
				out[l+" "+line.Msg]++
			}
		}
	}
	return out
}

// WithDatabase returns adminURL pointing at database name instead.
func WithDatabase(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("parse postgres url: %w", err)
	}
	if u.Hostname() != "127.0.0.1" {
		return "", fmt.Errorf("postgres url must point at 127.0.0.1")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// CreateDatabase creates a fresh database for one run.
func CreateDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// DropDatabase removes the run's database, closing leftover sessions.
func DropDatabase(adminURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	return nil
}

// CleanRedis deletes a run's keys (all share the {namespace} hash tag).
func CleanRedis(addr, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "{"+ns+"}:*", 1000).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
