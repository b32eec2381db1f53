package engine

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

func init() {
	k1 := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Summary: summary}, run}
	}
	register(
		&Command{Spec{Name: "del", Arity: -2, Flags: Write, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Summary: "Delete a key"}, cmdDel},
		&Command{Spec{Name: "unlink", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking."}, cmdDel},
		&Command{Spec{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Summary: "Determine if a key exists"}, cmdExists},
		// TOUCH counts the keys that exist, as EXISTS does (a key named
		// twice counts twice); walrus keeps no access times to update.
		&Command{Spec{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified."}, cmdExists},
		k1("type", 2, ReadOnly|Fast, "Determine the type stored at key", cmdType),
		&Command{Spec{Name: "keys", Arity: 2, Flags: ReadOnly, Group: "generic", Summary: "Find all keys matching the given pattern"}, cmdKeys},
		&Command{Spec{Name: "scan", Arity: -2, Flags: ReadOnly, Group: "generic", Summary: "Incrementally iterate the keys space"}, cmdScan},
		&Command{Spec{Name: "randomkey", Arity: 1, Flags: ReadOnly, Group: "generic", Summary: "Return a random key from the keyspace"}, cmdRandomKey},
		&Command{Spec{Name: "rename", Arity: 3, Flags: Write, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Summary: "Rename a key"}, cmdRename},
		&Command{Spec{Name: "renamenx", Arity: 3, Flags: Write | Fast, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Summary: "Rename a key, only if the new key does not exist"}, cmdRename},
		&Command{Spec{Name: "copy", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: "generic", Summary: "Copy a key"}, cmdCopy},
		k1("move", 3, Write|Fast, "Move a key to another database", cmdMove),
		k1("expire", -3, Write|Fast, "Set a key's time to live in seconds", cmdExpire),
		k1("pexpire", -3, Write|Fast, "Set a key's time to live in milliseconds", cmdExpire),
		k1("expireat", -3, Write|Fast, "Set the expiration for a key as a UNIX timestamp", cmdExpire),
		k1("pexpireat", -3, Write|Fast, "Set the expiration for a key as a UNIX timestamp specified in milliseconds", cmdExpire),
		k1("ttl", 2, ReadOnly|Fast, "Get the time to live for a key in seconds", cmdTTL),
		k1("pttl", 2, ReadOnly|Fast, "Get the time to live for a key in milliseconds", cmdTTL),
		k1("expiretime", 2, ReadOnly|Fast, "Get the expiration Unix timestamp for a key", cmdTTL),
		k1("pexpiretime", 2, ReadOnly|Fast, "Get the expiration Unix timestamp for a key in milliseconds", cmdTTL),
		k1("persist", 2, Write|Fast, "Remove the expiration from a key", cmdPersist),
		&Command{Spec{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast, Group: "server", Summary: "Return the number of keys in the selected database"}, cmdDBSize},
		&Command{Spec{Name: "flushdb", Arity: -1, Flags: Write, Group: "server", Summary: "Remove all keys from the current database"}, cmdFlush},
		&Command{Spec{Name: "flushall", Arity: -1, Flags: Write, Group: "server", Summary: "Remove all keys from all databases"}, cmdFlush},
		&Command{Spec{Name: "select", Arity: 2, Flags: Loading | Stale | Fast | ConnState, Group: "connection", Summary: "Change the selected database for the current connection"}, cmdSelect},
		&Command{Spec{Name: "swapdb", Arity: 3, Flags: Write | Fast, Group: "server", Summary: "Swaps two Redis databases"}, cmdSwapDB},
	)
}

func cmdDel(c *ctx, args [][]byte) {
	deleted := [][]byte{bs("DEL")}
	for _, k := range args[1:] {
		if m, ok := c.lookup(k); ok {
			c.deleteKey(k, &m)
			c.notify(NotifyGeneric, "del", k)
			deleted = append(deleted, k)
		}
	}
	if len(deleted) > 1 {
		c.emit(deleted...)
	}
	c.replyInt(int64(len(deleted) - 1))
}

func cmdExists(c *ctx, args [][]byte) {
	var n int64
	for _, k := range args[1:] {
		if _, ok := c.lookup(k); ok {
			n++
		}
	}
	c.replyInt(n)
}

func cmdType(c *ctx, args [][]byte) {
	m, ok := c.lookup(args[1])
	if !ok {
		c.replyStatus("none")
		return
	}
	c.replyStatus(typeName(m.typ))
}

// scanKeys calls fn for each live key of the current db in hash order,
// starting at hash position from; fn returns false to stop (only at a
// hash boundary, so a cursor never splits keys of equal hash).
func (c *ctx) scanKeys(from uint64, fn func(key []byte, h uint64, m *meta) bool) {
	_, upper := dbBounds(spaceMeta, c.phys)
	it := c.iter(metaPrefix(c.phys, from), upper)
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		key, h := userKeyOfMeta(it.Key())
		m, ok := decodeMeta(it.Value())
		if !ok {
			continue
		}
		if !c.raw && m.expireAt != 0 && m.expireAt <= c.now {
			continue
		}
		if !fn(key, h, &m) {
			return
		}
	}
}

func cmdKeys(c *ctx, args [][]byte) {
	pattern := args[1]
	all := len(pattern) == 1 && pattern[0] == '*'
	var keys [][]byte
	c.scanKeys(0, func(key []byte, _ uint64, _ *meta) bool {
		if all || globMatch(pattern, key, false) {
			keys = append(keys, append([]byte(nil), key...))
		}
		return true
	})
	c.replyArray(len(keys))
	for _, k := range keys {
		c.replyBulk(k)
	}
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
//
// The cursor is the hash position to resume from: keys are stored in hash
// order, so a scan returns every key that exists for its whole duration,
// without server-side state.
func cmdScan(c *ctx, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.replyError("ERR invalid cursor")
		return
	}
	pattern, count, typ, ok := c.scanOptions(args[2:], true)
	if !ok {
		return
	}
	var keys [][]byte
	var next uint64
	var lastHash uint64
	seen := 0
	c.scanKeys(cursor, func(key []byte, h uint64, m *meta) bool {
		if seen >= count && h != lastHash {
			next = h
			return false
		}
		seen++
		lastHash = h
		if pattern != nil && !globMatch(pattern, key, false) {
			return true
		}
		if typ != "" && typeName(m.typ) != typ {
			return true
		}
		keys = append(keys, append([]byte(nil), key...))
		return true
	})
	c.replyArray(2)
	c.replyBulkString(strconv.FormatUint(next, 10))
	c.replyArray(len(keys))
	for _, k := range keys {
		c.replyBulk(k)
	}
}

// scanOptions parses [MATCH pattern] [COUNT count] (and [TYPE type] when
// withType) for the SCAN family.
func (c *ctx) scanOptions(args [][]byte, withType bool) (pattern []byte, count int, typ string, ok bool) {
	count = 10
	for i := 0; i < len(args); i += 2 {
		opt := strings.ToLower(string(args[i]))
		if i+1 >= len(args) {
			c.replyError(errSyntax)
			return nil, 0, "", false
		}
		switch {
		case opt == "match":
			pattern = args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		case opt == "count":
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return nil, 0, "", false
			}
			if n < 1 {
				c.replyError(errSyntax)
				return nil, 0, "", false
			}
			count = int(min(n, math.MaxInt32))
		case opt == "type" && withType:
			typ = strings.ToLower(string(args[i+1]))
		default:
			c.replyError(errSyntax)
			return nil, 0, "", false
		}
	}
	return pattern, count, typ, true
}

func cmdRandomKey(c *ctx, args [][]byte) {
	for try := 0; try < 8; try++ {
		var found []byte
		pick := func(key []byte, _ uint64, _ *meta) bool {
			found = append([]byte(nil), key...)
			return false
		}
		c.scanKeys(rand.Uint64(), pick)
		if found == nil {
			c.scanKeys(0, pick)
		}
		if found != nil {
			c.replyBulk(found)
			return
		}
		if c.dbCount(c.phys) == 0 {
			break
		}
	}
	c.replyNull()
}

// RENAME / RENAMENX src dst: the metadata moves; a collection's elements
// stay where they are (same physical db, same version): O(1).
func cmdRename(c *ctx, args [][]byte) {
	nx := strings.EqualFold(string(args[0]), "renamenx")
	src, dst := args[1], args[2]
	m, ok := c.lookup(src)
	if !ok {
		c.replyError(errNoSuchKey)
		return
	}
	if string(src) == string(dst) {
		if nx {
			c.replyInt(0)
		} else {
			c.replyOK()
		}
		return
	}
	old, exists := c.lookup(dst)
	if exists && nx {
		c.replyInt(0)
		return
	}
	var oldp *meta
	if exists {
		oldp = &old
	}
	c.del(metaKey(nil, c.phys, src))
	if m.expireAt != 0 {
		c.del(expiryKey(nil, c.phys, m.expireAt, src))
	}
	c.g.addCount(c.phys, -1)
	c.putMetaMoved(dst, oldp, &m)
	c.notify(NotifyGeneric, "rename_from", src)
	c.notify(NotifyGeneric, "rename_to", dst)
	c.emit(args...)
	if nx {
		c.replyInt(1)
	} else {
		c.replyOK()
	}
}

// putMetaMoved stores m under key where old (if any) is replaced; unlike
// putMeta, m's elements are not old's even if the versions are equal.
func (c *ctx) putMetaMoved(key []byte, old *meta, m *meta) {
	if old != nil {
		c.deleteKey(key, old)
	}
	c.putMeta(key, nil, m)
}

// putMetaStored is putMetaMoved for a command that stores a result in
// key as Redis's setKey does: a key it overwrites is not a new one
// (keyspace event "new"), unlike RENAME's, COPY's or RESTORE's.
func (c *ctx) putMetaStored(key []byte, old *meta, m *meta) {
	c.quietNew = old != nil
	c.putMetaMoved(key, old, m)
	c.quietNew = false
}

// COPY src dst [DB n] [REPLACE]
func cmdCopy(c *ctx, args [][]byte) {
	src, dst := args[1], args[2]
	dstDB, replace := c.db, false
	for i := 3; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "replace":
			replace = true
		case "db":
			if i+1 >= len(args) {
				c.replyError(errSyntax)
				return
			}
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			if n < 0 || n >= int64(c.e.opts.Databases) {
				c.replyError(errDBIndex)
				return
			}
			dstDB = int(n)
			i++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	if dstDB == c.db && string(src) == string(dst) {
		c.replyError("ERR source and destination objects are the same")
		return
	}
	m, ok := c.lookupRead(src)
	if !ok {
		c.replyInt(0)
		return
	}
	srcDB := c.db
	c.selectDB(dstDB)
	old, exists := c.lookup(dst)
	if exists && !replace {
		c.selectDB(srcDB)
		c.replyInt(0)
		return
	}
	nm := m
	if m.isCollection() {
		nm.version = c.newVersion()
		c.copyElements(c.e.physOf(srcDB), m.version, c.phys, nm.version)
	}
	var oldp *meta
	if exists {
		oldp = &old
	}
	c.putMetaMoved(dst, oldp, &nm)
	c.notify(NotifyGeneric, "copy_to", dst)
	c.selectDB(srcDB)
	c.emit(args...)
	c.replyInt(1)
}

// copyElements copies every element of a collection to another version
// (and physical db). O(N).
func (c *ctx) copyElements(srcPhys uint16, srcVer uint64, dstPhys uint16, dstVer uint64) {
	sp := elemPrefix(nil, srcPhys, srcVer)
	dp := elemPrefix(nil, dstPhys, dstVer)
	it := c.iter(sp, prefixEnd(sp))
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := append(append([]byte(nil), dp...), it.Key()[len(sp):]...)
		c.set(k, append([]byte(nil), it.Value()...))
	}
}

