package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// assertNothingLeft fails unless dir is empty.
func assertNothingLeft(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries after a failed Receive (first %q)", dir, len(entries), entries[0].Name())
	}
}

func TestReceiveRejectsCorruptStream(t *testing.T) {
	stream := smallStream(t)
	firstPathLen := int(binary.BigEndian.Uint16(stream[headerLen:]))
	firstData := headerLen + fileHeaderFix + firstPathLen
	named := map[string]int{
		"magic":             0,
		"version":           len(Magic) + 3,
		"index":             len(Magic) + 11,
		"total":             len(Magic) + 19,
		"count":             len(Magic) + 23,
		"header crc":        headerLen - 1,
		"first path length": headerLen + 1,
		"first path":        headerLen + 2,
		"first size":        headerLen + 2 + firstPathLen + 7,
		"first data":        firstData,
		"trailer magic":     len(stream) - trailerLen,
		"trailer crc":       len(stream) - 1,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 24; i++ {
		named[fmt.Sprintf("random %d", i)] = rng.IntN(len(stream))
	}

	for name, off := range named {
		t.Run("flip "+name, func(t *testing.T) {
			bad := bytes.Clone(stream)
			bad[off] ^= 0x20
			parent := t.TempDir()
			if _, _, err := Receive(bytes.NewReader(bad), parent, nil); !errors.Is(err, ErrBadStream) {
				t.Fatalf("flip at %d/%d: err %v, want ErrBadStream", off, len(stream), err)
			}
			assertNothingLeft(t, parent)
		})
		t.Run("truncate "+name, func(t *testing.T) {
			parent := t.TempDir()
			_, _, err := Receive(bytes.NewReader(stream[:off]), parent, nil)
			if !errors.Is(err, ErrBadStream) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("truncated at %d/%d: err %v, want ErrBadStream and io.ErrUnexpectedEOF", off, len(stream), err)
			}
			assertNothingLeft(t, parent)
		})
	}
}

