package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/vfs"
)

// Stream format constants (see the package documentation).
const (
	// Magic opens the stream header and the trailer.
	Magic = "WALRUSCP"
	// FormatVersion is the stream format version written by WriteTo; Receive
	// accepts only this version.
	FormatVersion uint32 = 1
	// ChunkSize is the size of every data chunk but a file's last one.
	ChunkSize = 1 << 20
	// MaxPathLen bounds the length of a file path in the stream.
	MaxPathLen = 1024
	// MaxFiles bounds the number of files in a stream.
	MaxFiles = 1 << 20
	// MaxPayload bounds the total payload bytes of a stream (64 TiB).
	MaxPayload = 1 << 46
)

const (
	headerLen      = len(Magic) + 4 + 8 + 8 + 4 + 4 // 36
	trailerLen     = len(Magic) + 4
	fileHeaderFix  = 2 + 8 + 4 // path length, size, crc (plus the path)
	chunkCRCLen    = 4
	headerCRCStart = headerLen - 4
	// ioStep is the most a transfer reads, checksums and writes in one
	// go, at either end. On a kernel without preemption a syscall runs to
	// its end before anything else gets its CPU: a 1 MiB write into the
	// page cache held a core for over 2 ms, which the master's clients felt
	// when they shared it.
	ioStep = 64 << 10
)

// ErrBadStream reports a stream that is malformed, truncated, fails a
// checksum or exceeds a bound. Receive wraps it; test with errors.Is.
var ErrBadStream = errors.New("snapshot: bad stream")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// streamHeader is the fixed header of a stream.
type streamHeader struct {
	version uint32
	index   uint64
	total   uint64
	count   uint32
}

func (h streamHeader) marshal() []byte {
	b := make([]byte, headerLen)
	copy(b, Magic)
	o := len(Magic)
	binary.BigEndian.PutUint32(b[o:], h.version)
	binary.BigEndian.PutUint64(b[o+4:], h.index)
	binary.BigEndian.PutUint64(b[o+12:], h.total)
	binary.BigEndian.PutUint32(b[o+20:], h.count)
	binary.BigEndian.PutUint32(b[headerCRCStart:], crc32.Checksum(b[:headerCRCStart], castagnoli))
	return b
}

// unmarshalHeader checks magic, checksum, version and bounds of a header.
func unmarshalHeader(b []byte) (streamHeader, error) {
	var h streamHeader
	if string(b[:len(Magic)]) != Magic {
		return h, fmt.Errorf("%w: bad magic %q", ErrBadStream, b[:len(Magic)])
	}
	if got, want := binary.BigEndian.Uint32(b[headerCRCStart:]), crc32.Checksum(b[:headerCRCStart], castagnoli); got != want {
		return h, fmt.Errorf("%w: header checksum %08x, want %08x", ErrBadStream, got, want)
	}
	o := len(Magic)
	h.version = binary.BigEndian.Uint32(b[o:])
	h.index = binary.BigEndian.Uint64(b[o+4:])
	h.total = binary.BigEndian.Uint64(b[o+12:])
	h.count = binary.BigEndian.Uint32(b[o+20:])
	if h.version != FormatVersion {
		return h, fmt.Errorf("%w: format version %d, this build reads %d", ErrBadStream, h.version, FormatVersion)
	}
	if h.total > MaxPayload {
		return h, fmt.Errorf("%w: payload %d bytes exceeds %d", ErrBadStream, h.total, uint64(MaxPayload))
	}
	if h.count > MaxFiles {
		return h, fmt.Errorf("%w: %d files exceeds %d", ErrBadStream, h.count, MaxFiles)
	}
	return h, nil
}

// marshalFileHeader encodes one file header; name must be valid.
func marshalFileHeader(name string, size uint64) []byte {
	b := make([]byte, fileHeaderFix+len(name))
	binary.BigEndian.PutUint16(b, uint16(len(name)))
	copy(b[2:], name)
	binary.BigEndian.PutUint64(b[2+len(name):], size)
	end := 2 + len(name) + 8
	binary.BigEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
	return b
}

// validPath reports whether p may name a file in a stream: a clean,
// relative, slash-separated path of bounded length that cannot leave the
// directory it is joined to.
func validPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case len(p) > MaxPathLen:
		return fmt.Errorf("path of %d bytes exceeds %d", len(p), MaxPathLen)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("path %q contains a backslash or NUL", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q is not clean", p)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == "." || elem == ".." {
			return fmt.Errorf("path %q has a %q element", p, elem)
		}
	}
	return nil
}

// streamFile is one file of a checkpoint directory, as it will be streamed.
type streamFile struct {
	name string // slash-separated, relative to the checkpoint dir
	size int64
}

