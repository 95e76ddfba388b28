// Command profiled is the matcher binary with profiles, for the bench tools
// only: it runs exactly what main.go runs. When BENCH_CPUPROFILE names a
// file it profiles the CPU of the whole process life into it; when
// BENCH_MEMPROFILE does, it writes the allocations of the whole life there
// as the process stops (pprof's allocs profile: alloc_space, inuse_space).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/lawfirm/creditor-email-matcher/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			os.Exit(1)
		}
		defer f.Close()
	}
	if os.Getenv("BENCH_MEMPROFILE") != "" {
		runtime.MemProfileRate = 64 << 10 // a sample per 64 KiB: 8x Go's default, for small objects
	}
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	if path := os.Getenv("BENCH_MEMPROFILE"); path != "" {
		if werr := writeAllocs(path); werr != nil {
			fmt.Fprintln(os.Stderr, "profiled:", werr)
		}
	}
	code := app.ExitCode(err, os.Stderr)
	if code != 0 {
		os.Exit(code)
	}
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
