package main

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
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

const modulePath = "github.com/lawfirm/creditor-email-matcher"

// moduleRoot finds the service module's directory from the working directory up.
func moduleRoot() (string, error) {
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

// buildService compiles pkg ("." for the real binary, "./bench/profiled" for
// the profiling variant) and returns a copy of it in dir. The service runs
// from a copy, as from an image and in run.sh: the linker's own output file
// measured more file-backed RSS than a copy of the same bytes.
// The twin is built the same way from its own module's directory (modDir).
func buildService(ctx context.Context, modDir, pkg, name, dir string) (string, error) {
	built, out := filepath.Join(dir, name+".built"), filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", built, pkg)
	cmd.Dir = modDir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	if err := copyExecutable(built, out); err != nil {
		return "", fmt.Errorf("copy service binary: %w", err)
	}
	return out, nil
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return err
	}
	return dst.Close()
}

// service is the matcher running as a child process.
type service struct {
	cmd     *exec.Cmd
	logPath string
	port    string
	exited  chan struct{}
}

// startService runs bin with env added to a minimal environment and waits
// for its "http server listening" log line.
func startService(ctx context.Context, bin, logPath string, env []string) (*service, error) {
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
	s := &service{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if port := listeningPort(logPath); port != "" {
			s.port = port
			return s, s.waitReady(ctx, deadline)
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("service exited during start-up; see %s", logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("service did not log its address within 60s; see %s", logPath)
}

// listeningPort finds the port in the service's "http server listening" line.
func listeningPort(logPath string) string {
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

// waitReady polls /readyz until it answers 200 or the deadline passes.
func (s *service) waitReady(ctx context.Context, deadline time.Time) error {
	url := "http://127.0.0.1:" + s.port + "/readyz"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service not ready within 60s; see %s", s.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
			return fmt.Errorf("service exited; see %s", s.logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *service) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL after 30s. Safe twice.
func (s *service) stop() {
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

// logLines counts the service log's lines per level and message, for the
// levels asked (messages are fixed strings; the service never logs content).
func logLines(logPath string, levels ...string) map[string]int {
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
