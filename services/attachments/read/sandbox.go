package read

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// Isolation says how child programs are cut off from the network.
type Isolation string

// The isolations NewSandbox tries, best first.
const (
	// IsolationUserNet: a new user namespace (our uid mapped to itself) and
	// a new network namespace with no interface up. Works as root and, where
	// the kernel allows unprivileged user namespaces, as any user.
	IsolationUserNet Isolation = "user+network namespace"
	// IsolationNet: a new network namespace alone; needs CAP_SYS_ADMIN.
	IsolationNet Isolation = "network namespace"
	// IsolationNone: namespaces are refused here (a container's seccomp
	// profile usually forbids them). The programs still run with an empty
	// environment, in a private directory, under resource limits; none of
	// pdfinfo, pdftotext, pdftoppm and tesseract opens a socket for a file.
	IsolationNone Isolation = "none (namespaces not permitted)"
)

// Sandbox runs reader programs as bounded child processes. Each child:
//   - gets resource limits set by util-linux's prlimit before it execs the
//     program (Go cannot set rlimits for one child only): address space
//     (memory), CPU seconds (a backstop behind the wall clock), file size,
//     open files, no core dumps;
//   - runs in its own process group, killed as a whole (SIGKILL) when the
//     context ends, and killed if the service dies (Pdeathsig);
//   - has an empty environment (plus LC_ALL=C and what the call adds), no
//     stdin, a private working directory removed afterwards;
//   - is cut off from the network as Isolation says;
//   - has its stdout kept up to a cap and the rest dropped, stderr likewise.
//
// Arguments are passed as a vector, never through a shell. At most
// maxChildren run at once, so that the machine's memory bounds what eight
// workers reading scans at once cost (each tesseract takes up to ~150 MB);
// a read waits for a slot within its own time limit.
type Sandbox struct {
	tempDir   string
	prlimit   string
	isolation Isolation
	slots     chan struct{}
}

// NewSandbox finds prlimit and the best isolation that works here, by
// running prlimit itself under each in turn. Children's working
// directories go under tempDir ("" = os.TempDir()); at most maxChildren
// (≤ 0: the number of CPUs) run at once.
func NewSandbox(ctx context.Context, tempDir string, maxChildren int) (*Sandbox, error) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		return nil, fmt.Errorf("read: prlimit (util-linux) not found: %w", err)
	}
	if maxChildren <= 0 {
		maxChildren = runtime.NumCPU()
	}
	s := &Sandbox{tempDir: tempDir, prlimit: prlimit, slots: make(chan struct{}, maxChildren)}
	for _, iso := range []Isolation{IsolationUserNet, IsolationNet, IsolationNone} {
		s.isolation = iso
		probe := command{program: prlimit, args: []string{"--version"}, memory: 64 << 20, maxOut: 256}
		if _, err = s.run(ctx, probe); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("read: cannot run child processes: %w", err)
}

// Isolation reports how children are cut off from the network here.
func (s *Sandbox) Isolation() Isolation { return s.isolation }

// command is one program run.
type command struct {
	program string   // absolute path
	args    []string // never includes file content, only paths and options
	dir     string   // working directory (the read's private one)
	env     []string // added to LC_ALL=C
	memory  int64    // address-space limit in bytes
	maxOut  int      // stdout bytes kept
}

// output is what a child wrote.
type output struct {
	stdout []byte
	cut    bool   // stdout went past maxOut
	stderr string // its first stderrMax bytes, for classifying failures only
}

// exitError is a child that ended badly on its own: exit code or signal.
type exitError struct {
	code   int
	signal syscall.Signal // 0 unless killed by a signal
	stderr string
}

func (e *exitError) Error() string {
	if e.signal != 0 {
		return "reader program died of " + e.signal.String()
	}
	return "reader program exited with " + strconv.Itoa(e.code)
}

