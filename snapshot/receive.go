package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every directory Receive creates; Recover
// removes leftovers with this prefix.
const TempPrefix = ".snapshot-recv-"

// progressStep is how many payload bytes pass between progress calls.
const progressStep = 1 << 20

// ReceiveOptions tunes ReceiveWith. The zero value is valid.
type ReceiveOptions struct {
	// Progress, if set, is called with (payload bytes received, total payload
	// bytes): once when the header has been verified, then at most every
	// ~1 MiB, and once at the end. Default: none.
	Progress func(read, total int64)
	// MaxPayload refuses streams announcing more payload bytes than this.
	// Default (0): the format's MaxPayload.
	MaxPayload int64
}

// Receive reads a stream into a fresh temporary directory under parent (on
// the OS filesystem), verifying every checksum and bound, and fsyncs the
// files and directories. It returns the directory and the index the
// checkpoint is consistent at. On any error it removes the directory;
// format, checksum and truncation problems wrap ErrBadStream, errors of r
// other than EOF are returned wrapped as they are. It reads no byte past the
// stream's trailer. progress may be nil (see ReceiveOptions.Progress).
//
// parent should be on the same filesystem as the data directory the result
// is installed over (see Install).
func Receive(r io.Reader, parent string, progress func(read, total int64)) (dir string, index uint64, err error) {
	return ReceiveWith(r, parent, ReceiveOptions{Progress: progress})
}

// ReceiveWith is Receive with options.
func ReceiveWith(r io.Reader, parent string, opts ReceiveOptions) (dir string, index uint64, err error) {
	dir, err = os.MkdirTemp(filepath.Clean(parent), TempPrefix+"*")
	if err != nil {
		return "", 0, fmt.Errorf("receive snapshot: %w", err)
	}
	dir = filepath.Clean(dir) // the escape check below compares clean paths
	rc := &receiver{r: r, dir: dir, opts: opts, headers: crc32.New(castagnoli), dirs: []string{dir}}
	index, err = rc.run()
	if err != nil {
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", dir, rmErr))
		}
		return "", 0, fmt.Errorf("receive snapshot into %s: %w", parent, err)
	}
	return dir, index, nil
}

// receiver holds the state of one Receive.
type receiver struct {
	r       io.Reader
	dir     string
	opts    ReceiveOptions
	headers hash.Hash32 // running CRC over the header and file headers

	files map[string]bool // paths received; true for directories created
	dirs  []string        // directories created, to fsync at the end
	buf   []byte          // one ioStep of a chunk

	read, total, reported int64
}

// readFull reads exactly len(b) bytes; running out of stream is ErrBadStream.
func (rc *receiver) readFull(b []byte, what string) error {
	if _, err := io.ReadFull(rc.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: truncated in %s: %w", ErrBadStream, what, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func (rc *receiver) run() (uint64, error) {
	var hb [headerLen]byte
	if err := rc.readFull(hb[:], "header"); err != nil {
		return 0, err
	}
	h, err := unmarshalHeader(hb[:])
	if err != nil {
		return 0, err
	}
	if rc.opts.MaxPayload > 0 && h.total > uint64(rc.opts.MaxPayload) {
		return 0, fmt.Errorf("%w: payload %d bytes exceeds the limit %d", ErrBadStream, h.total, rc.opts.MaxPayload)
	}
	rc.headers.Write(hb[:])
	rc.total = int64(h.total)
	rc.files = make(map[string]bool, min(h.count, 1024))
	rc.progress(true)

	for i := uint32(0); i < h.count; i++ {
		if err := rc.receiveFile(i); err != nil {
			return 0, err
		}
	}
	if rc.read != rc.total {
		return 0, fmt.Errorf("%w: files hold %d bytes, header says %d", ErrBadStream, rc.read, rc.total)
	}

	var tb [trailerLen]byte
	if err := rc.readFull(tb[:], "trailer"); err != nil {
		return 0, err
	}
	if string(tb[:len(Magic)]) != Magic {
		return 0, fmt.Errorf("%w: bad trailer magic %q", ErrBadStream, tb[:len(Magic)])
	}
	if got, want := binary.BigEndian.Uint32(tb[len(Magic):]), rc.headers.Sum32(); got != want {
		return 0, fmt.Errorf("%w: trailer checksum %08x, want %08x", ErrBadStream, got, want)
	}

	// Children before parents, so every new entry is durable in its dir.
	for i := len(rc.dirs) - 1; i >= 0; i-- {
		if err := syncDir(rc.dirs[i]); err != nil {
			return 0, err
		}
	}
	if err := syncDir(filepath.Dir(rc.dir)); err != nil {
		return 0, err
	}
	rc.progress(true)
	return h.index, nil
}

// receiveFile reads file number i: its header, then its chunks into a new
// file under rc.dir.
func (rc *receiver) receiveFile(i uint32) error {
	var lb [2]byte
	if err := rc.readFull(lb[:], fmt.Sprintf("file %d header", i)); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint16(lb[:]))
	if n == 0 || n > MaxPathLen {
		return fmt.Errorf("%w: file %d: path length %d out of range [1, %d]", ErrBadStream, i, n, MaxPathLen)
	}
	fh := make([]byte, fileHeaderFix+n)
	copy(fh, lb[:])
	if err := rc.readFull(fh[2:], fmt.Sprintf("file %d header", i)); err != nil {
		return err
	}
	end := 2 + n + 8
	if got, want := binary.BigEndian.Uint32(fh[end:]), crc32.Checksum(fh[:end], castagnoli); got != want {
		return fmt.Errorf("%w: file %d header checksum %08x, want %08x", ErrBadStream, i, got, want)
	}
	rc.headers.Write(fh)
	name := string(fh[2 : 2+n])
	size := binary.BigEndian.Uint64(fh[2+n:])
	if err := validPath(name); err != nil {
		return fmt.Errorf("%w: file %d: %w", ErrBadStream, i, err)
	}
	if size > uint64(rc.total-rc.read) {
		return fmt.Errorf("%w: file %s: %d bytes overruns the announced total %d", ErrBadStream, name, size, rc.total)
	}
	if err := rc.claim(name); err != nil {
		return err
	}

	target := filepath.Join(rc.dir, filepath.FromSlash(name))
	if !strings.HasPrefix(target, rc.dir+string(filepath.Separator)) {
		return fmt.Errorf("%w: file %d: path %q escapes the directory", ErrBadStream, i, name)
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", target, err)
	}
	err = rc.receiveChunks(newWritebackFile(f), name, int64(size))
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fmt.Errorf("fsync %s: %w", target, err)
		}
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", target, cerr)
	}
	return err
}

