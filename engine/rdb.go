package engine

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"math"
	"strconv"
)

// DUMP's payload is one value in Redis's RDB format: the value's type, its
// serialization, the RDB version (2 bytes) and a CRC-64 of all that (8
// bytes), both little-endian. This file reads every encoding Redis 7.0 and
// its predecessors write for strings, lists, sets, hashes and sorted sets
// (listpacks, ziplists, intsets, zipmaps, quicklists, LZF-compressed and
// integer-encoded strings), so a value dumped by Redis restores here; and
// it writes the plain encodings, which every Redis since 2.x reads, so a
// value dumped here restores in Redis. Streams are in rdbstream.go.

// rdbVersion is Redis 7.0's RDB version, written into every payload, so
// Redis 7.0 accepts them. rdbMaxVersion is the newest a payload may carry:
// Redis 7.4's, whose plain and listpack encodings are read here too.
const (
	rdbVersion    = 10
	rdbMaxVersion = 12
)

// RDB object types (Redis's rdb.h).
const (
	rdbString          = 0
	rdbList            = 1
	rdbSet             = 2
	rdbZSet            = 3
	rdbHash            = 4
	rdbZSet2           = 5
	rdbHashZipmap      = 9
	rdbListZiplist     = 10
	rdbSetIntset       = 11
	rdbZSetZiplist     = 12
	rdbHashZiplist     = 13
	rdbListQuicklist   = 14
	rdbHashListpack    = 16
	rdbZSetListpack    = 17
	rdbListQuicklist2  = 18
	rdbSetListpack     = 20
	quicklistPlainNode = 1 // a quicklist 2 node holding one element as is
	quicklistPackNode  = 2 // a quicklist 2 node holding a listpack
)

// crc64Table is Redis's CRC-64 (Jones' polynomial, reflected).
var crc64Table = crc64.MakeTable(0x95ac9329ac4bc9b5)

// redisCRC64 is Redis's crc64(crc, p): no inversion before or after,
// unlike hash/crc64's Update, which this undoes for long inputs, where
// Update goes 8 bytes at a time.
func redisCRC64(crc uint64, p []byte) uint64 {
	if len(p) >= 2048 {
		return ^crc64.Update(^crc, crc64Table, p)
	}
	for _, b := range p {
		crc = crc64Table[byte(crc)^b] ^ crc>>8
	}
	return crc
}

// dumpValue is a value as a payload carries it.
type dumpValue struct {
	typ    byte     // typeString, typeList, typeSet, typeHash, typeZSet or typeStream
	str    []byte   // a string
	elems  [][]byte // list items, set members, hash fields and values in turn, zset members
	scores []float64
	stream *dumpStream // rdbstream.go
}

// errBadDump is any payload that does not decode.
var errBadDump = errors.New("bad data format")

