package engine

import (
	"errors"
	"strconv"

	"github.com/cockroachdb/pebble"
	"github.com/tidwall/redcon"
)

// Redis's error replies, word for word: clients match on them.
const (
	errWrongType  = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errSyntax     = "ERR syntax error"
	errNotInt     = "ERR value is not an integer or out of range"
	errNotFloat   = "ERR value is not a valid float"
	errNoSuchKey  = "ERR no such key"
	errOverflow   = "ERR increment or decrement would overflow"
	errDBIndex    = "ERR DB index is out of range"
	errOutOfRange = "ERR index out of range"
)

// ctx is one command's view of the world: where to read, where to write,
// the clock, and where replies and effects go. The committer builds write
// contexts over an indexed batch; the read path builds contexts over the
// live database with no batch.
type ctx struct {
	e    *Engine
	g    *group        // nil on the read path
	r    pebble.Reader // the batch, or the DB for reads
	b    *pebble.Batch // nil on the read path
	sess *Session
	db   int    // logical database
	phys uint16 // its physical database
	now  int64  // Unix ms, fixed for the whole command
	raw  bool   // applying an entry: expiry is not evaluated, nothing is emitted
	out  []byte // replies
	// resp3: the replies are in RESP3 (the client said HELLO 3): maps,
	// sets, doubles and one null where RESP2 has arrays and bulk strings.
	resp3 bool

	noStats bool // an internal read (DEBUG DIGEST, INFO keyspace): no hits or misses, no access times
	noTouch bool // a command whose lookups leave access times alone (access.go)
	readCmd bool // running a read command: its lookups count, in the committer too
	// readLookup: a write command is reading a key it does not change
	// (a source), where Redis's lookupKeyRead sends "keymiss"; see
	// lookupRead. noMiss: the command sends none (OBJECT).
	readLookup, noMiss bool
	txn                bool // running a transaction's commands (EXEC)
	// quietNew: the key being written replaces one (putMetaStored), so
	// it is not a "new" key to keyspace notifications.
	quietNew bool

	// The entry this command (or transaction) produces.
	effects [][]byte // encoded commands
	entryDB int      // database the emitted commands run in so far
	index   uint64   // log index the entry will take
	seq     uint64   // collection versions handed out in this entry
}

func (c *ctx) selectDB(db int) {
	c.db = db
	c.phys = c.e.physOf(db)
}

// writable reports whether this context may change data.
func (c *ctx) writable() bool { return c.b != nil }

// --- replies ---

func (c *ctx) replyOK()                  { c.out = append(c.out, "+OK\r\n"...) }
func (c *ctx) replyNull()                { c.out = appendNull(c.out, c.resp3, "$-1\r\n") }
func (c *ctx) replyNullArray()           { c.out = appendNull(c.out, c.resp3, "*-1\r\n") }
func (c *ctx) replyMap(n int)            { c.out = AppendMap(c.out, c.resp3, n) }
func (c *ctx) replySet(n int)            { c.out = AppendSet(c.out, c.resp3, n) }
func (c *ctx) replyDouble(f float64)     { c.out = AppendDouble(c.out, c.resp3, f) }
func (c *ctx) replyInt(n int64)          { c.out = redcon.AppendInt(c.out, n) }
func (c *ctx) replyBulk(b []byte)        { c.out = redcon.AppendBulk(c.out, b) }
func (c *ctx) replyBulkString(s string)  { c.out = redcon.AppendBulkString(c.out, s) }
func (c *ctx) replyStatus(s string)      { c.out = redcon.AppendString(c.out, s) }
func (c *ctx) replyArray(n int)          { c.out = redcon.AppendArray(c.out, n) }
func (c *ctx) replyError(msg string)     { c.out = append(append(append(c.out, '-'), msg...), '\r', '\n') }
func (c *ctx) replyWrongType()           { c.replyError(errWrongType) }
func (c *ctx) replyBulkInt(n int64)      { c.out = redcon.AppendBulkInt(c.out, n) }
func (c *ctx) replyBulkFloat(f float64)  { c.replyBulkString(formatFloat(f)) }
func (c *ctx) replyArgsError(cmd string) { c.replyError(wrongArgs(cmd)) }

func wrongArgs(cmd string) string {
	return "ERR wrong number of arguments for '" + cmd + "' command"
}