// failingReader returns err after n bytes.
type failingReader struct {
	r   io.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestReceivePassesThroughReadErrors(t *testing.T) {
	stream := smallStream(t)
	cause := errors.New("connection reset")
	parent := t.TempDir()
	_, _, err := Receive(&failingReader{r: bytes.NewReader(stream), n: len(stream) / 2, err: cause}, parent, nil)
	if !errors.Is(err, cause) || errors.Is(err, ErrBadStream) {
		t.Fatalf("err %v, want the reader's error and not ErrBadStream", err)
	}
	assertNothingLeft(t, parent)
}

func TestReceiveRejectsHostileStreams(t *testing.T) {
	data := []byte("data")
	withHeader := func(h streamHeader) []byte { return h.marshal() }
	cases := []struct {
		name   string
		stream []byte
	}{
		{"empty", nil},
		{"parent escape", encodeTestStream(1, 0, []testFile{{name: "../evil", data: data}})},
		{"nested escape", encodeTestStream(1, 0, []testFile{{name: "a/../../evil", data: data}})},
		{"absolute path", encodeTestStream(1, 0, []testFile{{name: "/tmp/evil", data: data}})},
		{"dot element", encodeTestStream(1, 0, []testFile{{name: "./x", data: data}})},
		{"backslash", encodeTestStream(1, 0, []testFile{{name: `..\evil`, data: data}})},
		{"NUL", encodeTestStream(1, 0, []testFile{{name: "a\x00b", data: data}})},
		{"empty path", encodeTestStream(1, 0, []testFile{{name: "", data: data}})},
		{"trailing slash", encodeTestStream(1, 0, []testFile{{name: "dir/", data: data}})},
		{"path too long", encodeTestStream(1, 0, []testFile{{name: string(bytes.Repeat([]byte("a"), MaxPathLen+1)), data: data}})},
		{"duplicate file", encodeTestStream(1, 0, []testFile{{name: "x", data: data}, {name: "x", data: data}})},
		{"file then dir", encodeTestStream(1, 0, []testFile{{name: "x", data: data}, {name: "x/y", data: data}})},
		{"dir then file", encodeTestStream(1, 0, []testFile{{name: "x/y", data: data}, {name: "x", data: data}})},
		{"file larger than total", encodeTestStream(1, 3, []testFile{{name: "x", data: data}})},
		{"files short of total", encodeTestStream(1, 100, []testFile{{name: "x", data: data}})},
		{"huge file, no data", encodeTestStream(1, 0, []testFile{{name: "x", size: 1 << 40}})},
		{"too many files", withHeader(streamHeader{version: FormatVersion, count: MaxFiles + 1})},
		{"payload too large", withHeader(streamHeader{version: FormatVersion, total: MaxPayload + 1, count: 1})},
		{"unknown version", withHeader(streamHeader{version: FormatVersion + 1})},
		{"count exceeds files", withHeader(streamHeader{version: FormatVersion, count: 3})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			parent := filepath.Join(base, "parent")
			if err := os.Mkdir(parent, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Receive(bytes.NewReader(tc.stream), parent, nil); !errors.Is(err, ErrBadStream) {
				t.Fatalf("err %v, want ErrBadStream", err)
			}
			assertNothingLeft(t, parent)
			if entries, _ := os.ReadDir(base); len(entries) != 1 {
				t.Errorf("Receive wrote outside parent: %d entries beside it", len(entries)-1)
			}
		})
	}
}

func TestReceiveHonoursMaxPayloadOption(t *testing.T) {
	stream := encodeTestStream(9, 0, []testFile{{name: "x", data: make([]byte, 100)}})
	parent := t.TempDir()
	if _, _, err := ReceiveWith(bytes.NewReader(stream), parent, ReceiveOptions{MaxPayload: 99}); !errors.Is(err, ErrBadStream) {
		t.Fatalf("err %v, want ErrBadStream for a payload over the limit", err)
	}
	assertNothingLeft(t, parent)
	if _, index, err := ReceiveWith(bytes.NewReader(stream), parent, ReceiveOptions{MaxPayload: 100}); err != nil || index != 9 {
		t.Fatalf("payload at the limit: index %d, err %v", index, err)
	}
}

func TestReceiveWritesNestedFilesAndReadsNoBytePastTrailer(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), (ChunkSize*2+100)/16) // three chunks
	files := []testFile{
		{name: "empty", data: nil},
		{name: "sub/dir/file", data: []byte("nested")},
		{name: "big", data: big},
	}
	stream := encodeTestStream(42, 0, files)
	r := bytes.NewReader(append(bytes.Clone(stream), "NEXT"...))

	var calls [][2]int64
	dir, index, err := Receive(r, t.TempDir(), func(read, total int64) { calls = append(calls, [2]int64{read, total}) })
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if index != 42 {
		t.Errorf("index %d, want 42", index)
	}
	if rest := remaining(r); string(rest) != "NEXT" {
		t.Errorf("bytes left after the stream: %q, want %q", rest, "NEXT")
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.name)))
		if err != nil || !bytes.Equal(got, f.data) {
			t.Errorf("file %s: %d bytes, err %v; want %d bytes", f.name, len(got), err, len(f.data))
		}
	}

	total := int64(len(big) + len("nested"))
	if len(calls) < 3 || len(calls) > 6 {
		t.Errorf("%d progress calls for %d bytes, want one at start, ~one per MiB, one at end: %v", len(calls), total, calls)
	}
	for i, c := range calls {
		if c[1] != total || (i > 0 && c[0] < calls[i-1][0]) {
			t.Fatalf("progress calls %v: want total %d, non-decreasing reads", calls, total)
		}
	}
	if last := calls[len(calls)-1]; last[0] != total {
		t.Errorf("last progress %v, want read == total", last)
	}
}

