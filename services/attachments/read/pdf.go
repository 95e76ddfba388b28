package read

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// pdfMemory is the address-space limit of pdfinfo and pdftotext. Poppler
// reads a statement in 10–20 MB; a PDF that needs more than this is
// hostile or broken, and fails as unreadable rather than swapping.
const pdfMemory = 512 << 20

// minTextPerPage is how many letters and digits a page of the text layer
// must average for the PDF to count as text. A scan's text layer is empty
// or holds a scanner's stamp ("Seite 1 von 3"); a typed page has hundreds,
// and a one-line "Saldo: 1.212,40 EUR" has 14. Below it the pages go to
// the Transcriber, which reads what a text layer holds as well.
const minTextPerPage = 16

// pdfInfo is what pdfinfo says of a PDF.
type pdfInfo struct {
	pages int
}

// readPDF reads the text layer with pdftotext -layout (so a table row
// stays one line), or hands the PDF to the Transcriber when it has none.
func (d *Dispatcher) readPDF(ctx context.Context, src *source) (Result, error) {
	dir, remove, err := d.box.workDir()
	if err != nil {
		return Result{}, err
	}
	defer remove()
	path, err := src.pathFor(dir, ".pdf")
	if err != nil {
		return Result{}, err
	}
	info, err := d.pdfInfo(ctx, dir, path)
	if err != nil {
		return Result{}, err
	}
	if info.pages > d.cfg.MaxPages {
		return Result{}, unreadable("too many pages (%d > ATTACHMENT_MAX_PAGES %d)", info.pages, d.cfg.MaxPages)
	}
	out, err := d.box.run(ctx, command{
		program: d.tools.pdftotext,
		args:    []string{"-layout", "-enc", "UTF-8", "-f", "1", "-l", strconv.Itoa(info.pages), path, "-"},
		dir:     dir, memory: pdfMemory, maxOut: d.cfg.TextMaxChars*4 + 1<<16,
	})
	if err != nil {
		return Result{}, pdfError(err)
	}
	if !hasTextLayer(out.stdout, info.pages) {
		return d.transcribe(ctx, Scan{Name: src.name, Type: typePDF, Path: path, Pages: info.pages})
	}
	return Result{Reader: ReaderPDFText, Text: tidy(out.stdout), Pages: info.pages, Truncated: out.cut}, nil
}

// pdfInfo runs pdfinfo for the page count; it also refuses what poppler
// cannot open (a password, a broken file) before any other program runs.
func (d *Dispatcher) pdfInfo(ctx context.Context, dir, path string) (pdfInfo, error) {
	out, err := d.box.run(ctx, command{
		program: d.tools.pdfinfo, args: []string{path},
		dir: dir, memory: pdfMemory, maxOut: 64 << 10,
	})
	if err != nil {
		return pdfInfo{}, pdfError(err)
	}
	for line := range strings.SplitSeq(string(out.stdout), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pages:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && n > 0 {
				return pdfInfo{pages: n}, nil
			}
		}
	}
	return pdfInfo{}, unreadable("corrupt PDF (no pages)")
}

// pdfError turns a poppler failure into its reason. Poppler's exit codes:
// 1 the file could not be opened (broken, or a password is needed), 3 the
// document's permissions forbid it; a crash is a broken file too, as the
// same file would crash it again.
func pdfError(err error) error {
	var ee *exitError
	if !errors.As(err, &ee) {
		return err
	}
	switch {
	case strings.Contains(ee.stderr, "password") || ee.code == 3:
		return unreadable("encrypted PDF")
	case ee.signal != 0:
		return unreadable("corrupt PDF (the reader crashed or ran out of memory)")
	}
	return unreadable("corrupt PDF")
}

// hasTextLayer reports whether pdftotext's output averages minTextPerPage
// letters or digits per page.
func hasTextLayer(text []byte, pages int) bool {
	n := 0
	for _, r := range string(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
			if n >= minTextPerPage*pages {
				return true
			}
		}
	}
	return false
}
