package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// The baseline is its own module and cannot import the service module's
// bench/procstat, so it reads /proc itself. USER_HZ is 100 on Linux.
const clockTicks = 100

// memory reads this process's VmRSS and VmHWM in bytes.
func memory() (rss, hwm int64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			hwm = n << 10
		}
	}
	return rss, hwm
}

// cpuOf is the user+system CPU time of a process ("self" for this one).
func cpuOf(pid string) time.Duration {
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// cpuSnap is CPU time used so far by this process, PostgreSQL, Redis and the machine.
type cpuSnap struct{ self, postgres, redis, machine time.Duration }

func takeCPU() cpuSnap {
	s := cpuSnap{self: cpuOf("self"), machine: machineBusy()}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		switch strings.TrimSpace(string(comm)) {
		case "postgres":
			s.postgres += cpuOf(e.Name())
		case "redis-server":
			s.redis += cpuOf(e.Name())
		}
	}
	return s
}

func (s cpuSnap) minus(o cpuSnap) cpuSnap {
	return cpuSnap{s.self - o.self, s.postgres - o.postgres, s.redis - o.redis, s.machine - o.machine}
}

// machineBusy is the non-idle CPU time of all cores since boot.
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	f := strings.Fields(string(line))
	var busy int64
	for i := 1; i < len(f) && i <= 8; i++ {
		if i == 4 || i == 5 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
