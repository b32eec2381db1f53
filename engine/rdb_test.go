package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"testing"
)

func TestRedisCRC64(t *testing.T) {
	// The check value of CRC-64/Jones as Redis computes it (its crc64.c).
	if got := redisCRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x, want 0xe9c6d914c4b8d9ca", got)
	}
	// Long inputs go through hash/crc64's Update, eight bytes at a time:
	// the same sums, from any starting CRC, whole or in pieces.
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	bytewise := func(crc uint64, p []byte) uint64 {
		for _, b := range p {
			crc = crc64Table[byte(crc)^b] ^ crc>>8
		}
		return crc
	}
	for _, n := range []int{2047, 2048, 4099, 10000} {
		if got, want := redisCRC64(0, data[:n]), bytewise(0, data[:n]); got != want {
			t.Errorf("crc64 of %d bytes = %#x, want %#x", n, got, want)
		}
		if got, want := redisCRC64(redisCRC64(0, data[:100]), data[100:n]), bytewise(0, data[:n]); got != want {
			t.Errorf("crc64 of %d bytes in two pieces = %#x, want %#x", n, got, want)
		}
	}
}

// TestDumpPayloadsFromRedis decodes payloads redis-server 7.0 wrote, one
// per encoding it uses, and payloads of older versions' encodings built
// by hand byte by byte.
func TestDumpPayloadsFromRedis(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		want      dumpValue
	}{
		// DUMP of SET s hello, and of SET n 12345 (an integer encoding).
		{"string", "000568656c6c6f0a006372df766534200a", dumpValue{typ: typeString, str: []byte("hello")}},
		{"int16 string", "00c139300a009d94ea2793fc08b9", dumpValue{typ: typeString, str: []byte("12345")}},
		// RPUSH ql a b 5: a quicklist of one listpack node.
		{"quicklist 2", "1201020f0f00000003008161028162020501ff0a00986f302469584af6", dumpValue{typ: typeList, elems: bs3("a", "b", "5")}},
		// HSET hl f v g 300: a listpack, 300 as a 13-bit integer.
		{"hash listpack", "1013130000000400816602817602816702c12c02ff0a00bb49adb6b37a1dea", dumpValue{typ: typeHash, elems: bs3("f", "v", "g", "300")}},
		// ZADD zl 1.5 m 2 n: a listpack, scores as strings or integers.
		{"zset listpack", "1114140000000400816d0283312e3504816e020201ff0a00f1b03a6d585f6938", dumpValue{typ: typeZSet, elems: bs3("m", "n"), scores: []float64{1.5, 2}}},
		// SADD il 1 2 -3: an intset of 16-bit integers.
		{"intset", "0b0e0200000003000000fdff010002000a00d1b78ed9bc07c27f", dumpValue{typ: typeSet, elems: bs3("-3", "1", "2")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := hex.DecodeString(tc.hex)
			if !verifyDump(p) {
				t.Fatalf("payload %s does not verify", tc.hex)
			}
			got, err := decodeDump(p)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !sameDump(got, tc.want) {
				t.Fatalf("decoded %+v, want %+v", got, tc.want)
			}
		})
	}
}

func sameDump(a, b dumpValue) bool {
	return a.typ == b.typ && bytes.Equal(a.str, b.str) &&
		slices.EqualFunc(a.elems, b.elems, bytes.Equal) && slices.Equal(a.scores, b.scores)
}

// seal builds a payload around a body, with Redis 7.0's version.
func seal(body ...byte) []byte { return sealDump(body) }

