package read_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
)

// fakeTranscriber stands in for a model transcriber: it records each Scan
// and checks that its file is readable while the call lasts.
type fakeTranscriber struct {
	mu    sync.Mutex
	scans []read.Scan
	heads [][]byte
	err   error
}

func (f *fakeTranscriber) Transcribe(_ context.Context, s read.Scan) (read.Result, error) {
	data, err := os.ReadFile(s.Path)
	if err != nil {
		return read.Result{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans = append(f.scans, s)
	f.heads = append(f.heads, data[:8])
	if f.err != nil {
		return read.Result{}, f.err
	}
	return read.Result{Reader: read.ReaderModel, Text: "Gesamtforderung 1.212,40 € " + strings.Repeat("x", 100), Pages: s.Pages}, nil
}

func TestATranscriberReplacesOCR(t *testing.T) {
	t.Parallel()
	fake := &fakeTranscriber{}
	d := newReader(t, read.Config{Transcriber: fake, TextMaxChars: 40})
	scan, err := readFile(t, d, "scan.pdf", scannedPDF(t, 3))
	require.NoError(t, err)
	photo, err := readBytes(t, d, "foto.jpg", letterJPEG(t))
	require.NoError(t, err)
	text, err := readBytes(t, d, "forderung.pdf", statementPDF(t, 1))
	require.NoError(t, err)

	require.Equal(t, read.ReaderModel, scan.Reader)
	require.Equal(t, 3, scan.Pages)
	require.True(t, scan.Truncated, "the dispatcher caps a transcriber's text too")
	require.Equal(t, read.ReaderModel, photo.Reader)
	require.Equal(t, read.ReaderPDFText, text.Reader, "a text layer never goes to the transcriber")
	require.Len(t, fake.scans, 2)
	require.Equal(t, read.Scan{Name: "scan.pdf", Type: "application/pdf", Path: fake.scans[0].Path, Pages: 3}, fake.scans[0])
	require.Equal(t, "%PDF-1.3", string(fake.heads[0]))
	require.Equal(t, "image/jpeg", fake.scans[1].Type)
	require.True(t, bytes.HasPrefix(fake.heads[1], []byte("\xff\xd8\xff")))
	require.True(t, filepath.IsAbs(fake.scans[1].Path))

	// A transcriber's own refusal (a model takes no TIFF) is the file's reason.
	refusing := &fakeTranscriber{err: &read.UnreadableError{Reason: "unsupported type image/tiff"}}
	d = newReader(t, read.Config{Transcriber: refusing})
	_, err = readBytes(t, d, "fax.tif", letterTIFF(t))
	requireUnreadable(t, err, "unsupported type image/tiff")
}

// childrenUsing lists live processes whose command line mentions dir.
func childrenUsing(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			found = append(found, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return found
}

func TestTimeoutIsTransientAndKillsTheChild(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	// Three pages to render and read take seconds; the limit ends it in a program.
	d := newReader(t, read.Config{Timeout: 400 * time.Millisecond, TempDir: tmp})
	_, err := readBytes(t, d, "scan.pdf", scannedPDF(t, 3))
	require.ErrorIs(t, err, read.ErrTimeout)
	require.ErrorIs(t, err, read.ErrTransient)
	require.NotErrorIs(t, err, read.ErrUnreadable)
	require.Empty(t, childrenUsing(t, tmp), "a child outlived its read")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, left, "working directories are removed")
}

func TestCancelIsNotATimeout(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	d := newReader(t, read.Config{TempDir: tmp})
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once tesseract runs: its page list exists in the working directory.
	go func() {
		for ctx.Err() == nil {
			if lists, _ := filepath.Glob(filepath.Join(tmp, "*", "pages.txt")); len(lists) > 0 {
				cancel()
			}
			time.Sleep(5 * time.Millisecond) // polling the file system, not waiting for an outcome
		}
	}()
	defer cancel()
	_, err := d.Read(ctx, read.File{Name: "scan.pdf", Data: scannedPDF(t, 3)})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, read.ErrTimeout))
	require.Empty(t, childrenUsing(t, tmp))
}

func TestNewReportsIsolation(t *testing.T) {
	t.Parallel()
	d := newReader(t, read.Config{})
	require.Contains(t, []read.Isolation{read.IsolationUserNet, read.IsolationNet, read.IsolationNone}, d.Sandbox().Isolation())
}
