package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// entryAt is the test payload stored at index i: recognisable and of varying
// length.
func entryAt(i uint64) []byte {
	return fmt.Appendf(nil, "entry-%d-%s", i, bytes.Repeat([]byte{'x'}, int(i%13)))
}

func entriesFrom(first uint64, n int) [][]byte {
	out := make([][]byte, n)
	for k := range out {
		out[k] = entryAt(first + uint64(k))
	}
	return out
}

// appendEntries appends n entries in batches of batch, from LastIndex()+1.
func appendEntries(t testing.TB, l Log, n, batch int) {
	t.Helper()
	for n > 0 {
		k := min(batch, n)
		first := l.LastIndex() + 1
		if err := l.Append(first, entriesFrom(first, k)); err != nil {
			t.Fatalf("append %d entries at %d: %v", k, first, err)
		}
		n -= k
	}
}

func checkEntries(t testing.TB, l Log, from, to uint64) {
	t.Helper()
	for i := from; i <= to; i++ {
		got, err := l.Read(i)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !bytes.Equal(got, entryAt(i)) {
			t.Fatalf("read %d = %q, want %q", i, got, entryAt(i))
		}
	}
}

// logMaker builds one implementation for the shared behaviour tests.
type logMaker struct {
	name string
	make func(t *testing.T) Log
}

func logMakers() []logMaker {
	return []logMaker{
		{"File", func(t *testing.T) Log {
			f, err := Open(t.TempDir(), Options{SegmentSize: 512, Sync: SyncNo, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
		{"FileSyncAlways", func(t *testing.T) Log {
			f, err := Open(t.TempDir(), Options{SegmentSize: 512, Sync: SyncAlways, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		}},
		{"Ring", func(t *testing.T) Log {
			r := NewRing(1 << 20)
			t.Cleanup(func() { r.Close() })
			return r
		}},
	}
}

func forEachLog(t *testing.T, test func(t *testing.T, l Log)) {
	for _, m := range logMakers() {
		t.Run(m.name, func(t *testing.T) { test(t, m.make(t)) })
	}
}

func checkBounds(t testing.TB, l Log, first, last uint64) {
	t.Helper()
	if f, la := l.FirstIndex(), l.LastIndex(); f != first || la != last {
		t.Fatalf("First/Last = %d/%d, want %d/%d", f, la, first, last)
	}
}

func TestLogNewIsEmptyFromOne(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		checkBounds(t, l, 1, 0)
		got, err := l.ReadFrom(1, 100)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("ReadFrom(1) on empty log = %v, %v; want empty non-nil slice", got, err)
		}
	})
}

func TestLogAppendReadRoundTrip(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 300, 7)
		checkBounds(t, l, 1, 300)
		checkEntries(t, l, 1, 300)
		got, err := l.ReadFrom(1, 1<<30)
		if err != nil || len(got) != 300 {
			t.Fatalf("ReadFrom(1, big) = %d entries, %v; want 300", len(got), err)
		}
		for k, e := range got {
			if !bytes.Equal(e, entryAt(uint64(k+1))) {
				t.Fatalf("ReadFrom entry %d = %q", k+1, e)
			}
		}
	})
}

func TestLogAppendCopiesAndReadReturnsPrivateCopies(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		buf := []byte("original")
		if err := l.Append(1, [][]byte{buf}); err != nil {
			t.Fatal(err)
		}
		copy(buf, "CLOBBER!")
		got, _ := l.Read(1)
		copy(got, "mutated!")
		again, err := l.Read(1)
		if err != nil || string(again) != "original" {
			t.Fatalf("Read(1) = %q, %v; want %q", again, err, "original")
		}
	})
}

