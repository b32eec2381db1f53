package wal

import (
	"bytes"
	"testing"
)

func TestRingDropsOldestBeyondItsBound(t *testing.T) {
	r := NewRing(100)
	for i := uint64(1); i <= 50; i++ {
		if err := r.Append(i, [][]byte{bytes.Repeat([]byte{'x'}, 10)}); err != nil {
			t.Fatal(err)
		}
		if r.bytes > 100 {
			t.Fatalf("after %d appends the ring holds %d bytes, bound 100", i, r.bytes)
		}
	}
	checkBounds(t, r, 41, 50)
	if _, err := r.Read(40); err == nil {
		t.Fatal("Read(40) succeeded; it is beyond the bound")
	}
}

func TestRingKeepsNewestEntryEvenIfOverBound(t *testing.T) {
	r := NewRing(10)
	if err := r.Append(1, [][]byte{[]byte("small"), bytes.Repeat([]byte{'y'}, 50)}); err != nil {
		t.Fatal(err)
	}
	checkBounds(t, r, 2, 2)
	if e, err := r.Read(2); err != nil || len(e) != 50 {
		t.Fatalf("Read(2) = %d bytes, %v; want the 50-byte newest entry", len(e), err)
	}
}

func TestRingRetainFloorHoldsEntriesPastTheBound(t *testing.T) {
	r := NewRing(50)
	r.SetRetain(5)
	appendEntries(t, r, 40, 4)
	checkBounds(t, r, 5, 40) // the floor keeps 5.. although over 50 bytes
	checkEntries(t, r, 5, 40)

	r.SetRetain(30) // raising the floor trims to the bound, but not past 30
	if f := r.FirstIndex(); f > 30 || f <= 5 {
		t.Fatalf("FirstIndex after SetRetain(30) = %d; want in (5, 30]", f)
	}
	r.SetRetain(0) // no floor: back under the bound
	if r.bytes > 50 {
		t.Fatalf("ring holds %d bytes with no floor, bound 50", r.bytes)
	}
	// TruncateFront is the caller's explicit policy: the floor does not stop it.
	r.SetRetain(35)
	if err := r.TruncateFront(38); err != nil {
		t.Fatal(err)
	}
	checkBounds(t, r, 38, 40)
}

func TestRingSyncedIndexIsLastIndex(t *testing.T) {
	r := NewRing(1 << 10)
	appendEntries(t, r, 7, 3)
	if s := r.SyncedIndex(); s != 7 {
		t.Fatalf("SyncedIndex = %d, want 7", s)
	}
}

// TestRingSetMaxBytesMovesTheBound: a larger bound keeps more entries
// from then on, a smaller one trims at once, and a hard limit follows a
// bound raised past it instead of cutting below the bound.
func TestRingSetMaxBytesMovesTheBound(t *testing.T) {
	r := NewRing(100)
	r.SetHardLimit(150)
	x := bytes.Repeat([]byte{'x'}, 10)
	put := func(n int) {
		t.Helper()
		for range n {
			if err := r.Append(r.LastIndex()+1, [][]byte{x}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(50)
	checkBounds(t, r, 41, 50) // 100 bytes

	r.SetMaxBytes(1000)
	checkBounds(t, r, 41, 50) // nothing comes back
	put(50)
	checkBounds(t, r, 41, 100) // 600 bytes: kept, past the hard limit of 150 asked for
	if got := r.Overrun(); got != 0 {
		t.Fatalf("Overrun %d under a bound of 1000 with 600 bytes held", got)
	}

	r.SetMaxBytes(200)
	checkBounds(t, r, 81, 100) // trimmed at once
	r.SetRetain(85)
	put(20)
	checkBounds(t, r, 101, 120) // the hard limit, raised to the bound of 200, cuts past the floor
	if got := r.Overrun(); got != 100 {
		t.Fatalf("Overrun %d, want 100", got)
	}
	r.SetMaxBytes(100)
	checkBounds(t, r, 106, 120) // the hard limit back at the 150 asked for
	if got := r.Overrun(); got != 105 {
		t.Fatalf("Overrun %d, want 105", got)
	}
}
