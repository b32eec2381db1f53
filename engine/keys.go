package engine

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// Pebble key layout. Every key starts with a one-byte space tag:
//
//	\x00<name>                          system keys (applied index, db map, counters)
//	'k' phys(2) hash(8) userkey         key metadata (type, expiry, inline string value)
//	'x' phys(2) expireAt(8) userkey     expiry index, empty value
//	'e' phys(2) version(8) sub...       collection elements, owned by the types' files
//
// phys is the physical database a logical database (SELECT n) maps to, so
// SWAPDB swaps two numbers instead of moving data. hash is xxhash64 of the
// user key: metadata keys are ordered by hash, so a SCAN cursor is simply the
// hash to resume from (stateless, and every key present for the whole scan is
// returned). Integers are big-endian so byte order is numeric order.
const (
	spaceSystem = 0x00
	spaceMeta   = 'k'
	spaceExpiry = 'x'
	spaceElem   = 'e'
)

var (
	keyApplied = []byte("\x00applied_index")
	keyDBMap   = []byte("\x00dbmap")
)

// keyCount is the system key holding the number of keys of physical db phys.
func keyCount(phys uint16) []byte {
	return binary.BigEndian.AppendUint16([]byte("\x00count"), phys)
}

func hashKey(key []byte) uint64 { return xxhash.Sum64(key) }

// metaKey appends the metadata key of userkey in phys to dst.
func metaKey(dst []byte, phys uint16, key []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, 11+len(key))
	}
	dst = append(dst, spaceMeta)
	dst = binary.BigEndian.AppendUint16(dst, phys)
	dst = binary.BigEndian.AppendUint64(dst, hashKey(key))
	return append(dst, key...)
}

// metaPrefix is the first metadata key of phys at or after hash position h.
func metaPrefix(phys uint16, h uint64) []byte {
	b := []byte{spaceMeta}
	b = binary.BigEndian.AppendUint16(b, phys)
	return binary.BigEndian.AppendUint64(b, h)
}

// dbBounds returns the [lower, upper) bounds of a space of one physical db.
func dbBounds(space byte, phys uint16) (lower, upper []byte) {
	lower = binary.BigEndian.AppendUint16([]byte{space}, phys)
	upper = binary.BigEndian.AppendUint16([]byte{space}, phys+1)
	if phys == 0xffff {
		upper = []byte{space + 1}
	}
	return lower, upper
}

// userKeyOfMeta returns the user key and its hash inside a metadata key.
func userKeyOfMeta(mk []byte) (key []byte, h uint64) {
	return mk[11:], binary.BigEndian.Uint64(mk[3:11])
}

func expiryKey(dst []byte, phys uint16, at int64, key []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, 11+len(key))
	}
	dst = append(dst, spaceExpiry)
	dst = binary.BigEndian.AppendUint16(dst, phys)
	dst = binary.BigEndian.AppendUint64(dst, uint64(at))
	return append(dst, key...)
}

// elemPrefix is the prefix of every element key of one collection.
func elemPrefix(dst []byte, phys uint16, version uint64) []byte {
	dst = append(dst, spaceElem)
	dst = binary.BigEndian.AppendUint16(dst, phys)
	return binary.BigEndian.AppendUint64(dst, version)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Value types, stored as the first byte of a metadata value.
const (
	typeString = 's'
	typeHash   = 'h'
	typeList   = 'l'
	typeSet    = 'S'
	typeZSet   = 'z'
	typeStream = 't'
)

func typeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeHash:
		return "hash"
	case typeList:
		return "list"
	case typeSet:
		return "set"
	case typeZSet:
		return "zset"
	case typeStream:
		return "stream"
	}
	return "none"
}

// meta is a decoded metadata value.
//
//	string:      type(1) expireAt(8) value...
//	collection:  type(1) expireAt(8) version(8) count(8) extra...
//
// expireAt is a Unix time in milliseconds, 0 for no expiry.
type meta struct {
	typ      byte
	expireAt int64
	value    []byte // string value, or a collection's type-specific extra
	version  uint64 // collections: prefix of the element keys
	count    int64  // collections: number of elements
}

const metaHeader = 9

func (m *meta) isCollection() bool { return m.typ != typeString }

func decodeMeta(b []byte) (meta, bool) {
	if len(b) < metaHeader {
		return meta{}, false
	}
	m := meta{typ: b[0], expireAt: int64(binary.BigEndian.Uint64(b[1:9]))}
	if m.typ == typeString {
		m.value = b[9:]
		return m, true
	}
	if len(b) < metaHeader+16 {
		return meta{}, false
	}
	m.version = binary.BigEndian.Uint64(b[9:17])
	m.count = int64(binary.BigEndian.Uint64(b[17:25]))
	m.value = b[25:]
	return m, true
}

func (m *meta) encode(dst []byte) []byte {
	if dst == nil {
		dst = make([]byte, 0, metaHeader+16+len(m.value))
	}
	dst = append(dst, m.typ)
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.expireAt))
	if m.typ != typeString {
		dst = binary.BigEndian.AppendUint64(dst, m.version)
		dst = binary.BigEndian.AppendUint64(dst, uint64(m.count))
	}
	return append(dst, m.value...)
}