// verifyDump checks a payload's footer as Redis 7.0's verifyDumpPayload
// does: a known version and the right CRC.
func verifyDump(p []byte) bool {
	if len(p) < 10 {
		return false
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > rdbMaxVersion {
		return false
	}
	return binary.LittleEndian.Uint64(footer[2:]) == redisCRC64(0, p[:len(p)-8])
}

// decodeDump reads the value of a verified payload.
func decodeDump(p []byte) (v dumpValue, err error) {
	r := &rdbReader{b: p[:len(p)-10]}
	defer func() {
		if e := recover(); e != nil {
			if e != errBadDump {
				panic(e)
			}
			err = errBadDump
		}
	}()
	v = r.object(r.byte())
	if len(r.b) != 0 {
		return v, errBadDump // trailing bytes
	}
	return v, nil
}

// rdbReader reads RDB encodings; any malformed input panics with
// errBadDump, which decodeDump turns into an error.
type rdbReader struct{ b []byte }

func bad() { panic(errBadDump) }

func (r *rdbReader) byte() byte {
	if len(r.b) == 0 {
		bad()
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *rdbReader) take(n uint64) []byte {
	if n > uint64(len(r.b)) {
		bad()
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// length reads an RDB length; encoded reports a special string encoding
// (an integer or LZF) whose kind is then n.
func (r *rdbReader) length() (n uint64, encoded bool) {
	c := r.byte()
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false
	case 1:
		return uint64(c&0x3f)<<8 | uint64(r.byte()), false
	case 3:
		return uint64(c & 0x3f), true
	}
	switch c {
	case 0x80:
		return uint64(binary.BigEndian.Uint32(r.take(4))), false
	case 0x81:
		return binary.BigEndian.Uint64(r.take(8)), false
	}
	bad()
	return 0, false
}

// count reads a collection's length: at least one element, and no more
// than the bytes left could hold (each takes at least one), so a forged
// length cannot make a reader loop or allocate past its input.
func (r *rdbReader) count() int {
	n, enc := r.length()
	if enc || n == 0 || n > uint64(len(r.b)) {
		bad()
	}
	return int(n)
}

func (r *rdbReader) string() []byte {
	n, enc := r.length()
	if !enc {
		return r.take(n)
	}
	switch n {
	case 0:
		return strconv.AppendInt(nil, int64(int8(r.byte())), 10)
	case 1:
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(r.take(2)))), 10)
	case 2:
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(r.take(4)))), 10)
	case 3:
		clen, e1 := r.length()
		ulen, e2 := r.length()
		if e1 || e2 {
			bad()
		}
		out, ok := lzfDecompress(r.take(clen), ulen)
		if !ok {
			bad()
		}
		return out
	}
	bad()
	return nil
}

// double reads a score in the old text encoding: a length byte (253 NaN,
// 254 +inf, 255 -inf), then the digits.
func (r *rdbReader) double() float64 {
	switch n := r.byte(); n {
	case 253:
		return math.NaN()
	case 254:
		return math.Inf(1)
	case 255:
		return math.Inf(-1)
	default:
		f, err := strconv.ParseFloat(string(r.take(uint64(n))), 64)
		if err != nil {
			bad()
		}
		return f
	}
}

func (r *rdbReader) binaryDouble() float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(r.take(8)))
}

// object reads a value of RDB type t.
func (r *rdbReader) object(t byte) dumpValue {
	switch t {
	case rdbString:
		return dumpValue{typ: typeString, str: r.string()}
	case rdbList:
		n := r.count()
		v := dumpValue{typ: typeList}
		for range n {
			v.elems = append(v.elems, r.string())
		}
		return v
	case rdbSet:
		n := r.count()
		v := dumpValue{typ: typeSet}
		for range n {
			v.elems = append(v.elems, r.string())
		}
		return v.unique(1)
	case rdbHash:
		n := r.count()
		v := dumpValue{typ: typeHash}
		for range n {
			v.elems = append(v.elems, r.string(), r.string())
		}
		return v.unique(2)
	case rdbZSet, rdbZSet2:
		n := r.count()
		v := dumpValue{typ: typeZSet}
		for range n {
			v.elems = append(v.elems, r.string())
			if t == rdbZSet {
				v.scores = append(v.scores, r.double())
			} else {
				v.scores = append(v.scores, r.binaryDouble())
			}
		}
		return v.checkScores().unique(1)
	case rdbHashZipmap:
		return dumpValue{typ: typeHash, elems: zipmapEntries(r.string())}.pairs().unique(2)
	case rdbListZiplist:
		return dumpValue{typ: typeList, elems: ziplistEntries(r.string())}.nonEmpty()
	case rdbSetIntset:
		return dumpValue{typ: typeSet, elems: intsetEntries(r.string())}.nonEmpty().unique(1)
	case rdbSetListpack:
		return dumpValue{typ: typeSet, elems: listpackEntries(r.string())}.nonEmpty().unique(1)
	case rdbZSetZiplist, rdbZSetListpack:
		entries := decodePacked(t == rdbZSetZiplist, r.string())
		return zsetFromPairs(entries)
	case rdbHashZiplist, rdbHashListpack:
		entries := decodePacked(t == rdbHashZiplist, r.string())
		return dumpValue{typ: typeHash, elems: entries}.pairs().unique(2)
	case rdbListQuicklist, rdbListQuicklist2:
		n := r.count()
		v := dumpValue{typ: typeList}
		for range n {
			container := uint64(quicklistPackNode)
			if t == rdbListQuicklist2 {
				var enc bool
				if container, enc = r.length(); enc {
					bad()
				}
			}
			node := r.string()
			switch {
			case container == quicklistPlainNode:
				v.elems = append(v.elems, node)
			case container != quicklistPackNode:
				bad()
			case t == rdbListQuicklist:
				v.elems = append(v.elems, ziplistEntries(node)...)
			default:
				v.elems = append(v.elems, listpackEntries(node)...)
			}
		}
		return v.nonEmpty()
	}
	switch t {
	case rdbStreamListpacks, rdbStreamListpacks2, rdbStreamListpacks3:
		return r.stream(t)
	}
	bad() // modules, hashes with field expiry, unknown types
	return dumpValue{}
}

