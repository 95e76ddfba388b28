package read

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// source is an opened File: its size, its first bytes for sniffing, and
// random access for the ZIP and TIFF readers.
type source struct {
	name string
	path string   // "" when the bytes came as File.Data
	data []byte   // File.Data
	file *os.File // open when path is set
	size int64
	head []byte // the first sniffSize bytes (fewer if the file is shorter)
}

// openSource opens f.Path, or wraps f.Data. Only a regular file is read,
// so a path to a device or a FIFO cannot block or flood the reader.
func openSource(f File) (*source, error) {
	src := &source{name: f.Name, path: f.Path, data: f.Data, size: int64(len(f.Data))}
	if f.Path == "" {
		src.head = f.Data[:min(len(f.Data), sniffSize)]
		return src, nil
	}
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("read: open attachment: %w", err)
	}
	info, err := file.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("read: open attachment: %w", err)
	}
	src.file, src.size = file, info.Size()
	head := make([]byte, min(src.size, sniffSize))
	if _, err := io.ReadFull(file, head); err != nil {
		file.Close()
		return nil, fmt.Errorf("read: attachment head: %w", err)
	}
	src.head = head
	return src, nil
}

// readerAt gives random access to the bytes.
func (s *source) readerAt() io.ReaderAt {
	if s.file != nil {
		return s.file
	}
	return bytes.NewReader(s.data)
}

// prefix returns up to n bytes from the start.
func (s *source) prefix(n int64) ([]byte, error) {
	buf := make([]byte, min(n, s.size))
	got, err := s.readerAt().ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read: attachment: %w", err)
	}
	return buf[:got], nil
}

// pathFor returns a path a child process can open: File.Path itself, or
// File.Data written into the read's private directory. It is absolute, so a
// program can never take it for an option ("-opw…").
func (s *source) pathFor(dir, ext string) (string, error) {
	if s.path != "" {
		abs, err := filepath.Abs(s.path)
		if err != nil {
			return "", fmt.Errorf("read: attachment path: %w", err)
		}
		return abs, nil
	}
	p := filepath.Join(dir, "input"+ext)
	if err := os.WriteFile(p, s.data, 0o600); err != nil {
		return "", transient("write attachment for a reader", err)
	}
	return p, nil
}

func (s *source) close() {
	if s.file != nil {
		s.file.Close()
	}
}
