package wal

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const tinySegment = 256 // bytes: a few records per segment

func openTest(t *testing.T, dir string, opts Options) *File {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	f, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func closeTest(t *testing.T, f *File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// recordOffsets returns the byte offset of every record in a segment file.
func recordOffsets(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for off := 0; off < len(data); {
		_, n, err := decodeRecord(data[off:])
		if err != nil {
			t.Fatalf("%s offset %d: %v", path, off, err)
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}

// countingHandler counts log records by level and keeps their messages.
type countingHandler struct {
	mu   sync.Mutex
	msgs []string
	warn int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.msgs = append(h.msgs, b.String())
	if r.Level == slog.LevelWarn {
		h.warn++
	}
	return nil
}

func TestFileRoundTripAcrossSegmentsSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	f := openTest(t, dir, Options{SegmentSize: tinySegment, Sync: SyncNo})
	appendEntries(t, f, 500, 16)
	if n := len(f.segmentFiles()); n < 10 {
		t.Fatalf("%d segment files; want many with %d-byte segments", n, tinySegment)
	}
	onDisk, _ := listDir(dir)
	if len(onDisk.segs) != len(f.segmentFiles()) {
		t.Fatalf("tracking %d segments, directory holds %d", len(f.segmentFiles()), len(onDisk.segs))
	}
	checkEntries(t, f, 1, 500)
	closeTest(t, f)

	f = openTest(t, dir, Options{SegmentSize: tinySegment, Sync: SyncNo})
	checkBounds(t, f, 1, 500)
	checkEntries(t, f, 1, 500)
	if s := f.SyncedIndex(); s != 500 {
		t.Fatalf("SyncedIndex after reopen = %d, want 500", s)
	}
	appendEntries(t, f, 10, 3)
	checkEntries(t, f, 1, 510)
}

// buildLog writes a log whose last segment holds exactly tailRecords records
// and returns the last index.
func buildLog(t *testing.T, dir string, tailRecords int) uint64 {
	t.Helper()
	f := openTest(t, dir, Options{SegmentSize: tinySegment, Sync: SyncNo})
	appendEntries(t, f, 20, 5)
	for n := len(f.segmentFiles()); len(f.segmentFiles()) == n; { // until a new segment starts
		appendEntries(t, f, 1, 1)
	}
	appendEntries(t, f, tailRecords, 1)
	last := f.LastIndex()
	closeTest(t, f)
	return last
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	l, err := listDir(dir)
	if err != nil || len(l.segs) == 0 {
		t.Fatalf("list %s: %v", dir, err)
	}
	return segmentPath(dir, l.segs[len(l.segs)-1])
}

func TestFileTornTailAtEveryOffsetIsCut(t *testing.T) {
	for _, tail := range []int{1, 3} {
		t.Run(map[int]string{1: "only record of segment", 3: "third record"}[tail], func(t *testing.T) {
			pristine := t.TempDir()
			last := buildLog(t, pristine, tail)
			seg := lastSegment(t, pristine)
			whole, _ := os.ReadFile(seg)
			offs := recordOffsets(t, seg)
			start := offs[len(offs)-1]
			for cut := start; cut < len(whole); cut++ {
				dir := t.TempDir()
				copyDir(t, pristine, dir)
				tornPath := filepath.Join(dir, filepath.Base(seg))
				if err := os.WriteFile(tornPath, whole[:cut], 0o640); err != nil {
					t.Fatal(err)
				}
				h := &countingHandler{}
				f, err := Open(dir, Options{SegmentSize: tinySegment, Sync: SyncNo, Logger: slog.New(h)})
				if err != nil {
					t.Fatalf("cut at %d: Open: %v", cut, err)
				}
				wantWarn := 0
				if cut > start {
					wantWarn = 1
				}
				if h.warn != wantWarn {
					t.Fatalf("cut at %d: %d warnings %q, want %d", cut, h.warn, h.msgs, wantWarn)
				}
				if wantWarn == 1 && !strings.Contains(h.msgs[0], tornPath) {
					t.Fatalf("cut at %d: warning %q does not name %s", cut, h.msgs[0], tornPath)
				}
				if got, _ := os.Stat(tornPath); got.Size() != int64(start) {
					t.Fatalf("cut at %d: file is %d bytes, want %d", cut, got.Size(), start)
				}
				checkBounds(t, f, 1, last-1)
				checkEntries(t, f, 1, last-1)
				if err := f.Append(last, entriesFrom(last, 2)); err != nil {
					t.Fatalf("cut at %d: append after repair: %v", cut, err)
				}
				checkEntries(t, f, 1, last+1)
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFileZeroFilledTailIsCut(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(b []byte, lastRec int) []byte
		lost  uint64 // entries lost from the end
	}{
		{"zeros after last record", func(b []byte, _ int) []byte { return append(b, make([]byte, 4096)...) }, 0},
		{"last record zeroed past its length", func(b []byte, lastRec int) []byte {
			clear(b[lastRec+1:])
			return append(b, make([]byte, 100)...)
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			last := buildLog(t, dir, 3)
			seg := lastSegment(t, dir)
			b, _ := os.ReadFile(seg)
			offs := recordOffsets(t, seg)
			if err := os.WriteFile(seg, c.spoil(b, offs[len(offs)-1]), 0o640); err != nil {
				t.Fatal(err)
			}
			f := openTest(t, dir, Options{SegmentSize: tinySegment})
			checkBounds(t, f, 1, last-c.lost)
			checkEntries(t, f, 1, last-c.lost)
			appendEntries(t, f, 3, 3)
			checkEntries(t, f, 1, last-c.lost+3)
		})
	}
}

func TestFileDamageBeforeTheTailFailsOpen(t *testing.T) {
	cases := []struct {
		name string
		seg  func(l dirListing) uint64 // which segment to damage
		rec  func(n int) int           // which of its records
		at   func(recLen int) int      // which byte of the record
	}{
		{"payload byte in oldest segment", first, middle, lastByte},
		{"checksum byte in oldest segment", first, middle, func(int) int { return 2 }},
		{"length byte in oldest segment", first, middle, func(int) int { return 0 }},
		{"last byte of second-to-last segment", secondToLast, lastRec, lastByte},
		{"payload byte in last segment, valid records after", lastSeg, firstRec, lastByte},
		{"length byte in last segment, valid records after", lastSeg, firstRec, func(int) int { return 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			buildLog(t, dir, 3)
			l, _ := listDir(dir)
			path := segmentPath(dir, c.seg(l))
			offs := recordOffsets(t, path)
			b, _ := os.ReadFile(path)
			k := c.rec(len(offs))
			end := len(b)
			if k+1 < len(offs) {
				end = offs[k+1]
			}
			off := offs[k]
			b[off+c.at(end-off)] ^= 0x10
			if err := os.WriteFile(path, b, 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, Options{SegmentSize: tinySegment, Logger: discardLogger()})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != path || ce.Offset != int64(off) {
				t.Fatalf("Open = %v; want a CorruptError for %s offset %d", err, path, off)
			}
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Fatalf("error %q does not name the segment file", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
				t.Fatal("a failed Open changed the damaged file")
			}
		})
	}
}

func first(l dirListing) uint64        { return l.segs[0] }
func secondToLast(l dirListing) uint64 { return l.segs[len(l.segs)-2] }
func lastSeg(l dirListing) uint64      { return l.segs[len(l.segs)-1] }
func middle(n int) int                 { return n / 2 }
func firstRec(int) int                 { return 0 }
func lastRec(n int) int                { return n - 1 }
func lastByte(n int) int               { return n - 1 }

func TestFileMissingSegmentFailsOpen(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 2)
	l, _ := listDir(dir)
	if err := os.Remove(segmentPath(dir, l.segs[1])); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{SegmentSize: tinySegment, Logger: discardLogger()})
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.File != segmentPath(dir, l.segs[0]) {
		t.Fatalf("Open with a segment missing = %v; want CorruptError naming %s", err, segmentPath(dir, l.segs[0]))
	}
}

func TestFileReadReportsCorruptRecordWithFileAndOffset(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 2)
	f := openTest(t, dir, Options{SegmentSize: tinySegment})
	// tidwall/wal loads older segments from disk on first read: damage one now.
	path := segmentPath(dir, 1)
	offs := recordOffsets(t, path)
	b, _ := os.ReadFile(path)
	b[offs[2]+5] ^= 0xff
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Read":     readErr(f.Read(3)),
		"ReadFrom": readsErr(f.ReadFrom(1, 1<<20)),
	} {
		var ce *CorruptError
		if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.File != path || ce.Offset != int64(offs[2]) {
			t.Errorf("%s = %v; want CorruptError at %s offset %d", name, err, path, offs[2])
		}
	}
	if got, err := f.Read(2); err != nil || !bytes.Equal(got, entryAt(2)) {
		t.Fatalf("Read(2) beside the damage = %q, %v", got, err)
	}
}

func TestFileResetSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	f := openTest(t, dir, Options{SegmentSize: tinySegment})
	appendEntries(t, f, 100, 10)
	if err := f.Reset(1000); err != nil {
		t.Fatal(err)
	}
	checkBounds(t, f, 1000, 999)
	if s := f.SyncedIndex(); s != 999 {
		t.Fatalf("SyncedIndex after Reset(1000) = %d, want 999", s)
	}
	closeTest(t, f)

	f = openTest(t, dir, Options{SegmentSize: tinySegment})
	checkBounds(t, f, 1000, 999)
	appendEntries(t, f, 50, 10)
	closeTest(t, f)

	f = openTest(t, dir, Options{SegmentSize: tinySegment})
	checkBounds(t, f, 1000, 1049)
	checkEntries(t, f, 1000, 1049)
}

func TestFileInterruptedResetIsFinishedByOpen(t *testing.T) {
	dir := t.TempDir()
	buildLog(t, dir, 2)
	// A crash right after the marker became durable.
	if err := createEmptyFile(segmentPath(dir, 77) + resetSuffix); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000001.START.TEMP"), []byte("junk"), 0o640); err != nil {
		t.Fatal(err)
	}
	f := openTest(t, dir, Options{SegmentSize: tinySegment})
	checkBounds(t, f, 77, 76)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != segmentName(77) {
		t.Fatalf("directory after Open = %v; want only %s", ents, segmentName(77))
	}
}

func TestFileTruncateFrontRemovesWholeSegments(t *testing.T) {
	dir := t.TempDir()
	f := openTest(t, dir, Options{SegmentSize: tinySegment, Sync: SyncNo})
	appendEntries(t, f, 300, 10)
	before := f.segmentFiles()
	if err := f.TruncateFront(200); err != nil {
		t.Fatal(err)
	}
	checkBounds(t, f, 200, 300)
	l, _ := listDir(dir)
	if len(l.segs) >= len(before) || l.segs[0] > 200 {
		t.Fatalf("segments after TruncateFront(200) = %v (before %d files); want fewer, first <= 200", l.segs, len(before))
	}
	if len(l.segs) > 1 && l.segs[1] <= 200 {
		t.Fatalf("segment %d lies wholly below 200 but was kept", l.segs[0])
	}
	closeTest(t, f)

	f = openTest(t, dir, Options{SegmentSize: tinySegment, Sync: SyncNo})
	if fi := f.FirstIndex(); fi > 200 || fi != l.segs[0] {
		t.Fatalf("FirstIndex after reopen = %d; want the kept segment's first index %d (<= 200)", fi, l.segs[0])
	}
	checkEntries(t, f, f.FirstIndex(), 300)
}

func TestFileSyncPolicies(t *testing.T) {
	t.Run("always", func(t *testing.T) {
		f := openTest(t, t.TempDir(), Options{SegmentSize: tinySegment, Sync: SyncAlways})
		for i := 0; i < 30; i++ {
			appendEntries(t, f, 4, 4)
			if s, l := f.SyncedIndex(), f.LastIndex(); s != l {
				t.Fatalf("SyncAlways: SyncedIndex %d != LastIndex %d after Append", s, l)
			}
		}
	})
	t.Run("no", func(t *testing.T) {
		f := openTest(t, t.TempDir(), Options{SegmentSize: tinySegment, Sync: SyncNo})
		appendEntries(t, f, 40, 4)
		if s := f.SyncedIndex(); s != 0 {
			t.Fatalf("SyncNo: SyncedIndex %d before Sync, want 0", s)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if s := f.SyncedIndex(); s != 40 {
			t.Fatalf("SyncNo: SyncedIndex %d after Sync, want 40", s)
		}
	})
	t.Run("everysec", func(t *testing.T) {
		f := openTest(t, t.TempDir(), Options{SegmentSize: tinySegment})
		appendEntries(t, f, 40, 4)
		for deadline := time.Now().Add(10 * time.Second); f.SyncedIndex() != 40; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("SyncEverySec: SyncedIndex stuck at %d, want 40", f.SyncedIndex())
			}
		}
		closeTest(t, f)
		select {
		case <-f.syncerDone:
		default:
			t.Fatal("background fsync goroutine still running after Close")
		}
	})
}

