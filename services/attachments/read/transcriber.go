package read

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// Transcriber reads a scan: a PDF without a text layer, or an image. The
// default is OCR (tesseract). A model-based one (LLM_PROVIDER=claude: one
// Messages API call per file with a document or image block) plugs in
// through Config.Transcriber and returns Reader "model".
//
// The dispatcher has already sniffed the type, checked the size and the
// page count, and caps the returned text; the Transcriber owns its own
// errors: an *UnreadableError for a file it cannot take (a model cannot
// take TIFF: it converts or refuses it with "unsupported type image/tiff"),
// anything else for a failure worth a retry.
type Transcriber interface {
	Transcribe(ctx context.Context, s Scan) (Result, error)
}

// Scan is one file for a Transcriber.
type Scan struct {
	Name  string // filename as sent, a hint only
	Type  string // sniffed: application/pdf, image/png, image/jpeg, image/gif, image/webp or image/tiff
	Path  string // absolute path of the bytes, valid until Transcribe returns; read only
	Pages int    // pages (PDF) or frames (TIFF) to read, 1…ATTACHMENT_MAX_PAGES
}

// ScanTypes are the types a Transcriber is handed.
var ScanTypes = []string{typePDF, typePNG, typeJPEG, typeGIF, typeWebP, typeTIFF}

// transcribe runs the Transcriber and checks its answer: a scan that gave
// no letters or digits at all is unreadable, with a reason staff can act on.
func (d *Dispatcher) transcribe(ctx context.Context, s Scan) (Result, error) {
	if !slices.Contains(ScanTypes, s.Type) {
		return Result{}, fmt.Errorf("read: %s is not a scan type", s.Type)
	}
	res, err := d.trans.Transcribe(ctx, s)
	if err != nil {
		var waited *models.RateLimitedError
		if errors.As(err, &waited) {
			return Result{}, err // a wait on the model's rate limit, not a slow file
		}
		if ctx.Err() != nil && !errors.Is(err, ErrUnreadable) {
			return Result{}, ctx.Err()
		}
		return Result{}, err
	}
	if res.Reader == "" {
		return Result{}, errors.New("read: transcriber named no reader")
	}
	if !hasLetters(res.Text) {
		if s.Type == typePDF {
			return Result{}, unreadable("no text layer, and no text found in the scan")
		}
		return Result{}, unreadable("no text found in the image")
	}
	return res, nil
}

func hasLetters(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
