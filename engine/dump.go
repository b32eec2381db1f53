package engine

import (
	"strconv"
	"strings"
)

// DUMP and RESTORE move a value between servers in Redis's payload
// format (rdb.go): a value dumped by Redis restores here, and one dumped
// here restores in Redis.

func init() {
	register(
		&Command{Spec{Name: "dump", Arity: 2, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Summary: "Return a serialized version of the value stored at the specified key."}, cmdDump},
		&Command{Spec{Name: "restore", Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Summary: "Create a key using the provided serialized value, previously obtained using DUMP."}, cmdRestore},
		// RESTORE-ASKING is what a cluster's MIGRATE sends; without a
		// cluster it is RESTORE, as in Redis.
		&Command{Spec{Name: "restore-asking", Arity: -4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "server", Summary: "An internal command for migrating keys in a cluster"}, cmdRestore},
	)
}

// DUMP key
func cmdDump(c *ctx, args [][]byte) {
	m, ok := c.lookup(args[1])
	if !ok {
		c.replyNull()
		return
	}
	b, ok := c.dump(&m)
	if !ok {
		c.replyError("ERR DUMP of a value of type " + typeName(m.typ) + " is not supported")
		return
	}
	c.replyBulk(b)
}

// dump serializes a value as DUMP's payload: the plain RDB encodings,
// sealed with the version and the CRC.
func (c *ctx) dump(m *meta) ([]byte, bool) {
	b, ok := c.dumpBody(m)
	if !ok {
		return nil, false
	}
	return sealDump(b), true
}

// dumpBody serializes a value in the plain RDB encodings: its type, then
// the value, as an RDB file holds it after the key.
func (c *ctx) dumpBody(m *meta) ([]byte, bool) {
	var b []byte
	switch m.typ {
	case typeString:
		b = appendRDBString(append(b, rdbString), m.value)
	case typeList:
		b = appendRDBLen(append(b, rdbList), uint64(m.count))
		c.listRange(m, 0, m.count, func(_ int64, v []byte) bool {
			b = appendRDBString(b, v)
			return true
		})
	case typeSet:
		b = appendRDBLen(append(b, rdbSet), uint64(m.count))
		c.forEachHashed(m, func(member, _ []byte) bool {
			b = appendRDBString(b, member)
			return true
		})
	case typeHash:
		b = appendRDBLen(append(b, rdbHash), uint64(m.count))
		c.forEachHashed(m, func(field, value []byte) bool {
			b = appendRDBString(appendRDBString(b, field), value)
			return true
		})
	case typeStream:
		b = c.appendStream(append(b, rdbStreamListpacks2), m)
	case typeZSet:
		b = appendRDBLen(append(b, rdbZSet2), uint64(m.count))
		z := c.openZSet(*m)
		c.forEachUnder(z.mp, func(member, score []byte) {
			b = appendRDBString(b, member)
			// The index keeps scores big-endian; RDB wants them little.
			for i := len(score) - 1; i >= 0; i-- {
				b = append(b, score[i])
			}
		})
	default:
		return nil, false
	}
	return b, true
}

// forEachUnder calls fn for each member and value of a hash-ordered
// index under prefix p (its keys are p, an 8-byte hash, the member).
func (c *ctx) forEachUnder(p []byte, fn func(member, value []byte)) {
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if k := it.Key()[len(p):]; len(k) >= 8 {
			fn(k[8:], it.Value())
		}
	}
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
// [FREQ frequency]: Redis's checks in Redis's order. The entry logged is
// RESTORE with the absolute expiry, REPLACE and ABSTTL, so a replica
// rebuilds the same value whenever it applies it. Under an LRU policy
// IDLETIME sets the key's access time, under an LFU one FREQ sets its
// counter (access.go), and the other is checked and has no effect, as in
// Redis; the entry carries them, so replicas set them too.
func cmdRestore(c *ctx, args [][]byte) {
	key := args[1]
	var replace, absTTL bool
	idle, freq := int64(-1), int64(-1)
	for i := 4; i < len(args); i++ {
		more := len(args) - i - 1
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "replace":
			replace = true
		case opt == "absttl":
			absTTL = true
		case opt == "idletime" && more >= 1 && freq == -1:
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if n < 0 {
				c.replyError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			idle = n
			i++
		case opt == "freq" && more >= 1 && idle == -1:
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if n < 0 || n > 255 {
				c.replyError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			freq = n
			i++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	old, exists := c.lookup(key)
	if exists && !replace {
		c.replyError("BUSYKEY Target key name already exists.")
		return
	}
	ttl, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if ttl < 0 {
		c.replyError("ERR Invalid TTL value, must be >= 0")
		return
	}
	payload := args[3]
	if !verifyDump(payload) {
		c.replyError("ERR DUMP payload version or checksum are wrong")
		return
	}
	v, err := decodeDump(payload)
	if err != nil {
		c.replyError("ERR Bad data format")
		return
	}
	expireAt := ttl
	if ttl != 0 && !absTTL {
		expireAt = ttl + c.now
		if expireAt < ttl { // past the clock's range: already expired
			expireAt = 1
		}
	}
	var oldp *meta
	if exists {
		oldp = &old
	}
	if expireAt != 0 && expireAt <= c.now && !c.raw {
		if exists {
			c.deleteKey(key, oldp)
			c.emit(bs("DEL"), key)
			c.notify(NotifyGeneric, "del", key)
		}
		c.replyOK()
		return
	}
	c.restore(key, oldp, v, expireAt)
	mk, lfu := metaKey(nil, c.phys, key), c.e.access.lfu.Load()
	switch {
	case lfu && freq >= 0:
		c.e.access.setFreq(mk, c.accessNow(), uint32(freq))
	case lfu && exists:
		c.newKey(mk) // Redis replaces the object: a new one's counter
	case !lfu && idle >= 0:
		c.e.access.setIdle(mk, c.accessNow(), idle)
	}
	c.notify(NotifyGeneric, "restore", key)
	entry := [][]byte{bs("RESTORE"), key, strconv.AppendInt(nil, expireAt, 10), payload, bs("REPLACE"), bs("ABSTTL")}
	if idle >= 0 {
		entry = append(entry, bs("IDLETIME"), strconv.AppendInt(nil, idle, 10))
	}
	if freq >= 0 {
		entry = append(entry, bs("FREQ"), strconv.AppendInt(nil, freq, 10))
	}
	c.emit(entry...)
	c.replyOK()
}

// restore stores a decoded value under key in place of old (nil: none).
func (c *ctx) restore(key []byte, old *meta, v dumpValue, expireAt int64) {
	var m meta
	switch v.typ {
	case typeString:
		m = meta{typ: typeString, value: v.str}
	case typeList:
		m = c.newList()
		c.listPush(&m, false, v.elems...)
	case typeSet:
		m = c.newSet(v.elems)
	case typeHash:
		m = c.newColl(typeHash)
		p := elemPrefix(nil, c.phys, m.version)
		for i := 0; i < len(v.elems); i += 2 {
			c.set(hashedElem(p, v.elems[i]), v.elems[i+1])
		}
		m.count = int64(len(v.elems) / 2)
	case typeStream:
		m = c.restoreStream(v.stream)
	case typeZSet:
		m = c.newZSet(v.elems, v.scores)
	}
	m.expireAt = expireAt
	c.putMetaMoved(key, old, &m)
}