// TestFileSyncPolicyChangesAtRunTime: appendfsync set with CONFIG SET.
// A log opened under "no" fsyncs nothing by itself; switched to "always",
// its next Append returns with everything synced, what came before too;
// switched to "everysec", its background fsync catches up within a
// second or so; back at "no", it leaves the tail alone again.
func TestFileSyncPolicyChangesAtRunTime(t *testing.T) {
	f := openTest(t, t.TempDir(), Options{SegmentSize: tinySegment, Sync: SyncNo})
	appendEntries(t, f, 20, 4)
	time.Sleep(1500 * time.Millisecond) // past a tick of the background fsync: it must not run
	if s := f.SyncedIndex(); s != 0 {
		t.Fatalf("SyncNo: SyncedIndex %d, want 0", s)
	}
	f.SetSyncPolicy(SyncAlways)
	appendEntries(t, f, 4, 4)
	if s := f.SyncedIndex(); s != 24 {
		t.Fatalf("SyncAlways after SyncNo: SyncedIndex %d after Append, want 24", s)
	}
	f.SetSyncPolicy(SyncEverySec)
	appendEntries(t, f, 16, 4)
	for deadline := time.Now().Add(10 * time.Second); f.SyncedIndex() != 40; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("SyncEverySec after SyncAlways: SyncedIndex stuck at %d, want 40", f.SyncedIndex())
		}
	}
	f.SetSyncPolicy(SyncNo)
	appendEntries(t, f, 4, 4)
	time.Sleep(1500 * time.Millisecond)
	if s := f.SyncedIndex(); s != 40 {
		t.Fatalf("SyncNo again: SyncedIndex %d, want 40", s)
	}
}

