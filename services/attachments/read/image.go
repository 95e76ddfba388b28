package read

import (
	"context"
	"encoding/binary"
	"errors"
	"image"
	_ "image/gif" // header decoders for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"io"

	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// maxPixels bounds an image handed to OCR: 80 megapixels is a 600-dpi A3
// scan or a large phone photo. More is a decompression bomb in practice,
// and would take tesseract past its memory limit anyway.
const maxPixels = 80_000_000

// readImage checks an image's header (dimensions; TIFF frames against
// ATTACHMENT_MAX_PAGES) in-process, without decoding pixels, and hands it
// to the Transcriber.
func (d *Dispatcher) readImage(ctx context.Context, src *source, typ string) (Result, error) {
	cfg, _, err := image.DecodeConfig(io.NewSectionReader(src.readerAt(), 0, src.size))
	var unsupported tiff.UnsupportedError
	switch {
	case errors.As(err, &unsupported):
		// x/image/tiff lacks some codecs (JPEG-in-TIFF) tesseract has: let it try.
	case err != nil:
		return Result{}, unreadable("corrupt image (%s)", typ)
	case int64(cfg.Width)*int64(cfg.Height) > maxPixels:
		return Result{}, unreadable("image too large (%d×%d pixels)", cfg.Width, cfg.Height)
	}
	pages := 1
	if typ == typeTIFF {
		if pages = tiffFrames(src.readerAt(), d.cfg.MaxPages+1); pages > d.cfg.MaxPages {
			return Result{}, unreadable("too many pages (more than ATTACHMENT_MAX_PAGES %d)", d.cfg.MaxPages)
		}
	}
	dir, remove, err := d.box.workDir()
	if err != nil {
		return Result{}, err
	}
	defer remove()
	path, err := src.pathFor(dir, "")
	if err != nil {
		return Result{}, err
	}
	return d.transcribe(ctx, Scan{Name: src.name, Type: typ, Path: path, Pages: max(pages, 1)})
}

// tiffFrames counts a TIFF's images (IFDs) up to limit, following the
// chain of IFD offsets; a loop or a bad offset ends the count.
func tiffFrames(r io.ReaderAt, limit int) int {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return 0
	}
	var order binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 'M' {
		order = binary.BigEndian
	}
	seen := map[uint32]bool{}
	off := order.Uint32(hdr[4:8])
	n := 0
	for off != 0 && !seen[off] && n < limit {
		seen[off] = true
		var cnt [2]byte
		if _, err := r.ReadAt(cnt[:], int64(off)); err != nil {
			break
		}
		n++
		var next [4]byte
		if _, err := r.ReadAt(next[:], int64(off)+2+12*int64(order.Uint16(cnt[:]))); err != nil {
			break
		}
		off = order.Uint32(next[:])
	}
	return n
}