func decodePacked(ziplist bool, blob []byte) [][]byte {
	if ziplist {
		return ziplistEntries(blob)
	}
	return listpackEntries(blob)
}

// zsetFromPairs reads a packed sorted set: member, score, member, ...
func zsetFromPairs(entries [][]byte) dumpValue {
	if len(entries)%2 != 0 {
		bad()
	}
	v := dumpValue{typ: typeZSet}
	for i := 0; i < len(entries); i += 2 {
		f, err := strconv.ParseFloat(string(entries[i+1]), 64)
		if err != nil {
			bad()
		}
		v.elems = append(v.elems, entries[i])
		v.scores = append(v.scores, f)
	}
	return v.nonEmpty().checkScores().unique(1)
}

func (v dumpValue) nonEmpty() dumpValue {
	if len(v.elems) == 0 {
		bad() // Redis refuses empty collections as corrupt
	}
	return v
}

// pairs checks a hash's fields and values: at least one pair, whole.
func (v dumpValue) pairs() dumpValue {
	if len(v.elems) == 0 || len(v.elems)%2 != 0 {
		bad()
	}
	return v
}

// checkScores refuses a NaN score, as Redis does.
func (v dumpValue) checkScores() dumpValue {
	for _, f := range v.scores {
		if math.IsNaN(f) {
			bad()
		}
	}
	return v
}

// unique refuses a member (or field) given twice, every stride-th
// element being one.
func (v dumpValue) unique(stride int) dumpValue {
	seen := make(map[string]struct{}, len(v.elems)/stride)
	for i := 0; i < len(v.elems); i += stride {
		if _, dup := seen[string(v.elems[i])]; dup {
			bad()
		}
		seen[string(v.elems[i])] = struct{}{}
	}
	return v
}

// ziplistEntries reads a ziplist: a 10-byte header, then entries of a
// previous length (1 or 5 bytes), an encoding and data, then 0xFF.
func ziplistEntries(b []byte) [][]byte {
	if len(b) < 11 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		bad()
	}
	r := &rdbReader{b: b[10 : len(b)-1]}
	var out [][]byte
	for len(r.b) > 0 {
		if r.byte() == 0xfe {
			r.take(4)
		}
		enc := r.byte()
		switch {
		case enc>>6 == 0:
			out = append(out, r.take(uint64(enc&0x3f)))
		case enc>>6 == 1:
			out = append(out, r.take(uint64(enc&0x3f)<<8|uint64(r.byte())))
		case enc == 0x80:
			out = append(out, r.take(uint64(binary.BigEndian.Uint32(r.take(4)))))
		case enc == 0xc0:
			out = append(out, itoa(int64(int16(binary.LittleEndian.Uint16(r.take(2))))))
		case enc == 0xd0:
			out = append(out, itoa(int64(int32(binary.LittleEndian.Uint32(r.take(4))))))
		case enc == 0xe0:
			out = append(out, itoa(int64(binary.LittleEndian.Uint64(r.take(8)))))
		case enc == 0xf0:
			out = append(out, itoa(int24(r.take(3))))
		case enc == 0xfe:
			out = append(out, itoa(int64(int8(r.byte()))))
		case enc >= 0xf1 && enc <= 0xfd:
			out = append(out, itoa(int64(enc&0x0f)-1))
		default:
			bad()
		}
	}
	return out
}

