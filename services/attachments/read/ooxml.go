package read

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Limits of a ZIP-based document. A real DOCX or XLSX has tens of entries
// and parts of a few MB; the caps leave room for a 10,000-row statement
// while a bomb (a small file inflating to gigabytes) stops at once.
const (
	maxZipEntries = 5000
	maxPartBytes  = 32 << 20  // declared uncompressed size of any part read
	maxInflated   = 128 << 20 // bytes inflated over all parts read from one file
	maxXMLRun     = 1 << 20   // bytes between two '<': bounds a single XML token
)

// Errors of the part readers, turned into reasons by zipError.
var (
	errZipBomb  = errors.New("zip bomb")
	errXMLToken = errors.New("oversized XML token")
	errNoPart   = errors.New("missing part")
)

// Relationship types of the parts read (their last path element).
const (
	relOfficeDocument = "officeDocument"
	relWorksheet      = "worksheet"
	relSharedStrings  = "sharedStrings"
	relStyles         = "styles"
	relHeader         = "header"
	relFooter         = "footer"
)

// pkg is an opened OOXML package (DOCX, XLSX).
type pkg struct {
	files    map[string]*zip.File
	inflated int64 // bytes inflated so far, against maxInflated
}

// readZip reads a DOCX or XLSX; any other ZIP is unreadable.
func (d *Dispatcher) readZip(ctx context.Context, src *source) (Result, error) {
	p, err := openPkg(src)
	if err != nil {
		return Result{}, err
	}
	rels, err := p.rels(ctx, "")
	if err != nil {
		return Result{}, zipError(err)
	}
	main := rels.first(relOfficeDocument)
	var res Result
	switch {
	case strings.HasPrefix(main, "word/") && path.Ext(main) == ".xml":
		res, err = d.readDOCX(ctx, p, main)
	case strings.HasPrefix(main, "xl/") && path.Ext(main) == ".xml":
		res, err = d.readXLSX(ctx, p, main)
	case strings.HasPrefix(main, "xl/"):
		return Result{}, unreadable("unsupported type Excel binary workbook (.xlsb)")
	case strings.HasPrefix(main, "ppt/"):
		return Result{}, unreadable("unsupported type PowerPoint presentation")
	default:
		return Result{}, unreadable("unsupported Office document")
	}
	if err != nil {
		return Result{}, zipError(err)
	}
	return res, nil
}

// openPkg opens the ZIP and refuses, before inflating anything, archives
// that are not Office documents, macro documents, and suspicious entry
// lists (too many entries, names leaving the archive, duplicates).
func openPkg(src *source) (*pkg, error) {
	zr, err := zip.NewReader(src.readerAt(), src.size)
	if err != nil {
		return nil, unreadable("corrupt ZIP archive")
	}
	if len(zr.File) > maxZipEntries {
		return nil, unreadable("ZIP with too many entries (%d)", len(zr.File))
	}
	p := &pkg{files: make(map[string]*zip.File, len(zr.File))}
	macro := false
	for _, f := range zr.File {
		name := f.Name
		if !isLocalName(name) {
			return nil, unreadable("ZIP with unsafe entry names")
		}
		if _, dup := p.files[name]; dup {
			return nil, unreadable("ZIP with duplicate entries")
		}
		p.files[name] = f
		macro = macro || strings.EqualFold(path.Base(name), "vbaProject.bin")
	}
	if p.files["[Content_Types].xml"] == nil {
		if p.files["mimetype"] != nil {
			return nil, unreadable("unsupported type OpenDocument")
		}
		return nil, unreadable("ZIP archive")
	}
	if macro {
		return nil, unreadable("macro-enabled document")
	}
	return p, nil
}

