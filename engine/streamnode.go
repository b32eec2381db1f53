package engine

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Stream nodes. Redis keeps a stream's entries in listpacks of at most
// stream-node-max-entries (100) entries and stream-node-max-bytes (4096)
// bytes, and approximate trimming (MAXLEN ~, MINID ~) removes whole
// listpacks, so where one closes decides what a trim leaves. walrus
// keeps no listpacks, but each node row counts the bytes its listpack
// would take in Redis and keeps the fields of its master entry, which
// decide how large each later entry is.
//
// Redis's rule (streamAppendItem): a new entry opens a node when the
// last node's listpack bytes plus the lengths of the entry's fields and
// values reach stream-node-max-bytes, or when the node has had
// stream-node-max-entries entries (deleted ones count).

const (
	// streamNodeMaxEntries is Redis's stream-node-max-entries default.
	streamNodeMaxEntries = 100
	// streamNodeMaxBytes is Redis's stream-node-max-bytes default.
	streamNodeMaxBytes = 4096
	// lpEmptySize is an empty listpack: its 6-byte header and end byte.
	lpEmptySize = 7
)

// streamNode is a node row: how many of its entries are live, how many
// joined it, its last entry's ID, its listpack's size in Redis, and its
// master entry's fields (its first entry's field names).
//
// Node rows stored before walrus counted bytes have size 0 and no
// fields; such a node closes at 100 entries alone.
type streamNode struct {
	live, total int64
	last        streamID
	size        int64
	fields      [][]byte
}

// openNode is the node an entry with these fields opens: the empty
// listpack and its master entry (count, deleted, the fields' number,
// the fields, a zero terminator), the entry not yet added.
func openNode(fields [][]byte) streamNode {
	n := streamNode{fields: fieldNames(fields)}
	n.size = lpEmptySize + lpIntSize(1) + lpIntSize(0) + lpIntSize(int64(len(n.fields))) + lpIntSize(0)
	for _, f := range n.fields {
		n.size += lpStrSize(f)
	}
	return n
}

// fits says whether an entry with these fields joins the node rather
// than opening a new one.
func (n *streamNode) fits(fields [][]byte) bool {
	if n.total >= streamNodeMaxEntries {
		return false
	}
	if n.size == 0 {
		return true
	}
	size := n.size
	for _, f := range fields {
		size += int64(len(f))
	}
	return size < streamNodeMaxBytes
}

// add counts an entry in. master is the node's ID (its first entry's),
// from which Redis stores each entry's ID as a difference.
func (n *streamNode) add(master, id streamID, fields [][]byte) {
	n.live++
	n.total++
	n.last = id
	if n.size > 0 {
		n.size += n.entrySize(master, id, fields)
	}
}

// entrySize is what an entry adds to the node's listpack: its flags, its
// ID's two differences, then its values alone when its fields are the
// master entry's, or else their number and every field and value; last
// the count of those elements.
func (n *streamNode) entrySize(master, id streamID, fields [][]byte) int64 {
	size := lpIntSize(streamItemSameFields) + lpIntSize(int64(id.ms-master.ms)) + lpIntSize(int64(id.seq-master.seq))
	same := sameFields(n.fields, fields)
	count := int64(3 + len(fields)/2)
	if !same {
		size += lpIntSize(int64(len(fields) / 2))
		count += 1 + int64(len(fields)/2)
	}
	for i, f := range fields {
		if i%2 == 1 || !same {
			size += lpStrSize(f)
		}
	}
	return size + lpIntSize(count)
}

// sameFields says whether an entry's fields (field, value, ...) are the
// master entry's, in order: such an entry is stored with its values only.
func sameFields(master, fields [][]byte) bool {
	if len(fields) != 2*len(master) {
		return false
	}
	for i, f := range master {
		if string(fields[2*i]) != string(f) {
			return false
		}
	}
	return true
}

// fieldNames returns the field names of field, value, ... pairs, copied.
func fieldNames(fields [][]byte) [][]byte {
	names := make([][]byte, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		names = append(names, clone(fields[i]))
	}
	return names
}

// encode lays a node row out: live(8) total(8) last(16) size(8), then
// each master field as len(4) and its bytes.
func (n streamNode) encode() []byte {
	v := make([]byte, 0, 40+len(n.fields)*8)
	v = binary.BigEndian.AppendUint64(v, uint64(n.live))
	v = binary.BigEndian.AppendUint64(v, uint64(n.total))
	v = appendID(v, n.last)
	if n.size == 0 {
		return v
	}
	v = binary.BigEndian.AppendUint64(v, uint64(n.size))
	for _, f := range n.fields {
		v = binary.BigEndian.AppendUint32(v, uint32(len(f)))
		v = append(v, f...)
	}
	return v
}

// decodeNode reads a node row; the fields are copied out of v.
func decodeNode(v []byte) streamNode {
	if len(v) < 32 {
		return streamNode{}
	}
	n := streamNode{live: int64(binary.BigEndian.Uint64(v)), total: int64(binary.BigEndian.Uint64(v[8:])), last: decodeID(v[16:])}
	if len(v) < 40 {
		return n
	}
	n.size = int64(binary.BigEndian.Uint64(v[32:]))
	n.fields = [][]byte{}
	for p := v[40:]; len(p) >= 4; {
		l := int(binary.BigEndian.Uint32(p))
		if 4+l > len(p) {
			break
		}
		n.fields = append(n.fields, clone(p[4:4+l]))
		p = p[4+l:]
	}
	return n
}

// lpIntSize is the size of an integer in a listpack, its back-length
// included, at Redis's encodings' boundaries.
func lpIntSize(v int64) int64 {
	var enc int64
	switch {
	case v >= 0 && v <= 127:
		enc = 1
	case v >= -4096 && v <= 4095:
		enc = 2
	case v >= math.MinInt16 && v <= math.MaxInt16:
		enc = 3
	case v >= -1<<23 && v < 1<<23:
		enc = 4
	case v >= math.MinInt32 && v <= math.MaxInt32:
		enc = 5
	default:
		enc = 9
	}
	return enc + 1 // back-lengths under 128 take a byte
}

// lpStrSize is the size of a string in a listpack, back-length included:
// a string Redis reads as an integer is stored as one.
func lpStrSize(s []byte) int64 {
	if v, ok := lpInt(s); ok {
		return lpIntSize(v)
	}
	var enc int
	switch n := len(s); {
	case n < 64:
		enc = 1 + n
	case n < 4096:
		enc = 2 + n
	default:
		enc = 5 + n
	}
	return int64(enc) + int64(backlenSize(enc))
}

// lpInt reads s as an integer when Redis's listpack would store it as
// one: canonical decimal, at most 20 characters.
func lpInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || string(itoa(v)) != string(s) {
		return 0, false
	}
	return v, true
}
