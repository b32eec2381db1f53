package replica

import (
	"bufio"
	"io"
	"testing"
)

// TestRedisStreamMarksEveryCommandBoundary: every entry's end in a Redis
// replica's stream maps to its log index, for ACKs and for a partial
// resync from any of them; offsets in between map to the entry before.
func TestRedisStreamMarksEveryCommandBoundary(t *testing.T) {
	counted := &countingWriter{w: io.Discard}
	bw := bufio.NewWriterSize(counted, 64) // small: flushes mid-stream
	r := newRedisStream("id", 1000, counted, 41)
	ents := [][]byte{
		[]byte("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"),
		[]byte("*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n"),
		[]byte("*5\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n$4\r\nPREV\r\n$4\r\nnone\r\n"),
	}
	if err := r.write(bw, ents, 42); err != nil {
		t.Fatal(err)
	}
	// SELECT 0 (23 bytes) goes first, then the three commands as Redis
	// takes them (27, 21 and 27 bytes: PREV dropped).
	ends := []uint64{1000 + 23 + 27, 1000 + 23 + 27 + 21, 1000 + 23 + 27 + 21 + 27}
	if got := 1000 + counted.n + uint64(bw.Buffered()); got != ends[2] {
		t.Fatalf("stream at %d after the entries, want %d", got, ends[2])
	}
	for i, end := range ends {
		at, ok := r.boundary(end)
		if !ok || at.index != uint64(42+i) {
			t.Errorf("boundary(%d) = %+v, %v; want index %d", end, at, ok, 42+i)
		}
		if _, ok := r.boundary(end - 1); ok {
			t.Errorf("boundary(%d), inside a command, found a mark", end-1)
		}
	}
	if at, ok := r.boundary(1000); !ok || at.index != 41 {
		t.Errorf("boundary at the stream's start = %+v, %v; want index 41", at, ok)
	}
	for _, tc := range []struct{ offset, index uint64 }{
		{999, 0}, {1000, 41}, {ends[0] - 1, 41}, {ends[0], 42},
	} {
		if got := r.index(tc.offset); got != tc.index {
			t.Errorf("index(%d) = %d, want %d", tc.offset, got, tc.index)
		}
	}
	// An ACK with FACK (Redis 7.2): the fsynced offset, behind the
	// applied one, maps too.
	if a, f := r.ack(ends[1]+5, ends[0]); a != 43 || f != 42 {
		t.Errorf("ack(%d, %d) = %d, %d; want 43, 42", ends[1]+5, ends[0], a, f)
	}
	if got := r.index(ends[2] + 100); got != 44 {
		t.Errorf("index(%d) = %d, want 44", ends[2]+100, got)
	}
}