func TestLogRejectsIndexesOutsideTheLog(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 50, 10)
		if err := l.TruncateFront(20); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			err  error
			want error
		}{
			{"append gap", l.Append(52, entriesFrom(52, 1)), ErrOutOfOrder},
			{"append overlap", l.Append(50, entriesFrom(50, 1)), ErrOutOfOrder},
			{"read below first", readErr(l.Read(19)), ErrCompacted},
			{"read above last", readErr(l.Read(51)), ErrNotFound},
			{"read from below first", readsErr(l.ReadFrom(1, 10)), ErrCompacted},
			{"read from past next", readsErr(l.ReadFrom(52, 10)), ErrNotFound},
			{"truncate past next", l.TruncateFront(52), ErrNotFound},
		}
		for _, c := range cases {
			if !errors.Is(c.err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
			}
		}
		checkBounds(t, l, 20, 50)
		checkEntries(t, l, 20, 50)
	})
}

func readErr(_ []byte, err error) error    { return err }
func readsErr(_ [][]byte, err error) error { return err }

func TestLogReadFromRespectsMaxBytes(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		for i := uint64(1); i <= 10; i++ {
			if err := l.Append(i, [][]byte{bytes.Repeat([]byte{byte('a' + i)}, 10)}); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			from     uint64
			maxBytes int
			want     int
		}{
			{1, 0, 1},    // always at least one
			{1, 9, 1},    // even if it alone exceeds
			{1, 10, 1},   // exactly one
			{1, 29, 2},   // never over the bound after the first
			{1, 30, 3},   // exactly three
			{8, 1000, 3}, // stops at the last index
			{11, 1000, 0},
		}
		for _, c := range cases {
			got, err := l.ReadFrom(c.from, c.maxBytes)
			if err != nil || len(got) != c.want {
				t.Errorf("ReadFrom(%d, %d) = %d entries, %v; want %d", c.from, c.maxBytes, len(got), err, c.want)
			}
			for k, e := range got {
				if e[0] != byte('a'+c.from+uint64(k)) {
					t.Errorf("ReadFrom(%d, %d)[%d] = %q: wrong entry", c.from, c.maxBytes, k, e)
				}
			}
		}
	})
}

func TestLogTruncateFront(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 100, 9)
		steps := []struct {
			index       uint64
			first, last uint64
		}{
			{1, 1, 100},   // no-op at first
			{40, 40, 100}, // drops 1..39
			{30, 40, 100}, // below first: no-op
			{100, 100, 100},
			{101, 101, 100}, // everything: empty, next index kept
		}
		for _, s := range steps {
			if err := l.TruncateFront(s.index); err != nil {
				t.Fatalf("TruncateFront(%d): %v", s.index, err)
			}
			checkBounds(t, l, s.first, s.last)
			checkEntries(t, l, s.first, s.last)
		}
		appendEntries(t, l, 5, 5)
		checkBounds(t, l, 101, 105)
		checkEntries(t, l, 101, 105)
	})
}

func TestLogResetStartsAtAnyIndex(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 20, 4)
		for _, next := range []uint64{1000, 5, 1} { // forward, backward, to the start
			if err := l.Reset(next); err != nil {
				t.Fatalf("Reset(%d): %v", next, err)
			}
			checkBounds(t, l, next, next-1)
			if _, err := l.Read(next); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Read(%d) after reset: %v, want ErrNotFound", next, err)
			}
			if err := l.Append(next, entriesFrom(next, 3)); err != nil {
				t.Fatalf("Append(%d) after Reset(%d): %v", next, next, err)
			}
			checkBounds(t, l, next, next+2)
			checkEntries(t, l, next, next+2)
			if s := l.SyncedIndex(); s > next+2 {
				t.Fatalf("SyncedIndex %d above LastIndex %d after reset", s, next+2)
			}
		}
		if err := l.Reset(0); err == nil {
			t.Fatal("Reset(0) succeeded; index 0 is not valid")
		}
	})
}

// waitResult is what a Wait call in a goroutine returned.
type waitResult struct {
	last uint64
	err  error
}

func startWait(ctx context.Context, l Log, after uint64) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		last, err := l.Wait(ctx, after)
		ch <- waitResult{last, err}
	}()
	return ch
}

func awaitResult(t *testing.T, ch <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return")
		return waitResult{}
	}
}