// --- effects ---

// emit records a command that reproduces (part of) this command's change.
func (c *ctx) emit(args ...[]byte) {
	if c.raw || c.g == nil {
		return
	}
	if c.db != c.entryDB {
		c.effects = append(c.effects, encodeCommand(nil, bs("SELECT"), []byte(strconv.Itoa(c.db))))
		c.entryDB = c.db
	}
	c.effects = append(c.effects, encodeCommand(nil, args...))
}

// emitStrings is emit for string arguments.
func (c *ctx) emitStrings(args ...string) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	c.emit(b...)
}

func bs(s string) []byte { return []byte(s) }

// newVersion returns a version for a new collection: unique, and the same
// on every node that applies the same entry.
func (c *ctx) newVersion() uint64 {
	c.seq++
	return c.index<<20 | c.seq
}

// --- keys ---

// lookup returns the live metadata of key. In a write context an expired
// key is deleted on the spot and a DEL effect is emitted; on the read path
// it only reads as absent; in raw mode expiry is not evaluated at all.
func (c *ctx) lookup(key []byte) (meta, bool) {
	mk := metaKey(nil, c.phys, key)
	v, found := c.readMeta(mk)
	if !found {
		c.countLookup(false)
		c.notifyMiss(key)
		return meta{}, false
	}
	m, ok := decodeMeta(v)
	if !ok {
		panic(storageError{errors.New("corrupt metadata for key " + strconv.Quote(string(key)))})
	}
	m.value = append([]byte(nil), m.value...)
	if !c.raw && m.expireAt != 0 && m.expireAt <= c.now {
		if c.writable() {
			c.deleteKey(key, &m)
			c.emit(bs("DEL"), key)
			c.e.expired.Add(1)
			c.notify(NotifyExpired, "expired", key)
		}
		c.countLookup(false)
		c.notifyMiss(key)
		return meta{}, false
	}
	c.countLookup(true)
	c.touchKey(mk)
	return m, true
}

// countLookup counts a read command's key lookup as a hit or a miss, as
// Redis counts its reads' (not its writes'), wherever the read runs: on
// the read path, or in the committer (a pipeline with a write, a
// transaction, a script).
func (c *ctx) countLookup(hit bool) {
	if c.raw || c.noStats || c.writable() && !c.readCmd {
		return
	}
	if hit {
		c.e.hits.Add(1)
	} else {
		c.e.misses.Add(1)
	}
}

// readMeta reads a metadata value: first what this group wrote, then the
// row cache, the key filter and Pebble. The returned slice must not be
// modified.
func (c *ctx) readMeta(mk []byte) ([]byte, bool) {
	if c.g != nil {
		if v, ok := c.g.metas[string(mk)]; ok {
			return v, v != nil
		}
	}
	return c.readThrough(mk)
}

// readThrough reads k from the row cache, else Pebble (filling the cache
// on the read path), unless k is a metadata key the key filter rules
// out. The value returned is the caller's own copy.
func (c *ctx) readThrough(k []byte) ([]byte, bool) {
	rc := c.e.rows
	useCache := c.g == nil || !c.g.clearRows
	var gen uint64
	if useCache {
		var v []byte
		var st rowState
		switch v, st, gen = rc.get(k); st {
		case rowPresent:
			return v, true // already a private copy
		case rowAbsent:
			return nil, false
		}
	}
	if k[0] == spaceMeta && !c.e.keys.Load().mayHold(k) {
		return nil, false
	}
	v, closer, err := c.r.Get(k)
	if err != nil {
		if !errors.Is(err, pebble.ErrNotFound) {
			panic(storageError{err})
		}
		if useCache && c.g == nil {
			rc.fill(k, nil, false, gen)
		}
		return nil, false
	}
	v = append([]byte(nil), v...)
	closer.Close()
	if useCache && c.g == nil {
		rc.fill(k, v, true, gen)
	}
	return v, true
}

// storageError carries a Pebble failure out of a handler; the executor
// turns it into an error reply.
type storageError struct{ err error }