func TestValidPath(t *testing.T) {
	cases := []struct {
		path string
		ok   bool
	}{
		{"000001.sst", true},
		{"MANIFEST-000001", true},
		{"a/b/c", true},
		{"..data", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../a", false},
		{"a/..", false},
		{"a/../b", false},
		{"/a", false},
		{"a//b", false},
		{"a/", false},
		{"./a", false},
		{`a\b`, false},
		{"a\x00", false},
		{string(bytes.Repeat([]byte("a"), MaxPathLen)), true},
		{string(bytes.Repeat([]byte("a"), MaxPathLen+1)), false},
	}
	for _, tc := range cases {
		if err := validPath(tc.path); (err == nil) != tc.ok {
			t.Errorf("validPath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}

// FuzzReceive feeds arbitrary bytes to Receive: it must not panic, must leave
// nothing behind on failure, must write nowhere but its temp dir, and must
// allocate within a bound that does not depend on sizes claimed by the input.
func FuzzReceive(f *testing.F) {
	valid := smallStream(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte(Magic))
	f.Add(encodeTestStream(3, 0, []testFile{{name: "a/b", data: []byte("hi")}, {name: "c", data: nil}}))
	f.Add(encodeTestStream(3, 0, []testFile{{name: "../x", data: []byte("hi")}}))
	f.Add(encodeTestStream(3, 0, []testFile{{name: "x", size: 1 << 40}}))

	f.Fuzz(func(t *testing.T, data []byte) {
		base := t.TempDir()
		parent := filepath.Join(base, "parent")
		if err := os.Mkdir(parent, 0o755); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		dir, _, err := Receive(bytes.NewReader(data), parent, nil)
		runtime.ReadMemStats(&after)

		// One chunk buffer, path buffers and bookkeeping proportional to input.
		if limit := uint64(4<<20 + 64*len(data)); after.TotalAlloc-before.TotalAlloc > limit {
			t.Errorf("Receive of %d bytes allocated %d bytes, limit %d", len(data), after.TotalAlloc-before.TotalAlloc, limit)
		}
		if entries, _ := os.ReadDir(base); len(entries) != 1 {
			t.Errorf("Receive wrote outside parent")
		}
		entries, _ := os.ReadDir(parent)
		if err != nil {
			if len(entries) != 0 {
				t.Errorf("failed Receive (%v) left %d entries", err, len(entries))
			}
			return
		}
		if len(entries) != 1 || filepath.Join(parent, entries[0].Name()) != dir {
			t.Errorf("successful Receive returned %s; parent holds %d entries", dir, len(entries))
		}
	})
}

// BenchmarkStreamReceive streams a 100k-key checkpoint through an io.Pipe
// into Receive (fsyncs included); MB/s is of checkpoint payload.
func BenchmarkStreamReceive(b *testing.B) {
	fs, dir := vfs.Default, b.TempDir()
	db := openTestDB(b, fs, dir, 0)
	// 100k keys of 16 B with random (incompressible) 100 B values.
	rng := rand.New(rand.NewPCG(3, 4))
	value := make([]byte, 100)
	for i := 0; i < 100_000; i += 1000 {
		batch := db.NewBatch()
		for j := i; j < i+1000; j++ {
			for k := range value {
				value[k] = byte(rng.Uint32())
			}
			if err := batch.Set(fmt.Appendf(nil, "key:%012d", j), value, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
	}
	m := newTestManager(b, db, fs, dir, time.Hour)
	cp, err := m.Acquire()
	if err != nil {
		b.Fatal(err)
	}
	defer cp.Release()
	parent := b.TempDir()
	b.SetBytes(cp.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pr, pw := io.Pipe()
		go func() { // ends when WriteTo returns; Receive drains the pipe
			_, err := cp.WriteTo(pw)
			pw.CloseWithError(err)
		}()
		got, _, err := Receive(pr, parent, nil)
		pr.Close() // unblocks the writer if Receive stopped early
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(got)
		b.StartTimer()
	}
}

// stepRecorder records the size of every Read or Write call.
type stepRecorder struct {
	r     io.Reader
	buf   bytes.Buffer
	calls []int
}

func (s *stepRecorder) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.calls = append(s.calls, len(p))
	return n, err
}

func (s *stepRecorder) Write(p []byte) (int, error) {
	s.calls = append(s.calls, len(p))
	return s.buf.Write(p)
}

func TestChunksMoveOneStepAtATime(t *testing.T) {
	data := make([]byte, ChunkSize+ChunkSize/2+7) // a whole chunk, then a short one
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	bounded := func(t *testing.T, what string, calls []int) {
		t.Helper()
		if len(calls) < len(data)/ioStep {
			t.Errorf("%d %s calls for %d bytes; want at least %d", len(calls), what, len(data), len(data)/ioStep)
		}
		for _, n := range calls {
			if n > ioStep {
				t.Fatalf("a %s call of %d bytes; at most %d allowed", what, n, ioStep)
			}
		}
	}
	src := &stepRecorder{r: bytes.NewReader(data)}
	var stream stepRecorder
	if err := sendChunks(&stream, src, "f", int64(len(data)), make([]byte, ioStep)); err != nil {
		t.Fatal(err)
	}
	bounded(t, "file read", src.calls)
	bounded(t, "stream write", stream.calls)
	if want := len(data) + 2*chunkCRCLen; stream.buf.Len() != want {
		t.Fatalf("stream of %d bytes; want the data and two checksums, %d", stream.buf.Len(), want)
	}

	receive := func(stream []byte) (*stepRecorder, error) {
		dst := &stepRecorder{}
		rc := &receiver{r: bytes.NewReader(stream)}
		return dst, rc.receiveChunks(dst, "f", int64(len(data)))
	}
	dst, err := receive(stream.buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.buf.Bytes(), data) {
		t.Fatal("the bytes received differ from the bytes sent")
	}
	bounded(t, "file write", dst.calls)

	bad := bytes.Clone(stream.buf.Bytes())
	bad[ChunkSize+chunkCRCLen+5] ^= 1 // in the second chunk
	if _, err := receive(bad); !errors.Is(err, ErrBadStream) || !strings.Contains(err.Error(), "at offset 1048576") {
		t.Fatalf("a flipped bit in the second chunk: %v; want ErrBadStream at offset 1048576", err)
	}
}