// awaitWaiter polls until a Wait call sleeps on l.
func awaitWaiter(t *testing.T, l Log) {
	t.Helper()
	armed := func() bool {
		switch l := l.(type) {
		case *File:
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.signal.ch != nil
		case *Ring:
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.signal.ch != nil
		}
		t.Fatalf("unknown log %T", l)
		return false
	}
	for deadline := time.Now().Add(10 * time.Second); !armed(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no Wait call went to sleep")
		}
	}
}

func TestLogWaitReturnsAtOnceWhenAhead(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 3, 3)
		last, err := l.Wait(context.Background(), 1)
		if err != nil || last != 3 {
			t.Fatalf("Wait(1) = %d, %v; want 3", last, err)
		}
	})
}

func TestLogWaitWakesOnAppend(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		ch := startWait(context.Background(), l, 0)
		appendEntries(t, l, 2, 2)
		if r := awaitResult(t, ch); r.err != nil || r.last < 1 {
			t.Fatalf("Wait(0) = %+v; want last >= 1", r)
		}
	})
}

func TestLogWaitWakesOnReset(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 10, 10)
		ch := startWait(context.Background(), l, 10)
		awaitWaiter(t, l)                  // else Wait could start after the reset and rightly sleep
		if err := l.Reset(5); err != nil { // LastIndex goes down to 4
			t.Fatal(err)
		}
		if r := awaitResult(t, ch); r.err != nil || r.last != 4 {
			t.Fatalf("Wait(10) across Reset(5) = %+v; want last 4", r)
		}
	})
}

func TestLogWaitReturnsContextError(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		ctx, cancel := context.WithCancel(context.Background())
		ch := startWait(ctx, l, 0)
		cancel()
		if r := awaitResult(t, ch); !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Wait after cancel = %+v; want context.Canceled", r)
		}
	})
}

func TestLogWaitReturnsErrClosedOnClose(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		ch := startWait(context.Background(), l, 0)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if r := awaitResult(t, ch); !errors.Is(r.err, ErrClosed) {
			t.Fatalf("Wait across Close = %+v; want ErrClosed", r)
		}
		if _, err := l.Wait(context.Background(), 0); !errors.Is(err, ErrClosed) {
			t.Fatalf("Wait on a closed log = %v; want ErrClosed", err)
		}
	})
}

func TestLogClosedRefusesWorkAndCloseIsIdempotent(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 5, 5)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		for name, err := range map[string]error{
			"Append":        l.Append(6, entriesFrom(6, 1)),
			"Read":          readErr(l.Read(1)),
			"ReadFrom":      readsErr(l.ReadFrom(1, 10)),
			"Sync":          l.Sync(),
			"TruncateFront": l.TruncateFront(3),
			"Reset":         l.Reset(9),
		} {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", name, err)
			}
		}
		if got := l.SyncedIndex(); got != 5 {
			t.Errorf("SyncedIndex after Close = %d, want 5", got)
		}
	})
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLogChangedClosesOnAppendResetAndClose(t *testing.T) {
	forEachLog(t, func(t *testing.T, l Log) {
		appendEntries(t, l, 3, 3)
		if !isClosed(l.Changed(2)) {
			t.Fatal("Changed(2) with LastIndex 3 is not closed")
		}
		ch := l.Changed(3)
		if isClosed(ch) {
			t.Fatal("Changed(3) with LastIndex 3 is closed before anything changed")
		}
		appendEntries(t, l, 4, 1)
		if !isClosed(ch) {
			t.Fatal("Changed(3) is still open after an append at 4")
		}
		ch = l.Changed(4)
		if err := l.Reset(2); err != nil {
			t.Fatal(err)
		}
		if !isClosed(ch) {
			t.Fatal("Changed(4) is still open after Reset(2)")
		}
		ch = l.Changed(1)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if !isClosed(ch) || !isClosed(l.Changed(100)) {
			t.Fatal("Changed is open across or after Close")
		}
	})
}