// isLocalName accepts a clean relative name: no absolute path, no "..",
// no backslash or NUL that another tool might read as a separator or end.
func isLocalName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// open returns a reader over one part, bounded by maxPartBytes (declared
// size, checked before inflating), the file's inflate budget, and the XML
// token bound. archive/zip itself fails a part that inflates past its
// declared size.
func (p *pkg) open(name string) (io.ReadCloser, error) {
	f := p.files[name]
	if f == nil {
		return nil, fmt.Errorf("%w: %s", errNoPart, name)
	}
	if f.UncompressedSize64 > maxPartBytes {
		return nil, unreadable("ZIP bomb (an entry inflates to %d MiB, over %d MiB)", f.UncompressedSize64>>20, maxPartBytes>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return &partReader{rc: rc, p: p}, nil
}

// partReader counts inflated bytes against the file's budget and the
// distance between '<' bytes against maxXMLRun.
type partReader struct {
	rc  io.ReadCloser
	p   *pkg
	run int
}

func (r *partReader) Read(b []byte) (int, error) {
	n, err := r.rc.Read(b)
	r.p.inflated += int64(n)
	if r.p.inflated > maxInflated {
		return 0, errZipBomb
	}
	for _, c := range b[:n] {
		if c == '<' {
			r.run = 0
		} else if r.run++; r.run > maxXMLRun {
			return 0, errXMLToken
		}
	}
	return n, err
}

func (r *partReader) Close() error { return r.rc.Close() }

// decode streams part name through fn, token by token, checking ctx now
// and then so a slow parse still ends with the file's time limit. fn
// returns false to stop early (the text is full).
func (p *pkg) decode(ctx context.Context, name string, fn func(xml.Token) bool) error {
	rc, err := p.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	dec.Strict = true // undeclared entities are errors; nothing is fetched or expanded
	for i := 0; ; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !fn(tok) {
			return nil
		}
	}
}

// relations maps a part's relationship ids to resolved part names.
type relations struct {
	byID   map[string]string
	byType map[string][]string // last element of the type URI → part names, in order
}

// first returns the first target of a type, or "".
func (r relations) first(typ string) string {
	if t := r.byType[typ]; len(t) > 0 {
		return t[0]
	}
	return ""
}

// rels reads the relationships of part ("" for the package's own).
func (p *pkg) rels(ctx context.Context, part string) (relations, error) {
	dir, base := path.Split(part)
	name := dir + "_rels/" + base + ".rels"
	r := relations{byID: map[string]string{}, byType: map[string][]string{}}
	err := p.decode(ctx, name, func(tok xml.Token) bool {
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "Relationship" || attr(el, "TargetMode") == "External" {
			return true
		}
		target := resolvePart(dir, attr(el, "Target"))
		if target == "" {
			return true
		}
		typ := path.Base(attr(el, "Type"))
		r.byID[attr(el, "Id")] = target
		r.byType[typ] = append(r.byType[typ], target)
		return true
	})
	if errors.Is(err, errNoPart) {
		return r, nil
	}
	return r, err
}

// resolvePart resolves a relationship target against the directory of its
// source part; a target leaving the package resolves to "".
func resolvePart(dir, target string) string {
	var full string
	if strings.HasPrefix(target, "/") {
		full = path.Clean(strings.TrimPrefix(target, "/"))
	} else {
		full = path.Clean(path.Join(dir, target))
	}
	if !isLocalName(full) || full == "." {
		return ""
	}
	return full
}

// attr returns an attribute's value by local name.
func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// zipError turns a part reader's failure into its reason. Context errors
// and the file system's own (reading File.Path failed) pass through; any
// other failure comes from the archive's bytes (archive/zip following an
// offset out of the file, say), so the file is corrupt.
func zipError(err error) error {
	var fsErr *fs.PathError
	switch {
	case errors.Is(err, ErrUnreadable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &fsErr):
		return err
	case errors.Is(err, errZipBomb):
		return unreadable("ZIP bomb (the entries inflate past %d MiB)", maxInflated>>20)
	case errors.Is(err, errXMLToken):
		return unreadable("corrupt document (an XML token over %d MiB)", maxXMLRun>>20)
	case errors.Is(err, errNoPart):
		return unreadable("corrupt document (a part is missing)")
	}
	return unreadable("corrupt document") // XML syntax, flate data, ZIP structure, checksum
}