// listFiles walks dir on fs and returns its regular files, sorted, with
// their sizes. Checkpoint files are immutable, so the sizes stay valid.
func listFiles(fs vfs.FS, dir string) ([]streamFile, error) {
	var files []streamFile
	var walk func(rel string) error
	walk = func(rel string) error {
		abs := dir
		if rel != "" {
			abs = fs.PathJoin(dir, rel)
		}
		names, err := fs.List(abs)
		if err != nil {
			return fmt.Errorf("list %s: %w", abs, err)
		}
		sort.Strings(names)
		for _, n := range names {
			child := n
			if rel != "" {
				child = rel + "/" + n
			}
			fi, err := fs.Stat(fs.PathJoin(abs, n))
			if err != nil {
				return fmt.Errorf("stat %s: %w", fs.PathJoin(abs, n), err)
			}
			if fi.IsDir() {
				if err := walk(child); err != nil {
					return err
				}
				continue
			}
			if err := validPath(child); err != nil {
				return fmt.Errorf("checkpoint %s: %w", dir, err)
			}
			files = append(files, streamFile{name: child, size: fi.Size()})
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return files, nil
}

// countingWriter counts the bytes that reach w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeStream writes the checkpoint directory dir on fs, consistent at index,
// to w in the stream format. It returns the bytes written to w.
func writeStream(w io.Writer, fs vfs.FS, dir string, index uint64) (int64, error) {
	files, err := listFiles(fs, dir)
	if err != nil {
		return 0, err
	}
	if len(files) > MaxFiles {
		return 0, fmt.Errorf("checkpoint %s: %d files exceeds %d", dir, len(files), MaxFiles)
	}
	var total uint64
	for _, f := range files {
		total += uint64(f.size)
	}
	if total > MaxPayload {
		return 0, fmt.Errorf("checkpoint %s: %d bytes exceeds %d", dir, total, uint64(MaxPayload))
	}

	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	headers := crc32.New(castagnoli)
	hdr := streamHeader{version: FormatVersion, index: index, total: total, count: uint32(len(files))}.marshal()
	headers.Write(hdr)
	if _, err := bw.Write(hdr); err != nil {
		return cw.n, fmt.Errorf("write snapshot header: %w", err)
	}

	buf := make([]byte, ioStep)
	for _, f := range files {
		fh := marshalFileHeader(f.name, uint64(f.size))
		headers.Write(fh)
		if _, err := bw.Write(fh); err != nil {
			return cw.n, fmt.Errorf("write snapshot file header %s: %w", f.name, err)
		}
		if err := copyChunks(bw, fs, fs.PathJoin(dir, filepathFromSlash(fs, f.name)), f.size, buf); err != nil {
			return cw.n, err
		}
	}

	var trailer [trailerLen]byte
	copy(trailer[:], Magic)
	binary.BigEndian.PutUint32(trailer[len(Magic):], headers.Sum32())
	if _, err := bw.Write(trailer[:]); err != nil {
		return cw.n, fmt.Errorf("write snapshot trailer: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("write snapshot: %w", err)
	}
	return cw.n, nil
}

// copyChunks streams size bytes of the file name on fs to w as checksummed
// chunks, using buf (at least one byte; ioStep is enough).
func copyChunks(w io.Writer, fs vfs.FS, name string, size int64, buf []byte) error {
	f, err := fs.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	return sendChunks(w, f, name, size, buf)
}

// sendChunks copies size bytes from r to w as checksummed chunks, len(buf)
// bytes at a time: each piece is read, added to its chunk's checksum and
// written before the next, so sending is a steady trickle of small steps,
// not a burst of reading and checksumming a whole chunk.
func sendChunks(w io.Writer, r io.Reader, name string, size int64, buf []byte) error {
	for remaining := size; remaining > 0; {
		n := min(remaining, int64(ChunkSize))
		var sum uint32
		for left := n; left > 0; {
			piece := buf[:min(left, int64(len(buf)))]
			if _, err := io.ReadFull(r, piece); err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			sum = crc32.Update(sum, castagnoli, piece)
			if _, err := w.Write(piece); err != nil {
				return fmt.Errorf("write snapshot %s: %w", name, err)
			}
			left -= int64(len(piece))
		}
		var crc [chunkCRCLen]byte
		binary.BigEndian.PutUint32(crc[:], sum)
		if _, err := w.Write(crc[:]); err != nil {
			return fmt.Errorf("write snapshot %s: %w", name, err)
		}
		remaining -= n
	}
	return nil
}

// filepathFromSlash turns a stream path into one for fs.PathJoin.
func filepathFromSlash(fs vfs.FS, p string) string {
	if !strings.Contains(p, "/") {
		return p
	}
	return fs.PathJoin(strings.Split(p, "/")...)
}
