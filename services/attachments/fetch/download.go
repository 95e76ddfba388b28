package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// ErrTooLarge is matched by errors.Is when a file is over MaxBytes.
var ErrTooLarge = errors.New("attachment too large")

// Download is one fetched file and what the download learnt about it.
type Download struct {
	// Path is the file Fetch wrote (mode 0600, in the Fetcher's private 0700
	// directory); the caller removes it with Remove. FetchTo leaves it empty.
	Path   string
	Size   int64  // bytes
	SHA256 string // lower-case hex of the bytes
	// ContentType is the final response's media type, lower-case without
	// parameters; "" when absent or malformed. The server's word, not a check.
	ContentType string
	// Filename is a hint: the final response's Content-Disposition filename,
	// else the attachment record's file_name. Base name only, never a path.
	Filename string
	// Source is the final hop as scheme://host/path, safe to log.
	Source string
}

// Open opens the downloaded file for reading.
func (d Download) Open() (*os.File, error) { return os.Open(d.Path) }

// Remove deletes the downloaded file; it is safe on a Download without one.
func (d Download) Remove() error {
	if d.Path == "" {
		return nil
	}
	return os.Remove(d.Path)
}

// Fetch downloads rawURL (an attachment's content_url, or its url, which may
// be Zendesk's attachment API record) into a new temporary file. Memory use
// per download is a copy buffer, whatever the file's size, so this is the
// one to use from workers. On error no file is left behind.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Download, error) {
	if !f.configured {
		return Download{}, ErrNotConfigured
	}
	file, err := os.CreateTemp(f.dir, "attachment-*") // mode 0600
	if err != nil {
		return Download{}, models.Transient(fmt.Errorf("attachment download file: %w", err), 0)
	}
	d, err := f.FetchTo(ctx, rawURL, file)
	if closeErr := file.Close(); err == nil && closeErr != nil {
		err = models.Transient(fmt.Errorf("attachment download file: %w", closeErr), 0)
	}
	if err != nil {
		_ = os.Remove(file.Name())
		return Download{}, err
	}
	d.Path = file.Name()
	return d, nil
}

// FetchTo downloads rawURL like Fetch but streams the bytes into w (a
// bytes.Buffer for a small in-memory read, say). w receives at most
// MaxBytes+1 bytes; after an error its content is to be thrown away.
func (f *Fetcher) FetchTo(ctx context.Context, rawURL string, w io.Writer) (Download, error) {
	if !f.configured {
		return Download{}, ErrNotConfigured
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		// url.Parse's error quotes the URL, query and all.
		return Download{}, models.Permanent(fmt.Errorf("%w: attachment URL is not an absolute URL", ErrRefused))
	}
	release, err := f.acquire(ctx)
	if err != nil {
		return Download{}, models.Transient(err, 0)
	}
	defer release()
	ctx, cancel := context.WithTimeoutCause(ctx, f.timeoutAfter, f.timeout)
	defer cancel()

	d, err := f.download(ctx, u, w)
	if ctx.Err() != nil && !errors.As(err, new(*models.TransientError)) {
		// Past the deadline nothing that came back counts: Go's transport
		// hands over a response that raced it (a server answering the
		// closed connection, with an empty 200, say).
		err = transportError(u, context.Cause(ctx))
	}
	if err != nil {
		return Download{}, err
	}
	return d, nil
}

// download requests u, follows an attachment record to its file, and
// streams the file into w.
func (f *Fetcher) download(ctx context.Context, u *url.URL, w io.Writer) (Download, error) {
	resp, final, err := f.get(ctx, u)
	if err != nil {
		return Download{}, err
	}
	var rec attachmentRecord
	if f.isRecord(u) {
		if rec, err = readRecord(resp, final); err != nil {
			return Download{}, err
		}
		if resp, final, err = f.followRecord(ctx, rec, final); err != nil {
			return Download{}, err
		}
	}
	d, err := f.stream(resp, final, w)
	if err != nil {
		return Download{}, err
	}
	if d.Filename == "" {
		d.Filename = baseName(rec.FileName)
	}
	return d, nil
}

// stream checks the response's status and size and copies its body into w,
// counting and hashing; it reads at most maxBytes+1 bytes.
func (f *Fetcher) stream(resp *http.Response, u *url.URL, w io.Writer) (Download, error) {
	defer resp.Body.Close() // unread bytes are not drained: closing cuts the server off
	if err := statusError(resp, u); err != nil {
		return Download{}, err
	}
	if resp.ContentLength > f.maxBytes {
		return Download{}, models.Permanent(fmt.Errorf("%w: %s declares %d bytes, the limit is %d",
			ErrTooLarge, redact(u), resp.ContentLength, f.maxBytes))
	}
	sum := sha256.New()
	sink := &writeErrors{w: w}
	n, err := io.Copy(io.MultiWriter(sink, sum), io.LimitReader(resp.Body, f.maxBytes+1))
	switch {
	case n > f.maxBytes:
		return Download{}, models.Permanent(fmt.Errorf("%w: %s sent more than %d bytes",
			ErrTooLarge, redact(u), f.maxBytes))
	case sink.err != nil:
		return Download{}, models.Transient(fmt.Errorf("storing the attachment: %w", sink.err), 0)
	case err != nil:
		return Download{}, transportError(u, err)
	}
	return Download{
		Size:        n,
		SHA256:      hex.EncodeToString(sum.Sum(nil)),
		ContentType: mediaType(resp.Header.Get("Content-Type")),
		Filename:    dispositionName(resp.Header.Get("Content-Disposition")),
		Source:      redact(u),
	}, nil
}

// writeErrors remembers the destination's error, so a full disk is told
// apart from a broken download.
type writeErrors struct {
	w   io.Writer
	err error
}

func (e *writeErrors) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

func mediaType(header string) string {
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return ""
	}
	return mt
}

// dispositionName is Content-Disposition's filename (filename* decoded).
func dispositionName(header string) string {
	_, params, err := mime.ParseMediaType(header)
	if err != nil {
		return ""
	}
	return baseName(params["filename"])
}

// baseName keeps a file name's last element, so a hint never names a path,
// capped at 255 bytes of valid UTF-8.
func baseName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	if len(name) > 255 {
		name = name[:255]
	}
	return strings.ToValidUTF8(name, "")
}