// Limits that are the same for every child.
const (
	stderrMax   = 4096
	fileSizeMax = 64 << 20 // RLIMIT_FSIZE: the largest file a child may write (a rendered page is 1–3 MB)
	openFileMax = 64
	cpuGrace    = 5 * time.Second
)

// run starts c and waits for it. It returns ctx's error when the context
// ended it, an *exitError when it failed on its own, and a transient error
// when it could not be started or was killed from outside (OOM killer).
func (s *Sandbox) run(ctx context.Context, c command) (output, error) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return output{}, ctx.Err()
	}
	stdout := &capWriter{max: c.maxOut}
	stderr := &capWriter{max: stderrMax}
	cmd := exec.CommandContext(ctx, s.prlimit, s.limitArgs(ctx, c)...)
	cmd.Dir = c.dir
	cmd.Env = append([]string{"LC_ALL=C"}, c.env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = s.procAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	addUsage(ctx, cmd.ProcessState)
	out := output{stdout: stdout.buf, cut: stdout.dropped > 0, stderr: string(stderr.buf)}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			if sig := ws.Signal(); sig == syscall.SIGKILL || sig == syscall.SIGXCPU {
				return out, transient("reader program killed", ee)
			}
			return out, &exitError{signal: ws.Signal(), stderr: out.stderr}
		}
		return out, &exitError{code: ws.ExitStatus(), stderr: out.stderr}
	}
	if err != nil {
		return out, transient("start reader program", err)
	}
	return out, nil
}

// limitArgs are prlimit's arguments: the limits, then the program. The CPU
// limit is a backstop behind the context's deadline.
func (s *Sandbox) limitArgs(ctx context.Context, c command) []string {
	cpu := DefaultTimeout
	if deadline, ok := ctx.Deadline(); ok {
		cpu = time.Until(deadline)
	}
	cpuSec := max(int64((cpu+cpuGrace)/time.Second), 1)
	pair := func(flag string, v int64) string { return fmt.Sprintf("--%s=%d:%d", flag, v, v) }
	return append([]string{
		pair("as", c.memory),
		fmt.Sprintf("--cpu=%d:%d", cpuSec, cpuSec+1),
		pair("fsize", fileSizeMax),
		pair("nofile", openFileMax),
		pair("core", 0),
		"--", c.program,
	}, c.args...)
}

// procAttr puts the child in its own process group and namespaces.
func (s *Sandbox) procAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	switch s.isolation {
	case IsolationUserNet:
		uid, gid := os.Getuid(), os.Getgid()
		attr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	case IsolationNet:
		attr.Cloneflags = syscall.CLONE_NEWNET
	}
	return attr
}

// workDir makes a private working directory for one read's children.
func (s *Sandbox) workDir() (dir string, remove func(), err error) {
	dir, err = os.MkdirTemp(s.tempDir, "attachment-read-")
	if err != nil {
		return "", nil, transient("make a working directory", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// capWriter keeps the first max bytes written to it and counts the rest,
// so a child's output costs at most max bytes however much it writes.
type capWriter struct {
	max     int
	buf     []byte
	dropped int64
}

func (w *capWriter) Write(p []byte) (int, error) {
	keep := min(len(p), w.max-len(w.buf))
	w.buf = append(w.buf, p[:keep]...)
	w.dropped += int64(len(p) - keep)
	return len(p), nil
}

// usageKey carries a read's *Usage in its context, so that every program
// the read runs, the Transcriber's included, adds to it.
type usageKey struct{}

// addUsage adds an ended child's CPU time and peak memory to the read's Usage.
func addUsage(ctx context.Context, ps *os.ProcessState) {
	u, _ := ctx.Value(usageKey{}).(*Usage)
	if u == nil || ps == nil {
		return
	}
	u.CPU += ps.UserTime() + ps.SystemTime()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.PeakBytes = max(u.PeakBytes, ru.Maxrss<<10) // Linux reports KiB
	}
}
