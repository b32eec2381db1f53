package engine

import (
	"encoding/binary"
	"strconv"
)

// Helpers shared by the collection types (hash, list, set, zset).
//
// Every collection keeps its element count in its metadata (HLEN, LLEN,
// SCARD and ZCARD are one Get) and its elements under
// elemPrefix(phys, version). A collection that becomes empty is deleted,
// as in Redis, so an existing collection always has count > 0.

// lookupColl returns key's metadata when it holds a value of type typ.
// wrong is true (and the WRONGTYPE reply written) when it holds another
// type.
func (c *ctx) lookupColl(key []byte, typ byte) (m meta, ok, wrong bool) {
	m, ok = c.lookup(key)
	if ok && m.typ != typ {
		c.replyWrongType()
		return m, ok, true
	}
	return m, ok, false
}

// newColl returns the metadata of a new, empty collection of type typ.
func (c *ctx) newColl(typ byte) meta {
	return meta{typ: typ, version: c.newVersion()}
}

// saveColl writes a collection's metadata after its elements changed.
// existed says whether key held it before this command; a collection
// left empty is deleted with all it owns.
func (c *ctx) saveColl(key []byte, m *meta, existed bool) {
	switch {
	case m.count <= 0 && existed:
		c.deleteKey(key, m)
	case m.count <= 0:
		// Never stored: its elements (if any were written) are dropped.
		c.dropElements(c.phys, m.version)
	case existed:
		c.putMeta(key, m, m)
	default:
		c.putMeta(key, nil, m)
	}
}

// hashedElem is the element key of member in a hash-ordered collection
// (hash fields, set members, zset member index): prefix, xxhash64 of the
// member, the member. Hash order makes the SCAN-family cursor a hash
// position, exactly as for top-level SCAN.
func hashedElem(prefix, member []byte) []byte {
	k := make([]byte, 0, len(prefix)+8+len(member))
	k = append(k, prefix...)
	k = binary.BigEndian.AppendUint64(k, hashKey(member))
	return append(k, member...)
}

// scanHashed serves HSCAN/SSCAN/ZSCAN over a hash-ordered element space
// under prefix: from the cursor position it visits up to count elements,
// never stopping between two elements of equal hash, and returns the next
// cursor (0 at the end). fn gets the member and the element's value.
//
// Guarantee (as Redis's SCAN): an element present for the whole scan is
// returned at least once; no server-side state is kept.
func (c *ctx) scanHashed(prefix []byte, cursor uint64, count int, fn func(member, value []byte)) uint64 {
	lower := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), cursor)
	it := c.iter(lower, prefixEnd(prefix))
	defer it.Close()
	seen := 0
	var last uint64
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(prefix):]
		if len(k) < 8 {
			continue
		}
		h := binary.BigEndian.Uint64(k)
		if seen >= count && h != last {
			return h
		}
		seen++
		last = h
		fn(k[8:], it.Value())
	}
	return 0
}

// parseScanCursor parses a SCAN-family cursor, writing Redis's error.
func (c *ctx) parseScanCursor(b []byte) (uint64, bool) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		c.replyError("ERR invalid cursor")
		return 0, false
	}
	return n, true
}

// replyScan writes a SCAN-family reply.
func (c *ctx) replyScan(next uint64, items [][]byte) {
	c.replyArray(2)
	c.replyBulkString(strconv.FormatUint(next, 10))
	c.replyArray(len(items))
	for _, it := range items {
		c.replyBulk(it)
	}
}

// clone copies b (Pebble's iterator and Get buffers are reused).
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// argsOf builds an effect's argument list.
func argsOf(head ...[]byte) [][]byte { return head }

// cmdCollLen serves HLEN, LLEN, SCARD and ZCARD: the count kept in the
// metadata, 0 for a missing key.
func cmdCollLen(typ byte) func(c *ctx, args [][]byte) {
	return func(c *ctx, args [][]byte) {
		m, ok, wrong := c.lookupColl(args[1], typ)
		switch {
		case wrong:
		case !ok:
			c.replyInt(0)
		default:
			c.replyInt(m.count)
		}
	}
}

// cmdScanColl serves HSCAN, SSCAN and ZSCAN (key cursor [MATCH] [COUNT])
// over a collection of type typ whose members are hash-ordered under
// members(m); item renders one matching member and its value as reply
// elements.
func cmdScanColl(typ byte, members func(c *ctx, m *meta) []byte, item func(member, value []byte) [][]byte) func(c *ctx, args [][]byte) {
	return func(c *ctx, args [][]byte) {
		cursor, ok := c.parseScanCursor(args[2])
		if !ok {
			return
		}
		pattern, count, _, ok := c.scanOptions(args[3:], false)
		if !ok {
			return
		}
		m, exists, wrong := c.lookupColl(args[1], typ)
		if wrong {
			return
		}
		if !exists {
			c.replyScan(0, nil)
			return
		}
		var items [][]byte
		next := c.scanHashed(members(c, &m), cursor, count, func(mem, v []byte) {
			if pattern == nil || globMatch(pattern, mem, false) {
				items = append(items, item(mem, v)...)
			}
		})
		c.replyScan(next, items)
	}
}

// allElems is the member space of hashes and sets: every element key.
func allElems(c *ctx, m *meta) []byte { return elemPrefix(nil, c.phys, m.version) }

// popCount parses the optional count argument (args[2]) of the pop
// commands, writing Redis's error; def is the count when it is absent.
func (c *ctx) popCount(args [][]byte, def int64) (int64, bool) {
	if len(args) < 3 {
		return def, true
	}
	n, err := parseInt(args[2])
	if err != nil || n < 0 {
		c.replyError("ERR value is out of range, must be positive")
		return 0, false
	}
	return n, true
}
