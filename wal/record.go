package wal

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// A segment file is a sequence of records in tidwall/wal's binary format:
//
//	uvarint(n) | data[n]
//
// and this package puts a checksum at the front of data:
//
//	data = crc32c(payload) as 4 bytes little endian | payload
//
// so n >= 4 for every record we write.

const crcSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Reasons a record does not decode. They stay inside the package: callers
// see ErrCorrupt wrapped with a file and an offset.
var (
	errTruncated = errors.New("record runs past the end of the segment")
	errBadLength = errors.New("record length below checksum size")
	errChecksum  = errors.New("record checksum mismatch")
)

// frameInto appends crc32c(payload)|payload to dst (the data part of a
// record, without the tidwall length prefix).
func frameInto(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// recordSize is the number of bytes a payload of n bytes takes in a segment.
func recordSize(n int) int {
	return uvarintLen(uint64(n+crcSize)) + crcSize + n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// openFrame checks data (crc|payload, as tidwall/wal returns it) and returns
// the payload, aliasing data.
func openFrame(data []byte) ([]byte, error) {
	if len(data) < crcSize {
		return nil, errBadLength
	}
	payload := data[crcSize:]
	if binary.LittleEndian.Uint32(data) != crc32.Checksum(payload, castagnoli) {
		return nil, errChecksum
	}
	return payload, nil
}

// decodeRecord decodes the record at the start of b. It returns the payload
// (aliasing b) and the record's total size.
func decodeRecord(b []byte) (payload []byte, size int, err error) {
	n, hdr := binary.Uvarint(b)
	switch {
	case hdr == 0:
		return nil, 0, errTruncated
	case hdr < 0:
		return nil, 0, errBadLength // longer than 64 bits: not a length we wrote
	case n < crcSize, hdr != uvarintLen(n):
		// Too short for a CRC, or a non-minimal varint: our writer never
		// produces one, so it is damage, not a record.
		return nil, 0, errBadLength
	case n > uint64(len(b)-hdr):
		return nil, 0, errTruncated
	}
	end := hdr + int(n)
	payload, err = openFrame(b[hdr:end])
	if err != nil {
		return nil, 0, err
	}
	return payload, end, nil
}

// segmentScan is what scanSegment learns about one segment image.
type segmentScan struct {
	// records is the number of valid records before the first bad one.
	records int
	// goodEnd is the offset just past the last valid record.
	goodEnd int
	// bad is the offset of the first bad record, or -1 when all are valid.
	bad int
	// badErr says what is wrong with the record at bad.
	badErr error
	// validAfter is the offset of a valid record found somewhere after bad
	// (proof that the damage is not a torn tail), or -1.
	validAfter int
	// undecided is set when the search for a later valid record gave up
	// (scanWorkFactor): the damage cannot be called a torn tail.
	undecided bool
}

// scanWorkFactor bounds the bytes checksummed while searching past a bad
// record to this many times the segment size (plus scanWorkMin). A torn tail
// is short and zero fill is skipped for free; only a long stretch of random
// garbage can exhaust it, and such a segment is not a torn tail anyway.
const (
	scanWorkFactor = 64
	scanWorkMin    = 1 << 20
)

// scanSegment walks the records of one segment image and, past the first
// bad one, looks at every later offset for a record that decodes with a good
// checksum. Records with an empty payload do not count as such evidence: an
// empty entry is the bytes 04 00 00 00 00, which a partly zero-filled tail
// can produce by chance.
func scanSegment(b []byte) segmentScan {
	s := segmentScan{bad: -1, validAfter: -1}
	off := 0
	for off < len(b) {
		_, n, err := decodeRecord(b[off:])
		if err != nil {
			s.bad, s.badErr = off, err
			break
		}
		off += n
		s.records++
	}
	s.goodEnd = off
	if s.bad < 0 {
		return s
	}
	budget := scanWorkFactor*len(b) + scanWorkMin
	for p := s.bad + 1; p < len(b); p++ {
		if b[p] == 0 { // length 0: never a record we wrote; skips zero fill fast
			continue
		}
		n, hdr := binary.Uvarint(b[p:])
		if hdr <= 0 || n <= crcSize || hdr != uvarintLen(n) || n > uint64(len(b)-p-hdr) {
			continue // cannot be a non-empty record that fits, as decodeRecord reads one
		}
		if budget -= int(n); budget < 0 {
			s.undecided = true
			break
		}
		if _, err := openFrame(b[p+hdr : p+hdr+int(n)]); err == nil {
			s.validAfter = p
			break
		}
	}
	return s
}
