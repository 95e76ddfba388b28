// Command attachments measures the attachment readers
// (services/attachments/read) on the files their tests use: the time to
// read a 10-page text PDF, a 1-page scan (OCR) and a 100-row XLSX, the
// peak memory of the reader programs (children) and of the reading
// process itself, and the same for eight reads at once.
//
// Each case runs in a fresh process of this program, which the parent has
// written the files for, so the process's own peak (VmHWM) is the reading
// alone; the reader programs' CPU time and peak memory come from each
// read's Result.Usage (the kernel's rusage of every child).
//
//	go run ./bench/attachments            # every case, 5 reads each
//	go run ./bench/attachments -n 10 -cases textpdf,xlsx
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lawfirm/creditor-email-matcher/bench/procstat"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
	"github.com/lawfirm/creditor-email-matcher/services/attachments/read/readtest"
)

// benchCase is one measured file (or mix of files).
type benchCase struct {
	name, what string
	files      func() ([]namedFile, error) // read all at once, one round
}

type namedFile struct {
	name string
	make func() ([]byte, error)
}

var cases = []benchCase{
	{"textpdf", "10-page text PDF (pdfinfo + pdftotext -layout)", one("statement.pdf", func() ([]byte, error) { return readtest.StatementPDF(10) })},
	{"scan", "1-page scanned PDF (pdftoppm + tesseract eng+deu)", one("scan.pdf", func() ([]byte, error) { return readtest.ScannedPDF(1) })},
	{"photo", "JPEG photo of a letter (tesseract)", one("foto.jpg", readtest.LetterJPEG)},
	{"xlsx", "100-row XLSX (in-process XML)", one("konto.xlsx", func() ([]byte, error) { return readtest.StatementXLSX(100) })},
	{"parallel8", "8 reads at once: 3 text PDFs, 3 scans, 2 XLSX", mix},
}

func one(name string, make func() ([]byte, error)) func() ([]namedFile, error) {
	return func() ([]namedFile, error) { return []namedFile{{name, make}}, nil }
}

func mix() ([]namedFile, error) {
	kinds := []namedFile{
		{"statement.pdf", func() ([]byte, error) { return readtest.StatementPDF(10) }},
		{"scan.pdf", func() ([]byte, error) { return readtest.ScannedPDF(1) }},
		{"konto.xlsx", func() ([]byte, error) { return readtest.StatementXLSX(100) }},
	}
	var out []namedFile
	for i := range 8 {
		out = append(out, kinds[i%3])
	}
	return out, nil
}

// result is what one case's process reports.
type result struct {
	Case      string          `json:"case"`
	Reads     int             `json:"reads"`
	Wall      []time.Duration `json:"wall"`       // per round
	ChildCPU  time.Duration   `json:"child_cpu"`  // all measured reads (Result.Usage)
	ChildPeak int64           `json:"child_peak"` // largest reader program's peak RSS, bytes
	SelfHWM   int64           `json:"self_hwm"`   // this process's peak RSS, bytes
	Reader    string          `json:"reader"`
	Isolation string          `json:"isolation"`
}

func main() {
	n := flag.Int("n", 5, "rounds per case (1–50)")
	only := flag.String("cases", "", "comma-separated cases (default: all)")
	child := flag.String("case", "", "internal: run this case in this process and print its result as JSON")
	files := flag.String("files", "", "internal: the case's files, comma-separated")
	flag.Parse()
	if *n < 1 || *n > 50 {
		fail(errors.New("-n must be 1–50"))
	}
	if *child != "" {
		fail(runCase(*child, strings.Split(*files, ","), *n, os.Stdout))
		return
	}
	fail(runAll(*n, *only))
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "attachments:", err)
		os.Exit(1)
	}
}

// runAll writes each case's files, runs the case in its own process (so
// making the files costs that process nothing) and prints the table.
func runAll(n int, only string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-attachments-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("attachment readers: %d rounds per case, %d CPUs, load average %s", n, runtime.NumCPU(), load)
	isolation := ""
	fmt.Printf("%-10s %-8s %9s %9s %9s %11s %12s %11s  %s\n",
		"case", "reader", "min", "median", "max", "child cpu", "child peak", "self peak", "what")
	for _, c := range cases {
		if only != "" && !slices.Contains(strings.Split(only, ","), c.name) {
			continue
		}
		paths, err := writeFiles(filepath.Join(dir, c.name), c)
		if err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		out, err := exec.Command(self, "-case", c.name, "-n", fmt.Sprint(n), "-files", strings.Join(paths, ",")).Output()
		if err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		printRow(c, r)
		isolation = r.Isolation
	}
	fmt.Printf("reader programs: at most %d at once, network isolation: %s\n", runtime.NumCPU(), isolation)
	return nil
}

func printRow(c benchCase, r result) {
	w := slices.Clone(r.Wall)
	slices.Sort(w)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	childPeak := procstat.MiB(r.ChildPeak)
	if r.ChildPeak == 0 {
		childPeak = "—" // read in-process
	}
	fmt.Printf("%-10s %-8s %9s %9s %9s %11s %12s %11s  %s\n", c.name, r.Reader,
		ms(w[0]), ms(w[len(w)/2]), ms(w[len(w)-1]), ms(r.ChildCPU/time.Duration(r.Reads)),
		childPeak, procstat.MiB(r.SelfHWM), c.what)
}

// runCase reads the case's files n rounds (after one unmeasured round)
// and writes the result.
func runCase(name string, paths []string, n int, w io.Writer) error {
	dir, err := os.MkdirTemp("", "bench-attachments-work-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	d, err := read.New(ctx, read.Config{TempDir: dir}) // at most one child per CPU, as in the service
	if err != nil {
		return err
	}
	r := result{Case: name, Isolation: string(d.Sandbox().Isolation())}
	if _, err = round(ctx, d, paths); err != nil { // warm the page cache and tesseract's data
		return err
	}
	for range n {
		start := time.Now()
		results, err := round(ctx, d, paths)
		if err != nil {
			return err
		}
		r.Wall = append(r.Wall, time.Since(start))
		for _, res := range results {
			r.ChildCPU += res.Usage.CPU
			r.ChildPeak = max(r.ChildPeak, res.Usage.PeakBytes)
			if r.Reader = res.Reader; len(results) > 1 {
				r.Reader = "mixed"
			}
		}
	}
	r.Reads = n * len(paths)
	mem, err := procstat.ReadMem(os.Getpid())
	if err != nil {
		return err
	}
	r.SelfHWM = mem.HWM
	return json.NewEncoder(w).Encode(r)
}

func writeFiles(dir string, c benchCase) ([]string, error) {
	files, err := c.files()
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	var paths []string
	for i, f := range files {
		data, err := f.make()
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, fmt.Sprintf("%d-%s", i, f.name))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// round reads every path at once.
func round(ctx context.Context, d *read.Dispatcher, paths []string) ([]read.Result, error) {
	results := make([]read.Result, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() { results[i], errs[i] = d.Read(ctx, read.File{Name: filepath.Base(p), Path: p}) })
	}
	wg.Wait()
	return results, errors.Join(errs...)
}
