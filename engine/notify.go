package engine

import "sync/atomic"

// Keyspace notifications (notify-keyspace-events). A command that changes
// a key says so with ctx.notify, in Redis's words and at Redis's moments;
// the committer collects the notes of a group and hands them to
// Options.Notify once the group is committed, so no subscriber hears of
// a write that did not happen. With no class enabled, a notify is one
// atomic load. A replica notifies for the entries it applies, as a Redis
// replica does for the commands its master sends it.

// Notification classes: Redis's event class letters.
const (
	NotifyKeyspace uint32 = 1 << iota // K: __keyspace@<db>__:<key> channels
	NotifyKeyevent                    // E: __keyevent@<db>__:<event> channels
	NotifyGeneric                     // g: DEL, EXPIRE, RENAME, ...
	NotifyString                      // $
	NotifyList                        // l
	NotifySet                         // s
	NotifyHash                        // h
	NotifyZSet                        // z
	NotifyExpired                     // x: a key expired
	NotifyEvicted                     // e: a key was evicted (maxmemory)
	NotifyStream                      // t
	NotifyKeyMiss                     // m: not sent by walrus
	NotifyModule                      // d: never, walrus has no modules
	NotifyNew                         // n: a key was created
)

// Note is one keyspace event of a committed write.
type Note struct {
	DB    int
	Class uint32 // the event's class (Notify*); 0 for a flush
	Event string
	Key   []byte // nil for a flush
	// Sess is the session whose command made the change; nil for the
	// engine's own (active expiry) and a replica's applied entries.
	Sess *Session
}

// SetTracking makes the engine note every change whatever the classes of
// notify-keyspace-events, and the flushes of databases, for the server's
// client-side caching (CLIENT TRACKING) to invalidate keys by.
func (e *Engine) SetTracking(on bool) { e.tracking.Store(on) }

// notifyMask is the enabled classes; see SetNotify.
type notifyMask struct{ atomic.Uint32 }

// SetNotify sets the classes of events to note (notify-keyspace-events).
func (e *Engine) SetNotify(mask uint32) { e.notes.Store(mask) }

// notify notes an event of class on key, if the class is enabled or
// clients track keys.
func (c *ctx) notify(class uint32, event string, key []byte) {
	if c.g == nil {
		return
	}
	mask := c.e.notes.Load()
	if (mask&class == 0 || mask&(NotifyKeyspace|NotifyKeyevent) == 0) && !c.e.tracking.Load() {
		return
	}
	c.g.notes = append(c.g.notes, Note{DB: c.db, Class: class, Event: event, Key: clone(key), Sess: c.sess})
}

// notifyMiss notes a lookup of a missing key ("keymiss", class m) by a
// read command, or by a write command reading a source (lookupRead), as
// Redis's lookupKeyRead does. A read outside the committer hands it over
// at once: there is nothing to wait for.
func (c *ctx) notifyMiss(key []byte) {
	if c.raw || c.noStats || c.noMiss || !c.readCmd && !c.readLookup || !c.missWanted() {
		return
	}
	n := Note{DB: c.db, Class: NotifyKeyMiss, Event: "keymiss", Key: clone(key), Sess: c.sess}
	if c.g != nil {
		c.g.notes = append(c.g.notes, n)
		return
	}
	c.e.opts.Notify([]Note{n})
}

// missWanted reports whether key misses are announced (class m on).
func (c *ctx) missWanted() bool {
	mask := c.e.notes.Load()
	return c.e.opts.Notify != nil && mask&NotifyKeyMiss != 0 && mask&(NotifyKeyspace|NotifyKeyevent) != 0
}

// reading runs fn, a write command's lookups of keys it reads, so that
// a miss sends "keymiss" as Redis's lookupKeyRead does (where Redis looks
// a key up to change it, lookupKeyWrite, it sends none).
func (c *ctx) reading(fn func()) {
	saved := c.readLookup
	c.readLookup = true
	defer func() { c.readLookup = saved }()
	fn()
}

// writing runs fn, a lookup of the key a command is about to change (a
// destination), which sends no "keymiss" (Redis's lookupKeyWrite).
func (c *ctx) writing(fn func()) {
	saved := c.readLookup
	c.readLookup = false
	defer func() { c.readLookup = saved }()
	fn()
}

// readsSources are the write commands whose lookups are reads but for
// their destination's (which goes through writing), as Redis looks their
// keys up with lookupKeyRead.
var readsSources = map[string]bool{
	"sort": true, "sinterstore": true, "sunionstore": true, "sdiffstore": true,
	"zunionstore": true, "zinterstore": true, "zdiffstore": true, "zrangestore": true,
	"georadius": true, "georadiusbymember": true, "geosearchstore": true,
	"xreadgroup": true, "xclaim": true, "xack": true,
}

// lookupRead is lookup in reading.
func (c *ctx) lookupRead(key []byte) (m meta, ok bool) {
	c.reading(func() { m, ok = c.lookup(key) })
	return m, ok
}

// notifyFlush notes that a database was emptied, for client tracking.
func (c *ctx) notifyFlush() {
	if c.g != nil && c.e.tracking.Load() {
		c.g.notes = append(c.g.notes, Note{DB: c.db, Sess: c.sess})
	}
}

// notifyColl notes event on a collection a command changed, then the
// key's deletion when the command emptied it, as Redis orders them.
func (c *ctx) notifyColl(class uint32, event string, key []byte, m *meta) {
	c.notify(class, event, key)
	if m.count <= 0 {
		c.notify(NotifyGeneric, "del", key)
	}
}

// notifyStore notes what a command that stores its result (SINTERSTORE,
// ZUNIONSTORE, SORT STORE, ...) did to its destination: event when it
// stored n elements, the key's deletion when it stored none over a key
// that existed.
func (c *ctx) notifyStore(class uint32, event string, key []byte, n int, existed bool) {
	switch {
	case n > 0:
		c.notify(class, event, key)
	case existed:
		c.notify(NotifyGeneric, "del", key)
	}
}
