package read

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runIn runs program in a fresh sandbox's working directory.
func runIn(t *testing.T, c command) (output, error) {
	t.Helper()
	box, err := NewSandbox(context.Background(), t.TempDir(), 1)
	require.NoError(t, err)
	dir, remove, err := box.workDir()
	require.NoError(t, err)
	t.Cleanup(remove)
	path, err := exec.LookPath(c.program)
	require.NoError(t, err)
	c.program, c.dir = path, dir
	return box.run(context.Background(), c)
}

func TestChildHasLimitsAndAnEmptyEnvironment(t *testing.T) {
	t.Parallel()
	out, err := runIn(t, command{program: "cat", args: []string{"/proc/self/limits"}, memory: 300 << 20, maxOut: 8192})
	require.NoError(t, err)
	limits := string(out.stdout)
	require.Regexp(t, `Max address space\s+314572800\s+314572800\s+bytes`, limits)
	require.Regexp(t, `Max core file size\s+0\s+0`, limits)
	require.Regexp(t, `Max open files\s+64\s+64`, limits)
	require.Regexp(t, `Max file size\s+67108864\s+67108864`, limits)
	require.Regexp(t, `Max cpu time\s+\d+\s+\d+\s+seconds`, limits)

	out, err = runIn(t, command{program: "env", memory: 64 << 20, maxOut: 8192, env: []string{"OMP_THREAD_LIMIT=1"}})
	require.NoError(t, err)
	require.Equal(t, "LC_ALL=C\nOMP_THREAD_LIMIT=1\n", string(out.stdout))
}

func TestChildHasNoNetwork(t *testing.T) {
	t.Parallel()
	box, err := NewSandbox(context.Background(), t.TempDir(), 1)
	require.NoError(t, err)
	if box.Isolation() == IsolationNone {
		t.Skip("namespaces are not permitted here: children run without network isolation")
	}
	out, err := runIn(t, command{program: "cat", args: []string{"/proc/net/dev"}, memory: 64 << 20, maxOut: 8192})
	require.NoError(t, err)
	var ifaces []string
	for _, line := range strings.Split(string(out.stdout), "\n")[2:] {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			ifaces = append(ifaces, name)
		}
	}
	require.Equal(t, []string{"lo"}, ifaces, "only the namespace's own loopback")
}

func TestChildOutputIsCapped(t *testing.T) {
	t.Parallel()
	out, err := runIn(t, command{program: "head", args: []string{"-c", "1000000", "/dev/zero"}, memory: 64 << 20, maxOut: 1000})
	require.NoError(t, err)
	require.Len(t, out.stdout, 1000)
	require.True(t, out.cut)
}

func TestChildFailuresAreClassified(t *testing.T) {
	t.Parallel()
	_, err := runIn(t, command{program: "sh", args: []string{"-c", "echo oops >&2; exit 3"}, memory: 64 << 20, maxOut: 100})
	var ee *exitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 3, ee.code)
	require.Equal(t, "oops\n", ee.stderr)

	_, err = runIn(t, command{program: "sh", args: []string{"-c", "kill -SEGV $$"}, memory: 64 << 20, maxOut: 100})
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "segmentation fault", ee.signal.String())

	// Killed from outside (as the OOM killer would): worth a retry.
	_, err = runIn(t, command{program: "sh", args: []string{"-c", "kill -KILL $$"}, memory: 64 << 20, maxOut: 100})
	require.ErrorIs(t, err, ErrTransient)

	// Over its memory limit a program fails on its own, the same way each time.
	_, err = runIn(t, command{program: "sh", args: []string{"-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}"}, memory: 64 << 20, maxOut: 100})
	require.ErrorAs(t, err, &ee)
}

func TestChildrenWaitForASlot(t *testing.T) {
	t.Parallel()
	box, err := NewSandbox(context.Background(), t.TempDir(), 1)
	require.NoError(t, err)
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	long := command{program: sleep, args: []string{"30"}, memory: 64 << 20, maxOut: 100}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := box.run(ctx, long)
		done <- err
	}()
	require.Eventually(t, func() bool { return len(box.slots) == 1 }, 10*time.Second, 5*time.Millisecond)

	short, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	_, err = box.run(short, command{program: sleep, args: []string{"0"}, memory: 64 << 20, maxOut: 100})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the second child waited for the slot")

	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Empty(t, box.slots, "the slot is given back")
}