// putMeta writes key's metadata; old is its current metadata or nil.
func (c *ctx) putMeta(key []byte, old *meta, m *meta) {
	mk := metaKey(nil, c.phys, key)
	c.set(mk, m.encode(nil))
	if old == nil {
		c.newKey(mk)
		c.g.addCount(c.phys, 1)
		if !c.quietNew {
			c.notify(NotifyNew, "new", key)
		}
	} else {
		if !c.e.access.lfu.Load() {
			// Under LFU, the lookup that found old counted this use, and
			// an overwritten key keeps its counter (Redis's dbSetValue).
			c.touchKey(mk)
		}
		if old.isCollection() && (!m.isCollection() || m.version != old.version) {
			c.dropElements(c.phys, old.version)
		}
		if old.expireAt != 0 && old.expireAt != m.expireAt {
			c.del(expiryKey(nil, c.phys, old.expireAt, key))
		}
	}
	if m.expireAt != 0 && (old == nil || old.expireAt != m.expireAt) {
		c.set(expiryKey(nil, c.phys, m.expireAt, key), nil)
	}
}

// deleteKey removes key and everything it owns.
func (c *ctx) deleteKey(key []byte, m *meta) {
	c.del(metaKey(nil, c.phys, key))
	if m.expireAt != 0 {
		c.del(expiryKey(nil, c.phys, m.expireAt, key))
	}
	if m.isCollection() {
		c.dropElements(c.phys, m.version)
	}
	c.g.addCount(c.phys, -1)
}

// dropElements deletes a collection's elements with one range deletion.
func (c *ctx) dropElements(phys uint16, version uint64) {
	p := elemPrefix(nil, phys, version)
	if err := c.b.DeleteRange(p, prefixEnd(p), nil); err != nil {
		panic(storageError{err})
	}
}

// set writes a key. Metadata writes are held in the group (reads see
// them there) and reach the batch once per key, at commit or before the
// group iterates metadata: a key written a thousand times in a group is
// one Pebble write.
func (c *ctx) set(k, v []byte) {
	if k[0] == spaceMeta {
		c.g.setMeta(k, v)
		return
	}
	if err := c.b.Set(k, v, nil); err != nil {
		panic(storageError{err})
	}
	if k[0] == spaceElem {
		if v == nil {
			v = []byte{} // present but empty (set members); nil means deleted
		}
		c.g.elems[string(k)] = v
	}
}

func (c *ctx) del(k []byte) {
	if k[0] == spaceMeta {
		c.g.setMeta(k, nil)
		return
	}
	if err := c.b.Delete(k, nil); err != nil {
		panic(storageError{err})
	}
	if k[0] == spaceElem {
		c.g.elems[string(k)] = nil
	}
}

// get reads an element key through the group's writes and the row cache;
// ok is false when absent. The returned slice is the caller's.
func (c *ctx) get(k []byte) ([]byte, bool) {
	if c.g != nil {
		if v, ok := c.g.elems[string(k)]; ok {
			return clone(v), v != nil
		}
	}
	return c.readThrough(k)
}

// List elements bypass the row cache: a list reads them only within its
// bounds, through getListElem, listRange or listReverse, never through
// get, so the cache holds no list element anyone reads and a list write
// has nothing to write through. A pushed element is mostly read once,
// by the pop that removes it, and caching it cost more than reading it
// back (a fifth of the server's CPU under LPUSH).

// getListElem reads a list element from the batch or the database; nil
// when absent. The returned slice is the caller's.
func (c *ctx) getListElem(k []byte) []byte {
	v, closer, err := c.r.Get(k)
	if err != nil {
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		panic(storageError{err})
	}
	v = clone(v)
	closer.Close()
	return v
}

// setListElem writes a list element to the batch.
func (c *ctx) setListElem(k, v []byte) {
	c.g.ahead = nil
	if err := c.b.Set(k, v, nil); err != nil {
		panic(storageError{err})
	}
}

// iter opens an iterator over [lower, upper).
func (c *ctx) iter(lower, upper []byte) *pebble.Iterator {
	if c.g != nil && len(lower) > 0 && lower[0] <= spaceMeta && (len(upper) == 0 || upper[0] >= spaceMeta) {
		if err := c.g.materialize(c.b); err != nil {
			panic(storageError{err})
		}
	}
	it, err := c.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		panic(storageError{err})
	}
	return it
}

// dbCount is the number of keys in a physical db as this context sees it.
func (c *ctx) dbCount(phys uint16) int64 {
	n := c.e.counts[phys].Load()
	if c.g != nil {
		n += c.g.delta[phys]
	}
	return n
}
