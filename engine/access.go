package engine

import (
	"encoding/binary"
	"sync/atomic"
)

// Access times, for OBJECT IDLETIME. Redis keeps in each key's object
// the time it was last read or written; walrus keeps them in a table of
// accessSlots slots indexed by the key's hash and database, each the
// second a key of that slot was last used.
// Keys that share a slot look as recently used as the most recent of
// them, never less. The table is not stored: after a restart every key
// is as idle as the engine is old, as keys are after Redis loads an RDB
// file. 4 MiB, and one atomic load (and a store, once a second per slot)
// per lookup.
//
// As in Redis, a key is touched by its commands' lookups (reads and
// writes, a replica's applying its master's writes included), not by
// TYPE, EXISTS, TTL and its kin, OBJECT or MEMORY USAGE (noTouch).

const accessSlots = 1 << 20

// accessBase is how far before the engine opened its clock starts, in
// seconds, so that RESTORE can give a key an idle time of up to 34 years.
const accessBase = 1 << 30

type accessTable struct {
	startMs int64
	slots   [accessSlots]atomic.Uint32 // seconds since accessBase before startMs; 0: not used since startMs
}

func (t *accessTable) slot(mk []byte) *atomic.Uint32 {
	phys := uint64(binary.BigEndian.Uint16(mk[1:3]))
	h := binary.BigEndian.Uint64(mk[3:11])
	return &t.slots[(h^phys*0x9e3779b97f4a7c15)&(accessSlots-1)]
}

// clock is the table's time at nowMs.
func (t *accessTable) clock(nowMs int64) int64 { return max(nowMs-t.startMs, 0)/1000 + accessBase }

// touch records a use at nowMs of the key whose metadata key is mk.
func (t *accessTable) touch(mk []byte, nowMs int64) {
	s := t.slot(mk)
	if v := uint32(t.clock(nowMs)); s.Load() != v {
		s.Store(v)
	}
}

// idle is the seconds since the key of mk was last used, at nowMs.
func (t *accessTable) idle(mk []byte, nowMs int64) int64 {
	now := t.clock(nowMs)
	if v := t.slot(mk).Load(); v > 0 {
		return max(now-int64(v), 0)
	}
	return now - accessBase
}

// setIdle makes the key of mk idle for secs at nowMs (RESTORE IDLETIME;
// a key sharing the slot looks as idle).
func (t *accessTable) setIdle(mk []byte, nowMs, secs int64) {
	t.slot(mk).Store(uint32(max(t.clock(nowMs)-secs, 1)))
}

// touchKey records a use of key by the running command, unless the
// command does not touch keys or this is an internal read.
func (c *ctx) touchKey(mk []byte) {
	if c.noTouch || c.noStats {
		return
	}
	now := c.now
	if now == 0 { // applying an entry: no clock of its own
		now = c.e.opts.Now().UnixMilli()
	}
	c.e.access.touch(mk, now)
}

// noTouch are the commands whose lookups do not count as uses (Redis's
// LOOKUP_NOTOUCH).
var noTouch = map[string]bool{"type": true, "exists": true, "ttl": true, "pttl": true, "expiretime": true, "pexpiretime": true, "object": true}
