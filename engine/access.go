package engine

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
)

// Access times and frequencies, for OBJECT IDLETIME and OBJECT FREQ.
// Redis keeps in each key's object either the time it was last read or
// written, or, under an LFU maxmemory-policy, a logarithmic access
// counter and the minute it was last decremented. walrus keeps the same
// in a table of accessSlots slots indexed by the key's hash and
// database. Keys that share a slot share what it holds: they look as
// recently used as the most recent of them, and as frequently used as
// all of them together. The table is not stored: after a restart every
// key is as idle as the engine is old, with Redis's initial frequency,
// as keys are after Redis loads an RDB file. 4 MiB, and one atomic load
// (and a store, once a second per slot under LRU) per lookup.
//
// As in Redis, a key is touched by its commands' lookups (reads and
// writes, a replica's applying its master's writes included), not by
// TYPE, EXISTS, TTL and its kin, OBJECT or MEMORY USAGE (noTouch).
//
// A slot holds either kind of stamp: seconds since accessBase before the
// engine opened (at least 2^30) or an LFU stamp, minute<<8 | counter
// (under 2^24). When the policy changes, a slot stamped the other way
// reads as a key not used since the engine opened, or one with the
// initial frequency, until its key is used again.

const accessSlots = 1 << 20

// accessBase is how far before the engine opened its clock starts, in
// seconds, so that RESTORE can give a key an idle time of up to 34 years.
const accessBase = 1 << 30

type accessTable struct {
	startMs int64
	slots   [accessSlots]atomic.Uint32 // seconds since accessBase before startMs, or an LFU stamp; 0: not used since startMs

	lfu       atomic.Bool  // maxmemory-policy is an LFU one
	logFactor atomic.Int64 // lfu-log-factor
	decayMins atomic.Int64 // lfu-decay-time
}

// lfuInit is the counter of a new key (Redis's LFU_INIT_VAL).
const lfuInit = 5

// SetAccessPolicy makes OBJECT FREQ and the access table follow an LFU
// maxmemory-policy (lfu true) with Redis's lfu-log-factor and
// lfu-decay-time, or an LRU one.
func (e *Engine) SetAccessPolicy(lfu bool, logFactor, decayMinutes int64) {
	e.access.logFactor.Store(logFactor)
	e.access.decayMins.Store(decayMinutes)
	e.access.lfu.Store(lfu)
}

// isLFUStamp tells an LFU stamp from a time and from an unused slot.
func isLFUStamp(v uint32) bool { return v > 0 && v < 1<<24 }

// lfuMinute is Redis's LFUGetTimeInMinutes: minutes, modulo 2^16.
func lfuMinute(nowMs int64) uint32 { return uint32(nowMs/60_000) & 0xffff }

// lfuStamp is the slot value of counter at nowMs.
func lfuStamp(nowMs int64, counter uint32) uint32 {
	if s := lfuMinute(nowMs)<<8 | counter; s != 0 {
		return s
	}
	return 1 << 8 // minute 0 with counter 0 would read as unused: a minute later, still 0
}

// freq is the key's decayed counter at nowMs (Redis's LFUDecrAndReturn).
func (t *accessTable) freq(mk []byte, nowMs int64) uint32 {
	return t.decayed(t.slot(mk).Load(), nowMs)
}

func (t *accessTable) decayed(v uint32, nowMs int64) uint32 {
	if !isLFUStamp(v) {
		return lfuInit
	}
	counter, last, now := v&0xff, v>>8, lfuMinute(nowMs)
	elapsed := now - last
	if now < last {
		elapsed = 0xffff - last + now
	}
	if d := t.decayMins.Load(); d > 0 {
		if periods := int64(elapsed) / d; periods < int64(counter) {
			return counter - uint32(periods)
		}
		return 0
	}
	return counter
}

// touchLFU counts a use of the key of slot s at nowMs: the counter decays,
// then grows with a probability that falls as it grows (Redis's
// updateLFU and LFULogIncr).
func (t *accessTable) touchLFU(s *atomic.Uint32, nowMs int64) {
	counter := t.decayed(s.Load(), nowMs)
	if counter < 255 {
		base := max(float64(counter)-lfuInit, 0)
		if rand.Float64() < 1/(base*float64(t.logFactor.Load())+1) {
			counter++
		}
	}
	s.Store(lfuStamp(nowMs, counter))
}

// setFreq gives the key of mk the counter freq at nowMs (a new key, or
// RESTORE FREQ).
func (t *accessTable) setFreq(mk []byte, nowMs int64, freq uint32) {
	t.slot(mk).Store(lfuStamp(nowMs, freq))
}

// touchNew records that the key of mk was created at nowMs: a use, and
// under LFU the initial counter whatever the slot held (Redis's new
// objects), where touch would count one more use of the slot.
func (t *accessTable) touchNew(mk []byte, nowMs int64) {
	if t.lfu.Load() {
		t.setFreq(mk, nowMs, lfuInit)
		return
	}
	t.touch(mk, nowMs)
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
	if t.lfu.Load() {
		t.touchLFU(s, nowMs)
		return
	}
	if v := uint32(t.clock(nowMs)); s.Load() != v {
		s.Store(v)
	}
}

// idle is the seconds since the key of mk was last used, at nowMs.
func (t *accessTable) idle(mk []byte, nowMs int64) int64 {
	now := t.clock(nowMs)
	if v := t.slot(mk).Load(); v > 0 && !isLFUStamp(v) {
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
	if c.touches() {
		c.e.access.touch(mk, c.accessNow())
	}
}

// newKey records the creation of a key by the running command (touchNew),
// under the same conditions as touchKey.
func (c *ctx) newKey(mk []byte) {
	if c.touches() {
		c.e.access.touchNew(mk, c.accessNow())
	}
}

// touches reports whether the running command's lookups count as uses:
// not for the noTouch commands, nor for internal reads.
func (c *ctx) touches() bool { return !c.noTouch && !c.noStats }

// accessNow is the command's clock, or the engine's when applying an
// entry (which has no clock of its own).
func (c *ctx) accessNow() int64 {
	if c.now == 0 {
		return c.e.opts.Now().UnixMilli()
	}
	return c.now
}

// noTouch are the commands whose lookups do not count as uses (Redis's
// LOOKUP_NOTOUCH).
var noTouch = map[string]bool{"type": true, "exists": true, "ttl": true, "pttl": true, "expiretime": true, "pexpiretime": true, "object": true}
