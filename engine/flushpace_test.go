package engine

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble"
)

// TestFlushesArePacedCompactionsAreNot checks that the tables a Pebble
// flush writes pause (flushPacer) and the ones a compaction writes do
// not, on disk and in memory, and that the pacer forgets every table.
func TestFlushesArePacedCompactionsAreNot(t *testing.T) {
	for _, inMemory := range []bool{false, true} {
		t.Run(fmt.Sprintf("inMemory=%v", inMemory), func(t *testing.T) {
			e := testEngine(t, Options{InMemory: inMemory})
			e.pacer.burst = 0 // a pause after every write of a flush
			s := NewSession()
			// Two flushes of the same keys: two overlapping L0 tables,
			// which a compaction must merge (rewrite), not move.
			for round := range 2 {
				for i := range 2000 {
					do(t, e, s, fmt.Sprintf("SET key:%d value:%d:%d", i, round, i))
				}
				before := e.pacer.paused.Load()
				if _, err := e.Flush(); err != nil {
					t.Fatal(err)
				}
				if e.pacer.paused.Load() == before {
					t.Fatalf("flush %d: no pause", round)
				}
			}
			flushed := e.pacer.paused.Load()
			if err := e.db.Compact([]byte{0}, []byte{0xff}, false); err != nil {
				t.Fatal(err)
			}
			m := e.db.Metrics()
			if m.Levels[6].BytesCompacted == 0 {
				t.Fatal("the compaction wrote no table: it proves nothing")
			}
			if got := e.pacer.paused.Load(); got != flushed {
				t.Fatalf("the compaction paused %d times", got-flushed)
			}
			if got := do(t, e, s, "GET key:1999"); got != "value:1:1999" {
				t.Fatalf("GET key:1999 = %s", got)
			}
			e.pacer.mu.Lock()
			left := len(e.pacer.named)
			e.pacer.mu.Unlock()
			if left != 0 {
				t.Fatalf("the pacer still holds %d tables", left)
			}
		})
	}
}

// TestFlushRunsFullSpeedInAWriteStall checks that a flush does not pause
// while Pebble holds writers back (the events Pebble sends then).
func TestFlushRunsFullSpeedInAWriteStall(t *testing.T) {
	e := testEngine(t, Options{})
	e.pacer.burst = 0
	s := NewSession()
	flush := func(round int) int64 {
		t.Helper()
		for i := range 1000 {
			do(t, e, s, fmt.Sprintf("SET key:%d value:%d", i, round))
		}
		before := e.pacer.paused.Load()
		if _, err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		return e.pacer.paused.Load() - before
	}
	// Two writers held back, one let go.
	l := e.pacer.listener()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: "memtable count limit reached"})
	l.WriteStallEnd()
	if n := flush(0); n != 0 {
		t.Fatalf("a flush in a write stall paused %d times", n)
	}
	l.WriteStallEnd()
	if n := flush(1); n == 0 {
		t.Fatal("a flush after the stall did not pause")
	}
}