func TestDumpOldEncodings(t *testing.T) {
	ziplist := func(entries ...[]byte) []byte {
		var b []byte
		prev := 0
		for _, e := range entries {
			start := len(b)
			b = append(b, byte(prev))
			b = append(b, e...)
			prev = len(b) - start
		}
		out := binary.LittleEndian.AppendUint32(nil, uint32(10+len(b)+1))
		out = binary.LittleEndian.AppendUint32(out, 0)
		out = binary.LittleEndian.AppendUint16(out, uint16(len(entries)))
		return append(append(out, b...), 0xff)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	blob := func(b []byte) []byte { return append(appendRDBLen(nil, uint64(len(b))), b...) }
	zl := ziplist(str("a"), []byte{0xf1 + 5}, []byte{0xfe, 0x80}, []byte{0xc0, 0x39, 0x30}, []byte{0xf0, 0x01, 0x00, 0x80})
	intset := binary.LittleEndian.AppendUint32(nil, 2)
	intset = binary.LittleEndian.AppendUint32(intset, 3)
	for _, v := range []int16{-2, 7, 300} {
		intset = binary.LittleEndian.AppendUint16(intset, uint16(v))
	}
	zipmap := []byte{2, 1, 'f', 1, 0, 'v', 2, 'g', 'h', 3, 2, 'x', 'y', 'z', 0, 0, 0xff}
	for _, tc := range []struct {
		name    string
		payload []byte
		want    dumpValue
	}{
		{"list ziplist", seal(append([]byte{rdbListZiplist}, blob(zl)...)...),
			dumpValue{typ: typeList, elems: bs3("a", "5", "-128", "12345", "-8388607")}},
		{"list quicklist of ziplists", seal(append([]byte{rdbListQuicklist, 2}, append(blob(ziplist(str("x"))), blob(ziplist(str("y"), str("z")))...)...)...),
			dumpValue{typ: typeList, elems: bs3("x", "y", "z")}},
		{"set intset", seal(append([]byte{rdbSetIntset}, blob(intset)...)...),
			dumpValue{typ: typeSet, elems: bs3("-2", "7", "300")}},
		{"hash zipmap", seal(append([]byte{rdbHashZipmap}, blob(zipmap)...)...),
			dumpValue{typ: typeHash, elems: bs3("f", "v", "gh", "xyz")}},
		{"hash ziplist", seal(append([]byte{rdbHashZiplist}, blob(ziplist(str("f"), str("v")))...)...),
			dumpValue{typ: typeHash, elems: bs3("f", "v")}},
		{"zset ziplist", seal(append([]byte{rdbZSetZiplist}, blob(ziplist(str("m"), str("1.5"), str("n"), []byte{0xf1 + 2}))...)...),
			dumpValue{typ: typeZSet, elems: bs3("m", "n"), scores: []float64{1.5, 2}}},
		{"zset with text scores", seal(rdbZSet, 2, 1, 'a', 254, 1, 'b', 3, '0', '.', '5'),
			dumpValue{typ: typeZSet, elems: bs3("a", "b"), scores: []float64{math.Inf(1), 0.5}}},
		{"lzf string", seal(0, 0xc3, 6, 10, 0, 'a', 0xc0, 0x00, 0x00, 'b'),
			dumpValue{typ: typeString, str: []byte("aaaaaaaaab")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeDump(tc.payload)
			if err != nil {
				t.Fatalf("decode %x: %v", tc.payload, err)
			}
			if !sameDump(got, tc.want) {
				t.Fatalf("decoded %q %v, want %q %v", got.elems, got.scores, tc.want.elems, tc.want.scores)
			}
		})
	}
}

func bs3(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// TestDumpRejects feeds payloads that must not decode: each must give an
// error, not a value or a panic.
func TestDumpRejects(t *testing.T) {
	for name, p := range map[string][]byte{
		"unknown type":          seal(99),
		"stream":                seal(15, 0),
		"empty list":            seal(rdbList, 0),
		"length past the input": seal(rdbList, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 'a'),
		"string past the input": seal(rdbString, 10, 'a'),
		"trailing bytes":        seal(rdbString, 1, 'a', 'b'),
		"duplicate set members": seal(rdbSet, 2, 1, 'a', 1, 'a'),
		"duplicate hash fields": seal(rdbHash, 2, 1, 'f', 1, 'v', 1, 'f', 1, 'w'),
		"NaN score":             seal(rdbZSet, 1, 1, 'a', 253),
		"lzf bomb":              seal(rdbString, 0xc3, 2, 0x81, 0, 0, 0, 1, 0, 0, 0, 0, 0xe0, 0xff),
		"lzf reference before":  seal(rdbString, 0xc3, 2, 5, 0x20, 0x05),
		"bad listpack":          seal(rdbHashListpack, 3, 1, 2, 3),
		"odd hash listpack":     seal(rdbHashListpack, 8, 8, 0, 0, 0, 1, 0, 0x01, 0xff),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeDump(p); err == nil {
				t.Fatalf("payload %x decoded", p)
			}
		})
	}
}

// FuzzDecodeDump checks that no payload makes the decoder panic, loop or
// allocate past its input's bounds, and that what it accepts survives a
// round trip through the encoder.
func FuzzDecodeDump(f *testing.F) {
	for _, p := range [][]byte{
		seal(rdbString, 5, 'h', 'e', 'l', 'l', 'o'),
		seal(rdbList, 2, 1, 'a', 0xc0, 7),
		seal(rdbSet, 1, 1, 'a'),
		seal(rdbHash, 1, 1, 'f', 1, 'v'),
		seal(rdbZSet2, 1, 1, 'a', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f),
		seal(rdbString, 0xc3, 6, 10, 0, 'a', 0xc0, 0x00, 0x00, 'b'),
	} {
		f.Add(p[:len(p)-10])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decodeDump(seal(body...))
		if err != nil || v.typ == typeStream {
			return // a stream's round trip needs an engine (TestDumpRestoreStreamsWithRedis)
		}
		again, err := decodeDump(sealDump(encodeDumpValue(v)))
		if err != nil || !sameDump(v, again) {
			t.Fatalf("round trip of %x: %v, %+v != %+v", body, err, again, v)
		}
	})
}

// encodeDumpValue writes v in the plain encodings, as DUMP does.
func encodeDumpValue(v dumpValue) []byte {
	switch v.typ {
	case typeString:
		return appendRDBString([]byte{rdbString}, v.str)
	case typeZSet:
		b := appendRDBLen([]byte{rdbZSet2}, uint64(len(v.elems)))
		for i, m := range v.elems {
			b = binary.LittleEndian.AppendUint64(appendRDBString(b, m), math.Float64bits(v.scores[i]))
		}
		return b
	}
	t, per := map[byte]byte{typeList: rdbList, typeSet: rdbSet, typeHash: rdbHash}[v.typ], 1
	if v.typ == typeHash {
		per = 2
	}
	b := appendRDBLen([]byte{t}, uint64(len(v.elems)/per))
	for _, e := range v.elems {
		b = appendRDBString(b, e)
	}
	return b
}
