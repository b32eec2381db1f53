package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// appendRecord encodes payload the way a segment holds it (tidwall/wal's
// uvarint length, then our checksum frame).
func appendRecord(dst, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(crcSize+len(payload)))
	return frameInto(dst, payload)
}

func records(payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = appendRecord(b, []byte(p))
	}
	return b
}

func TestDecodeRecordRoundTripsEveryPayloadSize(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 123, 124, 127, 128, 16383, 16384, 70000} {
		payload := bytes.Repeat([]byte{byte(n)}, n)
		rec := appendRecord(nil, payload)
		if len(rec) != recordSize(n) {
			t.Fatalf("n=%d: record is %d bytes, recordSize says %d", n, len(rec), recordSize(n))
		}
		got, size, err := decodeRecord(rec)
		if err != nil || size != len(rec) || !bytes.Equal(got, payload) {
			t.Fatalf("n=%d: decode = (%d bytes, size %d, %v), want the payload back", n, len(got), size, err)
		}
	}
}

func TestDecodeRecordRejectsDamage(t *testing.T) {
	good := appendRecord(nil, []byte("hello, walrus"))
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		return b
	}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errTruncated},
		{"zero length", []byte{0, 0, 0, 0, 0}, errBadLength},
		{"length below checksum", []byte{3, 1, 2, 3}, errBadLength},
		{"unterminated varint", []byte{0x80}, errTruncated},
		{"varint over 64 bits", bytes.Repeat([]byte{0xff}, 11), errBadLength},
		{"cut in checksum", good[:3], errTruncated},
		{"cut in payload", good[:len(good)-1], errTruncated},
		{"flipped checksum byte", flip(2), errChecksum},
		{"flipped payload byte", flip(len(good) - 1), errChecksum},
		{"zeroed payload", append([]byte{good[0]}, make([]byte, len(good)-1)...), errChecksum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := decodeRecord(c.in); !errors.Is(err, c.want) {
				t.Fatalf("decodeRecord(% x) err = %v, want %v", c.in, err, c.want)
			}
		})
	}
}

func TestScanSegmentTellsTornTailFromDamage(t *testing.T) {
	three := records("alpha", "beta", "gamma")
	secondAt := recordSize(len("alpha"))
	flipped := bytes.Clone(three)
	flipped[secondAt+3] ^= 0x40 // checksum byte of "beta"
	cases := []struct {
		name       string
		in         []byte
		records    int
		bad        int
		validAfter bool
	}{
		{"clean", three, 3, -1, false},
		{"empty", nil, 0, -1, false},
		{"torn last record", three[:len(three)-2], 2, secondAt + recordSize(4), false},
		{"zero fill", append(bytes.Clone(three), make([]byte, 300)...), 3, len(three), false},
		{"empty entry is not evidence", append(records("alpha"), 0, 0, 0, 4, 0, 0, 0, 0), 1, secondAt, false},
		{"bad record then valid", flipped, 1, secondAt, true},
		{"zero fill then valid", append(append(records("alpha"), make([]byte, 64)...), records("omega")...), 1, secondAt, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := scanSegment(c.in)
			if s.records != c.records || s.bad != c.bad || (s.validAfter >= 0) != c.validAfter || s.undecided {
				t.Fatalf("scan = %+v, want records=%d bad=%d validAfter=%v", s, c.records, c.bad, c.validAfter)
			}
		})
	}
}

func TestScanSegmentGivesUpOnLongGarbage(t *testing.T) {
	// A record header claiming a long length at every offset makes every
	// candidate expensive; the budget must stop the search, undecided.
	b := records("alpha")
	bad := len(b)
	b = append(b, 0x01) // bad: length 1
	for len(b) < 64<<10 {
		b = append(b, 0xff, 0xff, 0x01) // length 32767 (or so) at each offset
	}
	s := scanSegment(b)
	if s.bad != bad || s.validAfter >= 0 {
		t.Fatalf("scan = %+v, want bad at %d and no valid record", s, bad)
	}
	// 64 KiB * ~32 KiB per candidate is far above the budget.
	if !s.undecided {
		t.Fatalf("scan of 64 KiB of long-length garbage finished; want undecided")
	}
}

func FuzzScanSegment(f *testing.F) {
	f.Add([]byte{})
	f.Add(records("a", "bb", ""))
	f.Add(append(records("alpha", "beta"), 0, 0, 0, 0))
	f.Add(records("alpha", "beta")[:9])
	f.Add([]byte{0x80, 0x80, 0x80})
	f.Add(append([]byte{7, 1, 2, 3, 4, 5, 6, 7}, records("x")...))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := scanSegment(b)
		if s.goodEnd < 0 || s.goodEnd > len(b) {
			t.Fatalf("goodEnd %d outside [0,%d]", s.goodEnd, len(b))
		}
		if s.bad < 0 && s.goodEnd != len(b) {
			t.Fatalf("no bad record but goodEnd %d != len %d", s.goodEnd, len(b))
		}
		if s.bad >= 0 && s.bad != s.goodEnd {
			t.Fatalf("bad %d != goodEnd %d", s.bad, s.goodEnd)
		}
		// The valid prefix re-decodes to exactly s.records records and
		// re-encodes to the same bytes.
		var again []byte
		off := 0
		for n := 0; n < s.records; n++ {
			p, size, err := decodeRecord(b[off:])
			if err != nil {
				t.Fatalf("record %d at %d: %v", n, off, err)
			}
			again = appendRecord(again, p)
			off += size
		}
		if off != s.goodEnd || !bytes.Equal(again, b[:off]) {
			t.Fatalf("valid prefix does not round-trip (off %d goodEnd %d)", off, s.goodEnd)
		}
		if s.validAfter >= 0 {
			if s.validAfter <= s.bad {
				t.Fatalf("validAfter %d not after bad %d", s.validAfter, s.bad)
			}
			if p, _, err := decodeRecord(b[s.validAfter:]); err != nil || len(p) == 0 {
				t.Fatalf("validAfter %d does not decode to a non-empty record: %v", s.validAfter, err)
			}
		}
	})
}

func FuzzRecordRoundTrip(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		rec := appendRecord(nil, payload)
		got, size, err := decodeRecord(rec)
		if err != nil || size != len(rec) || size != recordSize(len(payload)) || !bytes.Equal(got, payload) {
			t.Fatalf("round trip failed: size %d/%d err %v", size, len(rec), err)
		}
	})
}
