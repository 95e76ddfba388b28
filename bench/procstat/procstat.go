// Package procstat reads a process's memory and CPU time from /proc, for the
// benchmark tools' reports (Linux only).
package procstat

import (
	"bufio"
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
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", Mebibytes(b)) }

// Mebibytes converts bytes to mebibytes, for SUMMARY lines.
func Mebibytes(b int64) float64 { return float64(b) / (1 << 20) }

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