// listpackEntries reads a listpack: a 6-byte header, then entries of an
// encoding, data and a back-length, then 0xFF.
func listpackEntries(b []byte) [][]byte {
	if len(b) < 7 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		bad()
	}
	declared := int(binary.LittleEndian.Uint16(b[4:]))
	r := &rdbReader{b: b[6 : len(b)-1]}
	var out [][]byte
	for len(r.b) > 0 {
		start := len(r.b)
		enc := r.byte()
		switch {
		case enc&0x80 == 0:
			out = append(out, itoa(int64(enc)))
		case enc&0xc0 == 0x80:
			out = append(out, r.take(uint64(enc&0x3f)))
		case enc&0xe0 == 0xc0:
			v := int64(enc&0x1f)<<8 | int64(r.byte())
			out = append(out, itoa(v<<51>>51)) // 13-bit two's complement
		case enc&0xf0 == 0xe0:
			out = append(out, r.take(uint64(enc&0x0f)<<8|uint64(r.byte())))
		case enc == 0xf0:
			out = append(out, r.take(uint64(binary.LittleEndian.Uint32(r.take(4)))))
		case enc == 0xf1:
			out = append(out, itoa(int64(int16(binary.LittleEndian.Uint16(r.take(2))))))
		case enc == 0xf2:
			out = append(out, itoa(int24(r.take(3))))
		case enc == 0xf3:
			out = append(out, itoa(int64(int32(binary.LittleEndian.Uint32(r.take(4))))))
		case enc == 0xf4:
			out = append(out, itoa(int64(binary.LittleEndian.Uint64(r.take(8)))))
		default:
			bad()
		}
		r.take(backlenSize(start - len(r.b)))
	}
	if declared != 0xffff && declared != len(out) {
		bad()
	}
	return out
}

// backlenSize is the size of the back-length after a listpack entry of
// size l, at Redis's own boundaries.
func backlenSize(l int) uint64 {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// intsetEntries reads an intset: the width of its integers (2, 4 or 8
// bytes), their count, then the integers, little-endian.
func intsetEntries(b []byte) [][]byte {
	if len(b) < 8 {
		bad()
	}
	width := binary.LittleEndian.Uint32(b)
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if width != 2 && width != 4 && width != 8 || uint64(len(b)-8) != n*uint64(width) {
		bad()
	}
	out := make([][]byte, 0, n)
	for p := b[8:]; len(p) > 0; p = p[width:] {
		switch width {
		case 2:
			out = append(out, itoa(int64(int16(binary.LittleEndian.Uint16(p)))))
		case 4:
			out = append(out, itoa(int64(int32(binary.LittleEndian.Uint32(p)))))
		default:
			out = append(out, itoa(int64(binary.LittleEndian.Uint64(p))))
		}
	}
	return out
}

// zipmapEntries reads a zipmap (Redis before 2.6): a count byte, then
// key and value lengths (1 byte, or 254 and 4 bytes), each value followed
// by a free byte count and that many unused bytes, then 0xFF.
func zipmapEntries(b []byte) [][]byte {
	r := &rdbReader{b: b}
	r.byte()
	zlen := func() (uint64, bool) {
		switch c := r.byte(); c {
		case 0xff:
			return 0, false
		case 0xfe:
			return uint64(binary.LittleEndian.Uint32(r.take(4))), true
		default:
			return uint64(c), true
		}
	}
	var out [][]byte
	for {
		kl, more := zlen()
		if !more {
			break
		}
		k := r.take(kl)
		vl, more := zlen()
		if !more {
			bad()
		}
		free := r.byte()
		out = append(out, k, r.take(vl))
		r.take(uint64(free))
	}
	if len(r.b) != 0 {
		bad()
	}
	return out
}

func itoa(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// int24 reads a 24-bit little-endian two's complement integer.
func int24(t []byte) int64 {
	return int64(int32(uint32(t[0])<<8|uint32(t[1])<<16|uint32(t[2])<<24) >> 8)
}

// lzfDecompress expands LZF data into exactly n bytes. A back-reference
// expands at most 3 bytes into 264, so n is checked against that before
// anything is allocated.
func lzfDecompress(in []byte, n uint64) ([]byte, bool) {
	if n == 0 || n > maxStringSize || n > uint64(len(in))*88+32 {
		return nil, false
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // a literal run of ctrl+1 bytes
			run := ctrl + 1
			if i+run > len(in) || uint64(len(out)+run) > n {
				return nil, false
			}
			out = append(out, in[i:i+run]...)
			i += run
			continue
		}
		length := ctrl >> 5
		back := (ctrl & 0x1f) << 8
		if length == 7 {
			if i >= len(in) {
				return nil, false
			}
			length += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, false
		}
		back += int(in[i]) + 1
		i++
		length += 2
		if back > len(out) || uint64(len(out)+length) > n {
			return nil, false
		}
		from := len(out) - back
		for k := range length { // byte by byte: the copy may overlap itself
			out = append(out, out[from+k])
		}
	}
	return out, uint64(len(out)) == n
}

// --- writing ---

// appendRDBLen writes an RDB length.
func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0x81), n)
	}
}

