package background

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLoopRunsAtStartAndStopCancelsTheRun checks what the reaper relies on:
// the first run happens at Start, not an interval later, so a starting
// worker rebuilds what Redis lost at once; Stop cancels a run in progress,
// waits for it, and is safe twice.
func TestLoopRunsAtStartAndStopCancelsTheRun(t *testing.T) {
	t.Parallel()
	started, ended := make(chan struct{}, 1), make(chan struct{})
	l := NewLoop("test", time.Hour, func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		close(ended)
		return ctx.Err()
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, l.Start(context.Background()))
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not run at Start")
	}
	l.Stop()
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the run in progress ended")
	}
	l.Stop()
}
