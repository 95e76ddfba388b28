package read

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// OCR is the offline Transcriber: pdftoppm renders a PDF's pages to
// grayscale PNGs, tesseract reads them (or the image) with its English
// and German models. One tesseract process reads all pages of a file, so the model
// loads once.
type OCR struct {
	box       *Sandbox
	pdftoppm  string
	tesseract string
}

// OCR settings. Pages are rendered to fit a 2339-pixel box, A4 at 200
// dpi, whatever size the PDF claims, so a page cannot ask for a gigapixel
// bitmap. 200 dpi reads 10-point print; 300 dpi (tesseract's ideal) took
// twice as long to render and read for the same letters here. Page segmentation mode 4 (one
// column of variable-size text) keeps a table row on one line
// ("Gesamtforderung 1.212,40 €"); the default mode 3 splits a table's
// columns into separate blocks. Languages "eng+deu": the German model
// alone misread 0 as 8 in 7 of 12 amounts of the test letters ("1.212,48"),
// English first with German second read 10 of 12 right and keeps umlauts
// and ß; it costs about half as much time again. One thread: the workers read files in
// parallel already, and OpenMP threads would fight over the 2 cores.
const (
	ocrLanguages   = "eng+deu"
	ocrPSM         = "4"
	ocrScaleTo     = "2339"
	renderMemory   = 512 << 20
	tesseractBytes = 1 << 30
)

// NewOCR finds pdftoppm and tesseract and checks that tesseract has its
// German data (Debian: tesseract-ocr-deu).
func NewOCR(ctx context.Context, box *Sandbox) (*OCR, error) {
	o := &OCR{box: box}
	var err error
	if o.pdftoppm, err = exec.LookPath("pdftoppm"); err != nil {
		return nil, fmt.Errorf("read: pdftoppm (poppler-utils) not found: %w", err)
	}
	if o.tesseract, err = exec.LookPath("tesseract"); err != nil {
		return nil, fmt.Errorf("read: tesseract (tesseract-ocr) not found: %w", err)
	}
	dir, remove, err := box.workDir()
	if err != nil {
		return nil, err
	}
	defer remove()
	out, err := box.run(ctx, command{program: o.tesseract, args: []string{"--list-langs"},
		dir: dir, memory: tesseractBytes, maxOut: 4096, env: []string{"OMP_THREAD_LIMIT=1"}})
	if err != nil {
		return nil, fmt.Errorf("read: tesseract --list-langs: %w", err)
	}
	for lang := range strings.SplitSeq(ocrLanguages, "+") {
		if !slices.Contains(strings.Fields(string(out.stdout)), lang) {
			return nil, fmt.Errorf("read: tesseract has no %q data (install tesseract-ocr-%s)", lang, lang)
		}
	}
	return o, nil
}

// Transcribe reads s with tesseract, rendering a PDF's pages first.
func (o *OCR) Transcribe(ctx context.Context, s Scan) (Result, error) {
	dir, remove, err := o.box.workDir()
	if err != nil {
		return Result{}, err
	}
	defer remove()
	input := s.Path
	if s.Type == typePDF {
		if input, err = o.render(ctx, dir, s); err != nil {
			return Result{}, err
		}
	}
	out, err := o.box.run(ctx, command{
		program: o.tesseract,
		args:    []string{input, "stdout", "-l", ocrLanguages, "--psm", ocrPSM},
		dir:     dir, memory: tesseractBytes, maxOut: 8 << 20,
		env: []string{"OMP_THREAD_LIMIT=1"},
	})
	if err != nil {
		return Result{}, imageError(err, s.Type)
	}
	return Result{Reader: ReaderOCR, Text: tidy(out.stdout), Pages: s.Pages, Truncated: out.cut}, nil
}

// render writes the PDF's first s.Pages pages as page-N.png into dir and
// returns a list file naming them, which tesseract reads as one batch.
func (o *OCR) render(ctx context.Context, dir string, s Scan) (string, error) {
	_, err := o.box.run(ctx, command{
		program: o.pdftoppm,
		args: []string{"-f", "1", "-l", strconv.Itoa(s.Pages), "-scale-to", ocrScaleTo,
			"-gray", "-png", s.Path, filepath.Join(dir, "page")},
		dir: dir, memory: renderMemory, maxOut: 4096,
	})
	if err != nil {
		return "", pdfError(err)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil || len(pages) == 0 {
		return "", unreadable("corrupt PDF (no page could be rendered)")
	}
	// pdftoppm pads page numbers to one width, so names sort in page order.
	slices.Sort(pages)
	list := filepath.Join(dir, "pages.txt")
	if err := os.WriteFile(list, []byte(strings.Join(pages, "\n")+"\n"), 0o600); err != nil {
		return "", transient("write page list", err)
	}
	return list, nil
}

// imageError turns a tesseract failure into its reason: leptonica refuses
// an image it cannot decode with exit code 1, and a crash or an exhausted
// memory limit would happen again on the same file.
func imageError(err error, typ string) error {
	var ee *exitError
	if !errors.As(err, &ee) {
		return err
	}
	if ee.signal != 0 {
		return unreadable("%s could not be read (OCR crashed or ran out of memory)", typ)
	}
	return unreadable("corrupt or unsupported image (%s)", typ)
}
