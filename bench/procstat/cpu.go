package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

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

// CPUSnapshot is the CPU time used so far by a target process, all
// PostgreSQL processes, redis-server, the calling process and the whole
// machine. Read failures count as zero: a report shows what it could read.
type CPUSnapshot struct {
	Target, Postgres, Redis, Self, Machine time.Duration
}

// TakeCPU reads a CPUSnapshot with target as the process of interest.
func TakeCPU(target int) CPUSnapshot {
	var s CPUSnapshot
	s.Target, _ = CPUTime(target)
	s.Self, _ = CPUTime(os.Getpid())
	byName := CPUByName("postgres", "redis-server")
	s.Postgres, s.Redis = byName["postgres"], byName["redis-server"]
	s.Machine, _ = MachineCPU()
	return s
}

// Minus is the CPU time used between o and s.
func (s CPUSnapshot) Minus(o CPUSnapshot) CPUSnapshot {
	return CPUSnapshot{
		Target: s.Target - o.Target, Postgres: s.Postgres - o.Postgres, Redis: s.Redis - o.Redis,
		Self: s.Self - o.Self, Machine: s.Machine - o.Machine,
	}
}