// claim records name as a file, creating its parent directories, and refuses
// duplicates and file/directory clashes.
func (rc *receiver) claim(name string) error {
	if _, dup := rc.files[name]; dup {
		return fmt.Errorf("%w: %q appears twice or is also a directory", ErrBadStream, name)
	}
	parts := strings.Split(name, "/")
	for j := 1; j < len(parts); j++ {
		d := strings.Join(parts[:j], "/")
		isDir, seen := rc.files[d]
		if seen && !isDir {
			return fmt.Errorf("%w: %q is a file and a directory", ErrBadStream, d)
		}
		if seen {
			continue
		}
		abs := filepath.Join(rc.dir, filepath.FromSlash(d))
		if err := os.Mkdir(abs, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", abs, err)
		}
		rc.files[d] = true
		rc.dirs = append(rc.dirs, abs)
	}
	rc.files[name] = false
	return nil
}

// receiveChunks copies size bytes of checksummed chunks from the stream to
// w (the file name, for errors), ioStep bytes at a time: each piece is read,
// added to its chunk's checksum and written before the next, so receiving
// is a steady trickle of small steps, not a burst per chunk. A chunk whose
// checksum fails has been written already; Receive then removes the whole
// directory.
func (rc *receiver) receiveChunks(w io.Writer, name string, size int64) error {
	if rc.buf == nil {
		rc.buf = make([]byte, ioStep)
	}
	for remaining := size; remaining > 0; {
		n := min(remaining, int64(ChunkSize))
		var sum uint32
		for left := n; left > 0; {
			piece := rc.buf[:min(left, int64(len(rc.buf)))]
			if err := rc.readFull(piece, "file "+name); err != nil {
				return err
			}
			sum = crc32.Update(sum, castagnoli, piece)
			if _, err := w.Write(piece); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
			left -= int64(len(piece))
			rc.read += int64(len(piece))
			rc.progress(false)
		}
		var crc [chunkCRCLen]byte
		if err := rc.readFull(crc[:], "file "+name); err != nil {
			return err
		}
		if got := binary.BigEndian.Uint32(crc[:]); got != sum {
			return fmt.Errorf("%w: file %s at offset %d: chunk checksum %08x, want %08x", ErrBadStream, name, size-remaining, got, sum)
		}
		remaining -= n
	}
	return nil
}

// progress reports to the callback when forced or a step has passed.
func (rc *receiver) progress(force bool) {
	if rc.opts.Progress == nil {
		return
	}
	if force || rc.read-rc.reported >= progressStep {
		rc.reported = rc.read
		rc.opts.Progress(rc.read, rc.total)
	}
}

// syncDir fsyncs a directory so the entries created in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
