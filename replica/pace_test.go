package replica

import (
	"bufio"
	"bytes"
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestPacedWriterKeepsToItsRate(t *testing.T) {
	const rateBytes, size = 4 << 20, 1 << 20
	var out bytes.Buffer
	var writes []int
	sink := writerFunc(func(b []byte) (int, error) { writes = append(writes, len(b)); return out.Write(b) })
	limit := rate.NewLimiter(rate.Limit(rateBytes), paceStep)
	w := &pacedWriter{ctx: context.Background(), w: bufio.NewWriterSize(sink, 256<<10), limit: limit}

	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	start := time.Now()
	if n, err := w.Write(data); n != size || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	// The limiter starts with a full bucket of one step; the rest comes at
	// the rate, so this is a floor whatever the machine's speed.
	if floor := time.Duration(float64(size-paceStep) / rateBytes * float64(time.Second)); time.Since(start) < floor {
		t.Errorf("1 MiB at 4 MiB/s took %v, want at least %v", time.Since(start), floor)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Errorf("the connection got %d bytes that differ from the %d written", out.Len(), size)
	}
	for _, n := range writes {
		if n > paceStep {
			t.Fatalf("a write of %d bytes reached the connection; steps are at most %d", n, paceStep)
		}
	}
}

func TestPacedWriterStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	limit := rate.NewLimiter(1, paceStep) // one byte a second: the second step would wait for days
	w := &pacedWriter{ctx: ctx, w: bufio.NewWriter(&bytes.Buffer{}), limit: limit}
	done := make(chan error, 1)
	go func() { _, err := w.Write(make([]byte, 2*paceStep)); done <- err }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Write returned no error after its context ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Write still blocked 10s after its context ended")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
