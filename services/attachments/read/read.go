// Package read turns an attachment's bytes into text: PDFs with a text
// layer through poppler's pdftotext, DOCX and XLSX by parsing their XML,
// plain text by decoding it, and scans (PDFs without a text layer, images)
// through a Transcriber, by default tesseract OCR. It has no database and
// no network: the caller downloads the file and stores the Result.
//
// Files are untrusted. The real type is sniffed from the bytes; outside
// programs run as bounded child processes (see sandbox.go); ZIP-based
// formats are read under size and entry caps; nothing in a file is run.
package read

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Reader names, the values of `email_attachments.reader`.
const (
	ReaderPDFText = "pdf_text" // pdftotext over the PDF's text layer
	ReaderOffice  = "office"   // DOCX or XLSX XML
	ReaderOCR     = "ocr"      // tesseract over rendered pages or an image
	ReaderModel   = "model"    // a model's transcription (a Transcriber other than OCR)
	ReaderText    = "text"     // a plain text file, decoded
)

// Reader turns one file into text. Errors match ErrUnreadable (the file
// cannot be read: status unreadable, with Reason(err)) or not (status
// failed; ErrTransient and context errors say a later try may pass).
type Reader interface {
	Read(ctx context.Context, f File) (Result, error)
}

// File is one attachment to read. Either Path or Data holds the bytes;
// Path is preferred, as the bytes then stay on disk (the downloader
// streams to a file) and child programs read them from there.
type File struct {
	Name        string // filename as sent: a hint for messages only, never trusted
	ContentType string // declared MIME type: not trusted either, the bytes are sniffed
	Path        string // the file on disk; read, never changed or removed
	Data        []byte // the bytes, when Path is empty
}

// Result is what a file said.
type Result struct {
	Reader    string // one of the Reader… constants
	Type      string // the sniffed MIME type (application/pdf, image/png, …)
	Text      string // the text, at most TextMaxChars runes
	Pages     int    // pages (PDF, TIFF frames), sheets (XLSX) or 1; 0 for DOCX and text
	Truncated bool   // Text was cut at TextMaxChars
	Usage     Usage  // what the read's reader programs cost
}

// Usage is the cost of the reader programs one read ran: their CPU time
// together, and the largest peak resident memory among them (they run one
// after another). Zero for readers that run no program (DOCX, XLSX, text).
type Usage struct {
	CPU       time.Duration
	PeakBytes int64
}

// Config bounds every read. Zero fields take the defaults of DESIGN.md §5.
type Config struct {
	MaxBytes     int64         // ATTACHMENT_MAX_BYTES: larger files are unreadable
	MaxPages     int           // ATTACHMENT_MAX_PAGES: PDFs and multi-frame images with more are unreadable
	Timeout      time.Duration // ATTACHMENT_TIMEOUT: the whole read of one file, children included
	TextMaxChars int           // ATTACHMENT_TEXT_MAX_CHARS: Result.Text is cut here
	// TempDir holds each read's private working directory ("" = os.TempDir()).
	TempDir string
	// MaxChildren bounds the reader programs running at once across all
	// reads (≤ 0: the number of CPUs); a read waits for a slot within Timeout.
	MaxChildren int
	// Transcriber reads scans and images; nil means tesseract OCR (NewOCR).
	Transcriber Transcriber
}

// Defaults of the settings this package owns.
const (
	DefaultMaxBytes     = 20 << 20
	DefaultMaxPages     = 50
	DefaultTimeout      = 60 * time.Second
	DefaultTextMaxChars = 200000
)

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.TextMaxChars <= 0 {
		c.TextMaxChars = DefaultTextMaxChars
	}
	return c
}

// Dispatcher is the Reader: it sniffs a file's type and hands it to the
// reader for that type. Safe for concurrent use.
type Dispatcher struct {
	cfg   Config
	box   *Sandbox
	trans Transcriber
	tools pdfTools
}

// pdfTools are poppler's programs the dispatcher runs itself.
type pdfTools struct{ pdfinfo, pdftotext string }

// New checks that the outside programs are installed (pdfinfo, pdftotext,
// pdftoppm, tesseract with German data, prlimit) and finds how child
// processes can be cut off from the network here (Sandbox.Isolation).
func New(ctx context.Context, cfg Config) (*Dispatcher, error) {
	cfg = cfg.withDefaults()
	box, err := NewSandbox(ctx, cfg.TempDir, cfg.MaxChildren)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{cfg: cfg, box: box, trans: cfg.Transcriber}
	for _, t := range []struct {
		name string
		path *string
	}{{"pdfinfo", &d.tools.pdfinfo}, {"pdftotext", &d.tools.pdftotext}} {
		if *t.path, err = exec.LookPath(t.name); err != nil {
			return nil, fmt.Errorf("read: %s (poppler-utils) not found: %w", t.name, err)
		}
	}
	if d.trans == nil {
		if d.trans, err = NewOCR(ctx, box); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Sandbox returns the child-process runner, for a Transcriber that also
// needs outside programs and for reporting how children are isolated.
func (d *Dispatcher) Sandbox() *Sandbox { return d.box }

// Read sniffs f and reads it with the reader its real type calls for,
// within cfg.Timeout. See Reader for the errors.
func (d *Dispatcher) Read(ctx context.Context, f File) (Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, d.cfg.Timeout, ErrTimeout)
	defer cancel()
	usage := &Usage{}
	ctx = context.WithValue(ctx, usageKey{}, usage)
	src, err := openSource(f)
	if err != nil {
		return Result{}, err
	}
	defer src.close()
	if src.size > d.cfg.MaxBytes {
		return Result{}, unreadable("too large (%d bytes > ATTACHMENT_MAX_BYTES %d)", src.size, d.cfg.MaxBytes)
	}
	typ, err := sniff(src.head)
	if err != nil {
		return Result{}, err
	}
	res, err := d.route(ctx, src, typ)
	if err != nil {
		return Result{}, timeoutCause(ctx, err)
	}
	res.Type, res.Usage = typ, *usage
	res.Text, res.Truncated = capText(res.Text, d.cfg.TextMaxChars, res.Truncated)
	return res, nil
}

// route runs the reader for typ.
func (d *Dispatcher) route(ctx context.Context, src *source, typ string) (Result, error) {
	switch typ {
	case typePDF:
		return d.readPDF(ctx, src)
	case typeZip:
		return d.readZip(ctx, src)
	case typeOLE:
		return Result{}, oleUnreadable(src)
	case typeText:
		return d.readText(src)
	case typePNG, typeJPEG, typeGIF, typeWebP, typeTIFF:
		return d.readImage(ctx, src, typ)
	}
	return Result{}, fmt.Errorf("read: no reader for %s", typ)
}

// timeoutCause reports a read that ran out of its time as ErrTimeout,
// whichever step noticed it; a caller's cancellation stays what it is.
func timeoutCause(ctx context.Context, err error) error {
	var waited *models.RateLimitedError
	if errors.Is(err, ErrUnreadable) || ctx.Err() == nil || errors.As(err, &waited) {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
		return ErrTimeout
	}
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (%w)", ctx.Err(), err)
}
