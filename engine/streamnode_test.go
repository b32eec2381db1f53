package engine

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// The sizes a node counts are those of the listpack DUMP writes (which
// the server tests compare with Redis's byte for byte), at every
// encoding's boundaries.
func TestListpackSizes(t *testing.T) {
	var ints []int64
	for _, b := range []int64{0, 127, 4095, -4096, math.MaxInt16, math.MinInt16, 1<<23 - 1, -1 << 23, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		ints = append(ints, b-1, b, b+1)
	}
	for _, v := range ints {
		lp := listpack{}
		lp.int(v)
		if got, want := lpIntSize(v), int64(len(lp.body)); got != want {
			t.Errorf("lpIntSize(%d) = %d, the listpack has %d", v, got, want)
		}
		s := []byte(strconv.FormatInt(v, 10))
		lp = listpack{}
		lp.str(s)
		if got, want := lpStrSize(s), int64(len(lp.body)); got != want {
			t.Errorf("lpStrSize(%q) = %d, the listpack has %d", s, got, want)
		}
	}
	for _, n := range []int{0, 1, 63, 64, 65, 125, 126, 127, 128, 4095, 4096, 4097, 16380, 16381, 16382, 16383, 70000} {
		for _, s := range [][]byte{[]byte(strings.Repeat("x", n)), []byte("0" + strings.Repeat("1", n))} {
			lp := listpack{}
			lp.str(s)
			if got, want := lpStrSize(s), int64(len(lp.body)); got != want {
				t.Errorf("lpStrSize(%d bytes, %.5q) = %d, the listpack has %d", len(s), s, got, want)
			}
		}
	}
}

// A node closes at 100 entries, or when its listpack's bytes and the
// next entry's fields and values would reach 4096; nodes stored before
// walrus counted bytes close at 100 entries alone.
func TestStreamNodeFits(t *testing.T) {
	small := [][]byte{[]byte("f"), []byte("v")}
	n := openNode(small)
	for i := uint64(0); i < streamNodeMaxEntries; i++ {
		if !n.fits(small) {
			t.Fatalf("a node of %d small entries (%d bytes) is full", i, n.size)
		}
		n.add(streamID{1, 0}, streamID{1, i}, small)
	}
	if n.fits(small) {
		t.Fatalf("a node of %d entries has room", n.total)
	}

	big := [][]byte{[]byte("f"), []byte(strings.Repeat("x", 2100))}
	n = openNode(big)
	n.add(streamID{1, 0}, streamID{1, 0}, big)
	if !n.fits(big[:1]) || n.fits(big) {
		t.Fatalf("a node of %d bytes: fits a 1-byte field %v, a 2101-byte entry %v", n.size, n.fits(big[:1]), n.fits(big))
	}

	old := decodeNode(streamNode{live: 1, total: 1}.encode())
	if old.size != 0 || !old.fits(big) || !old.fits([][]byte{[]byte("f"), []byte(strings.Repeat("x", 9000))}) {
		t.Fatalf("a node without a size: %+v fits a big entry %v", old, old.fits(big))
	}
	stored := decodeNode(n.encode())
	if stored.size != n.size || len(stored.fields) != 1 || string(stored.fields[0]) != "f" || stored.total != 1 {
		t.Fatalf("node row round trip: %+v, want %+v", stored, n)
	}
}
