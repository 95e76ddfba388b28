// Command matcher turns creditors' email replies into debt figures.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lawfirm/creditor-email-matcher/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(app.ExitCode(err, os.Stderr))
}