// appendRDBString writes a string as Redis does without compression: a
// canonical integer in 32 bits as one, anything else as is.
func appendRDBString(b []byte, s []byte) []byte {
	if len(s) <= 11 {
		if v, err := strconv.ParseInt(string(s), 10, 64); err == nil && string(itoa(v)) == string(s) {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(b, 0xc0, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				return binary.LittleEndian.AppendUint16(append(b, 0xc1), uint16(v))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				return binary.LittleEndian.AppendUint32(append(b, 0xc2), uint32(v))
			}
		}
	}
	return append(appendRDBLen(b, uint64(len(s))), s...)
}

// sealDump appends the version and the CRC that close a payload.
func sealDump(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, redisCRC64(0, b))
}

// rdbOpFunction2 opens a library in an RDB file and in FUNCTION DUMP's
// payload; rdbOpFunctionPreGA is the format of Redis 7.0's release
// candidates, which Redis 7.0 refuses.
const (
	rdbOpFunction2     = 245
	rdbOpFunctionPreGA = 246
)

// FunctionsPayload is FUNCTION DUMP's payload of the libraries whose
// code is given: each as its opcode and its code, then the version and
// CRC that close a DUMP payload.
func FunctionsPayload(codes [][]byte) []byte {
	var b []byte
	for _, code := range codes {
		b = appendRDBString(append(b, rdbOpFunction2), code)
	}
	return sealDump(b)
}

// ParseFunctionsPayload returns the code of each library in a FUNCTION
// DUMP payload, or an error whose text is Redis's reply.
func ParseFunctionsPayload(p []byte) (codes [][]byte, err error) {
	if !verifyDump(p) {
		return nil, errors.New("ERR DUMP payload version or checksum are wrong")
	}
	defer func() {
		if e := recover(); e != nil {
			if e != errBadDump {
				panic(e)
			}
			codes, err = nil, errors.New("ERR failed loading the given functions payload")
		}
	}()
	r := &rdbReader{b: p[:len(p)-10]}
	for len(r.b) > 0 {
		switch r.byte() {
		case rdbOpFunction2:
			codes = append(codes, r.string())
		case rdbOpFunctionPreGA:
			return nil, errors.New("ERR Pre-GA function format not supported")
		default:
			return nil, errors.New("ERR given type is not a function")
		}
	}
	return codes, nil
}
