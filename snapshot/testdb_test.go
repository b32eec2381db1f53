package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// The test database stands in for the engine: data keys plus an
// "applied_index" key (8-byte big-endian) written in the same batch.
const appliedKey = "applied_index"

var discardLogger = slog.New(slog.DiscardHandler)

// fsCase names a filesystem a test runs on.
type fsCase struct {
	name string
	fs   func(t testing.TB) (vfs.FS, string)
}

var fsCases = []fsCase{
	{"disk", func(t testing.TB) (vfs.FS, string) { return vfs.Default, t.TempDir() }},
	{"mem", func(t testing.TB) (vfs.FS, string) { return vfs.NewMem(), "/db" }},
}

// openTestDB opens a Pebble DB the way the engine does: its own WAL off.
func openTestDB(t testing.TB, fs vfs.FS, dir string, memTable uint64) *pebble.DB {
	t.Helper()
	opts := &pebble.Options{FS: fs, DisableWAL: true}
	if memTable > 0 {
		opts.MemTableSize = memTable
	}
	db, err := pebble.Open(fs.PathJoin(dir, "data"), opts)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readAppliedIndex is the ReadIndex hook: open the checkpoint read-only and
// read applied_index (0 when absent).
func readAppliedIndex(fs vfs.FS, dir string) (uint64, error) {
	db, err := pebble.Open(dir, &pebble.Options{FS: fs, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer db.Close()
	v, closer, err := db.Get([]byte(appliedKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("applied_index is %d bytes", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// writeBatch writes keys k/<index>/<j> for j < n plus applied_index=index in
// one batch, as the engine's committer does for one group.
func writeBatch(db *pebble.DB, index uint64, n int, value []byte) error {
	b := db.NewBatch()
	for j := 0; j < n; j++ {
		if err := b.Set(fmt.Appendf(nil, "k/%08d/%d", index, j), value, nil); err != nil {
			return err
		}
	}
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], index)
	if err := b.Set([]byte(appliedKey), idx[:], nil); err != nil {
		return err
	}
	return b.Commit(pebble.NoSync)
}

// dumpDB returns every key and value of the DB at dir on fs.
func dumpDB(t testing.TB, fs vfs.FS, dir string) map[string]string {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{FS: fs, ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	defer db.Close()
	return dumpLive(t, db)
}

func dumpLive(t testing.TB, db *pebble.DB) map[string]string {
	t.Helper()
	it, err := db.NewIter(nil)
	if err != nil {
		t.Fatalf("iter: %v", err)
	}
	defer it.Close()
	kv := make(map[string]string)
	for it.First(); it.Valid(); it.Next() {
		kv[string(it.Key())] = string(it.Value())
	}
	if err := it.Error(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return kv
}

// newTestManager returns a Manager over db, closed at cleanup.
func newTestManager(t testing.TB, db *pebble.DB, fs vfs.FS, dir string, maxAge time.Duration) *Manager {
	t.Helper()
	m, err := NewManagerWithOptions(Source{
		DB: db, FS: fs, Dir: fs.PathJoin(dir, "checkpoints"), ReadIndex: readAppliedIndex,
	}, ManagerOptions{MaxAge: maxAge, Logger: discardLogger})
	if err != nil {
		t.Fatalf("new manager: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close manager: %v", err)
		}
	})
	return m
}

// streamOf returns the stream of cp.
func streamOf(t testing.TB, cp *Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := cp.WriteTo(&buf)
	if err != nil {
		t.Fatalf("write stream: %v", err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

// smallStream builds a DB on a MemFS with a few keys and returns its stream.
func smallStream(t testing.TB) []byte {
	t.Helper()
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	value := bytes.Repeat([]byte("v"), 40)
	for i := uint64(1); i <= 20; i++ {
		if err := writeBatch(db, i, 3, value); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	m := newTestManager(t, db, fs, "/db", time.Minute)
	cp, err := m.Acquire()
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer cp.Release()
	return streamOf(t, cp)
}

// testFile is one file of a hand-built stream.
type testFile struct {
	name string
	data []byte
	size uint64 // announced size; len(data) when 0 and data is set
}

// encodeTestStream builds a stream with valid checksums from files, so tests
// reach the receiver's semantic checks. total 0 means the sum of sizes.
func encodeTestStream(index, total uint64, files []testFile) []byte {
	var sum uint64
	for i := range files {
		if files[i].size == 0 {
			files[i].size = uint64(len(files[i].data))
		}
		sum += files[i].size
	}
	if total == 0 {
		total = sum
	}
	var out bytes.Buffer
	hdr := streamHeader{version: FormatVersion, index: index, total: total, count: uint32(len(files))}.marshal()
	headers := crcOf(nil, hdr)
	out.Write(hdr)
	for _, f := range files {
		fh := marshalFileHeader(f.name, f.size)
		headers = crcOf(headers, fh)
		out.Write(fh)
		for data := f.data; len(data) > 0; {
			n := min(len(data), ChunkSize)
			out.Write(data[:n])
			out.Write(binary.BigEndian.AppendUint32(nil, crc32c(data[:n])))
			data = data[n:]
		}
	}
	out.WriteString(Magic)
	out.Write(binary.BigEndian.AppendUint32(nil, crc32c(headers)))
	return out.Bytes()
}

// crcOf accumulates header bytes; crc32c of the result is the trailer CRC.
func crcOf(acc, b []byte) []byte { return append(acc, b...) }

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// remaining returns what is left unread in r.
func remaining(r io.Reader) []byte {
	b, _ := io.ReadAll(r)
	return b
}
