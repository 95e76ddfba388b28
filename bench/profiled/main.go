// Command profiled is the matcher binary with a CPU profile, for the bench
// tools only: it runs exactly what main.go runs, and when BENCH_CPUPROFILE
// names a file it profiles the whole process life into it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
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
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	code := app.ExitCode(err, os.Stderr)
	if code != 0 {
		os.Exit(code)
	}
}