// TestFileConcurrentReadersWriterAndTruncation is meant for -race: one
// appender, four readers (Read, ReadFrom, Wait) and a retention loop.
func TestFileConcurrentReadersWriterAndTruncation(t *testing.T) {
	f := openTest(t, t.TempDir(), Options{SegmentSize: 4096, Sync: SyncNo})
	const total = 6000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
		cancel()
	}
	// Readers: every entry they get must be the right one; ErrCompacted is
	// the only acceptable miss (retention ran ahead).
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			next := uint64(1)
			for next <= total && ctx.Err() == nil {
				if _, err := f.Wait(ctx, next-1); err != nil {
					if ctx.Err() == nil {
						report(err)
					}
					return
				}
				var got [][]byte
				var err error
				if r%2 == 0 {
					got, err = f.ReadFrom(next, 512)
				} else {
					var e []byte
					e, err = f.Read(next)
					got = [][]byte{e}
				}
				if errors.Is(err, ErrCompacted) {
					next = f.FirstIndex()
					continue
				}
				if err != nil {
					report(err)
					return
				}
				for k, e := range got {
					if !bytes.Equal(e, entryAt(next+uint64(k))) {
						report(errors.New("reader got a wrong entry"))
						return
					}
				}
				next += uint64(len(got))
			}
		}(r)
	}
	wg.Add(1)
	go func() { // retention: keep the last 500 entries
		defer wg.Done()
		for ctx.Err() == nil {
			// Past total-1 no append would ever wake the wait.
			last, err := f.Wait(ctx, min(f.FirstIndex()+600, total-1))
			if err != nil {
				return
			}
			if err := f.TruncateFront(last - 500); err != nil {
				report(err)
				return
			}
			if last >= total {
				return
			}
		}
	}()
	for f.LastIndex() < total && ctx.Err() == nil {
		first := f.LastIndex() + 1
		if err := f.Append(first, entriesFrom(first, int(min(16, total-first+1)))); err != nil {
			report(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkEntries(t, f, f.FirstIndex(), total)
}
