// Package procstat reads a process's memory and CPU time from /proc, for the
// benchmark tools' reports (Linux only).
package procstat

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mem is a process's resident memory in bytes.
type Mem struct {
	RSS int64 // VmRSS now
	HWM int64 // VmHWM: the peak RSS since the process started
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ReadMem reads VmRSS and VmHWM from /proc/pid/status.
func ReadMem(pid int) (Mem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	defer f.Close()
	var m Mem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			m.RSS = kib(line)
		case strings.HasPrefix(line, "VmHWM:"):
			m.HWM = kib(line)
		}
	}
	return m, sc.Err()
}

func kib(line string) int64 {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(fields[1], 10, 64)
	return n << 10
}

// Sampler polls a process's memory until stopped.
type Sampler struct {
	pid  int
	mu   sync.Mutex
	peak Mem
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

// Sample starts polling pid's memory every interval.
func Sample(ctx context.Context, pid int, every time.Duration) *Sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{pid: pid, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.read()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *Sampler) read() {
	m, err := ReadMem(s.pid)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak.RSS = max(s.peak.RSS, m.RSS)
	s.peak.HWM = max(s.peak.HWM, m.HWM)
}

// Stop ends polling (reading once more) and returns the peak sampled RSS and
// the last VmHWM seen. Safe twice.
func (s *Sampler) Stop() Mem {
	s.once.Do(func() {
		s.stop()
		<-s.done
		s.read()
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// clockTicks is USER_HZ, 100 on every Linux we run on.
const clockTicks = 100

// CPUTime returns user+system CPU time used so far by pid.
func CPUTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	// Fields after the command name, which may hold spaces: state is field 3,
	// utime and stime are fields 14 and 15.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(raw[end+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// CPUByName sums the CPU time of all live processes whose comm is one of names.
func CPUByName(names ...string) map[string]time.Duration {
	out := map[string]time.Duration{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		for _, n := range names {
			if name == n {
				if d, err := CPUTime(pid); err == nil {
					out[n] += d
				}
			}
		}
	}
	return out
}

// MachineCPU returns the busy (non-idle, non-iowait) CPU time of the whole
// machine since boot, summed over cores, from /proc/stat.
func MachineCPU() (time.Duration, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("parse /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}
