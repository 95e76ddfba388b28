package procstat

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadMemAndCPUOfSelf(t *testing.T) {
	t.Parallel()
	m, err := ReadMem(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, m.RSS)
	require.GreaterOrEqual(t, m.HWM, m.RSS)
	_, err = CPUTime(os.Getpid())
	require.NoError(t, err)
	busy, err := MachineCPU()
	require.NoError(t, err)
	require.Positive(t, busy)
}

func TestSamplerStopsAndReportsPeak(t *testing.T) {
	t.Parallel()
	s := Sample(context.Background(), os.Getpid(), time.Millisecond)
	peak := s.Stop()
	require.Positive(t, peak.RSS)
	require.Equal(t, peak, s.Stop())
}

func TestCPUSnapshotDelta(t *testing.T) {
	t.Parallel()
	before := TakeCPU(os.Getpid())
	d := TakeCPU(os.Getpid()).Minus(before)
	require.GreaterOrEqual(t, d.Target, time.Duration(0))
	require.GreaterOrEqual(t, d.Self, time.Duration(0))
	require.GreaterOrEqual(t, d.Machine, time.Duration(0))
}