// MOVE key db: a string moves in O(1); a collection's elements are copied
// to the other physical db: O(N).
func cmdMove(c *ctx, args [][]byte) {
	n, err := parseInt(args[2])
	if err != nil || n < 0 || n >= int64(c.e.opts.Databases) {
		c.replyError(errDBIndex)
		return
	}
	dstDB := int(n)
	if dstDB == c.db {
		c.replyError("ERR source and destination objects are the same")
		return
	}
	key := args[1]
	m, ok := c.lookup(key)
	if !ok {
		c.replyInt(0)
		return
	}
	srcDB, srcPhys := c.db, c.phys
	c.selectDB(dstDB)
	if _, exists := c.lookup(key); exists {
		c.selectDB(srcDB)
		c.replyInt(0)
		return
	}
	nm := m
	if m.isCollection() {
		nm.version = c.newVersion()
		c.copyElements(srcPhys, m.version, c.phys, nm.version)
	}
	c.putMeta(key, nil, &nm)
	moved := c.db
	c.selectDB(srcDB)
	c.deleteKey(key, &m)
	c.notify(NotifyGeneric, "move_from", key)
	c.selectDB(moved)
	c.notify(NotifyGeneric, "move_to", key)
	c.selectDB(srcDB)
	c.emit(args...)
	c.replyInt(1)
}

// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT key when [NX|XX|GT|LT]
func cmdExpire(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch opt := strings.ToLower(string(a)); opt {
		case "nx":
			nx = true
		case "xx":
			xx = true
		case "gt":
			gt = true
		case "lt":
			lt = true
		default:
			c.replyError("ERR Unsupported option " + string(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.replyError("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.replyError("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	invalid := "ERR invalid expire time in '" + name + "' command"
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.replyError(invalid)
			return
		}
		when *= 1000
	}
	if name == "expire" || name == "pexpire" {
		if when > math.MaxInt64-c.now {
			c.replyError(invalid)
			return
		}
		when += c.now
	}
	m, ok := c.lookup(args[1])
	if !ok {
		c.replyInt(0)
		return
	}
	switch {
	case nx && m.expireAt != 0,
		xx && m.expireAt == 0,
		gt && (m.expireAt == 0 || when <= m.expireAt),
		lt && m.expireAt != 0 && when >= m.expireAt:
		c.replyInt(0)
		return
	}
	if when <= c.now && !c.raw {
		c.deleteKey(args[1], &m)
		c.emit(bs("DEL"), args[1])
		c.notify(NotifyGeneric, "del", args[1])
		c.replyInt(1)
		return
	}
	c.setExpire(args[1], &m, when)
	c.emit(bs("PEXPIREAT"), args[1], strconv.AppendInt(nil, when, 10))
	c.notify(NotifyGeneric, "expire", args[1])
	c.replyInt(1)
}

// TTL / PTTL / EXPIRETIME / PEXPIRETIME
func cmdTTL(c *ctx, args [][]byte) {
	m, ok := c.lookup(args[1])
	switch {
	case !ok:
		c.replyInt(-2)
		return
	case m.expireAt == 0:
		c.replyInt(-1)
		return
	}
	switch strings.ToLower(string(args[0])) {
	case "ttl":
		c.replyInt((m.expireAt - c.now + 500) / 1000)
	case "pttl":
		c.replyInt(m.expireAt - c.now)
	case "expiretime":
		c.replyInt(m.expireAt / 1000)
	default:
		c.replyInt(m.expireAt)
	}
}

func cmdPersist(c *ctx, args [][]byte) {
	m, ok := c.lookup(args[1])
	if !ok || m.expireAt == 0 {
		c.replyInt(0)
		return
	}
	c.setExpire(args[1], &m, 0)
	c.emit(args...)
	c.notify(NotifyGeneric, "persist", args[1])
	c.replyInt(1)
}

func cmdDBSize(c *ctx, args [][]byte) { c.replyInt(c.dbCount(c.phys)) }

// FLUSHDB / FLUSHALL [ASYNC|SYNC]: range deletions, O(1) in the batch.
func cmdFlush(c *ctx, args [][]byte) {
	if len(args) > 2 {
		c.replyError(errSyntax)
		return
	}
	if len(args) == 2 {
		if opt := strings.ToLower(string(args[1])); opt != "async" && opt != "sync" {
			c.replyError(errSyntax)
			return
		}
	}
	if strings.EqualFold(string(args[0]), "flushall") {
		for db := 0; db < c.e.opts.Databases; db++ {
			c.flushPhys(c.e.physOf(db))
		}
	} else {
		c.flushPhys(c.phys)
	}
	c.emit(args[0])
	c.replyOK()
}

func (c *ctx) flushPhys(phys uint16) {
	if err := c.g.materialize(c.b); err != nil {
		panic(storageError{err})
	}
	for _, space := range []byte{spaceMeta, spaceExpiry, spaceElem} {
		lo, hi := dbBounds(space, phys)
		if err := c.b.DeleteRange(lo, hi, nil); err != nil {
			panic(storageError{err})
		}
	}
	c.g.addCount(phys, -c.dbCount(phys))
	c.g.clearRows = true
	c.g.ahead = nil
	clear(c.g.metas)
	clear(c.g.elems)
	c.e.watch.touchDB(phys)
	c.notifyFlush()
}

func cmdSelect(c *ctx, args [][]byte) {
	n, err := parseInt(args[1])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if n < 0 || n >= int64(c.e.opts.Databases) {
		c.replyError(errDBIndex)
		return
	}
	c.selectDB(int(n))
	c.replyOK()
}

// SWAPDB a b swaps two entries of the logical-to-physical map: O(1).
func cmdSwapDB(c *ctx, args [][]byte) {
	a, err := parseInt(args[1])
	if err != nil {
		c.replyError("ERR invalid first DB index")
		return
	}
	b, err := parseInt(args[2])
	if err != nil {
		c.replyError("ERR invalid second DB index")
		return
	}
	n := int64(c.e.opts.Databases)
	if a < 0 || a >= n || b < 0 || b >= n {
		c.replyError(errDBIndex)
		return
	}
	m := append([]uint16(nil), *c.e.dbmap.Load()...)
	m[a], m[b] = m[b], m[a]
	c.e.dbmap.Store(&m)
	c.g.dbmap = true
	c.e.evict.pool = evictPool{} // its candidates name logical databases
	c.e.watch.touchDB(m[a])
	c.e.watch.touchDB(m[b])
	c.selectDB(c.db)
	c.emit(args...)
	c.replyOK()
}

var _ = binary.BigEndian
