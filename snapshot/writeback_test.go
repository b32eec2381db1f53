package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestReceivedFilesAreWrittenBackAsTheyGrow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type span struct{ off, n int64 }
	var started []span
	w := newWritebackFile(f)
	real := w.start
	w.start = func(f *os.File, off, n int64) {
		started = append(started, span{off, n})
		real(f, off, n) // the kernel call itself must not disturb the file
	}

	const size = 3*writebackStep + writebackStep/2 + 5
	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i * 7)
	}
	for rest := want; len(rest) > 0; {
		n := min(len(rest), ioStep-3) // pieces that do not divide the step
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}

	// Contiguous spans from offset 0, each at least a step and less than
	// a step plus one write, none past what was written; the tail under a
	// step is left to the fsync.
	var next int64
	for _, s := range started {
		if s.off != next || s.n < writebackStep || s.n >= writebackStep+ioStep {
			t.Fatalf("writeback started for %+v after %d bytes; want a span of [%d, %d) bytes at %d",
				s, next, writebackStep, writebackStep+ioStep, next)
		}
		next += s.n
	}
	if len(started) != 3 || next > size || size-next >= writebackStep {
		t.Fatalf("writeback started for %d spans up to %d of %d bytes; want 3, leaving under %d", len(started), next, size, writebackStep)
	}

	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes that differ from the %d written", len(got), len(want))
	}
}
