package engine

import (
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/cespare/xxhash/v2"
)

// rowCache keeps recently used metadata values (a string's value is
// inline in its metadata) and element rows so hot reads skip Pebble's LSM
// search. The committer is the only writer of rows, and it writes every
// change through (put/delete) after its batch commits and before the
// group's replies are released, so a cached value is never older than
// what a client was told. Readers fill the cache on a miss only if no
// write touched the shard since they looked (gen), so a slow reader
// cannot put back a value the committer has just replaced.
//
// The rows live in fastcache: off the Go heap, in 64 KiB chunks evicted
// in insertion order, so a cache of millions of rows costs the garbage
// collector nothing and a write never rehashes a large map.
type rowCache struct {
	// c is replaced by resize, with every shard's mutex held: under one,
	// it stays put; a reader without one may look up a cache just
	// replaced, which then holds nothing newer than it did when the
	// read began.
	c        atomic.Pointer[fastcache.Cache]
	maxBytes atomic.Int64 // what c was made for
	shards   [rowShards]rowShard
}

const (
	rowShards    = 64
	maxCachedRow = 512 // larger values are not cached
)

// rowShard orders the committer's writes against readers' fills.
type rowShard struct {
	mu  sync.Mutex    // held by writes and fills
	gen atomic.Uint64 // bumped by every committer write
}

// A cached row is a tag byte and the value: present, or the knowledge
// that the key is absent (so reads of deleted or never-written keys skip
// Pebble too).
const (
	tagAbsent  = 0
	tagPresent = 1
)

// rowState is what the cache knows of a key.
type rowState uint8

const (
	rowUnknown rowState = iota
	rowPresent
	rowAbsent
)

// newRowCache returns a cache of about maxBytes (fastcache's minimum is
// 32 MiB; it allocates as rows arrive).
func newRowCache(maxBytes int64) *rowCache {
	rc := &rowCache{}
	rc.c.Store(fastcache.New(int(maxBytes)))
	rc.maxBytes.Store(maxBytes)
	return rc
}

// bytes is the memory the cache has taken (fastcache's chunks).
func (rc *rowCache) bytes() uint64 {
	var st fastcache.Stats
	rc.c.Load().UpdateStats(&st)
	return st.BytesSize
}

// resize replaces the cache with an empty one of about maxBytes, unless
// it has that size already. The old one's chunks go back to fastcache's
// pool, where the new one takes its chunks from.
func (rc *rowCache) resize(maxBytes int64) {
	if rc.maxBytes.Load() == maxBytes {
		return
	}
	rc.lockAll()
	old := rc.c.Load()
	rc.c.Store(fastcache.New(int(maxBytes)))
	rc.maxBytes.Store(maxBytes)
	old.Reset()
	rc.unlockAll()
}

func (rc *rowCache) shard(k []byte) *rowShard {
	return &rc.shards[xxhash.Sum64(k)%rowShards]
}

// get returns what the cache knows of key k (a private copy of the value
// when present), and the shard's generation to pass to fill after reading
// Pebble on a miss.
func (rc *rowCache) get(k []byte) (v []byte, st rowState, gen uint64) {
	gen = rc.shard(k).gen.Load() // before the lookup: see fill
	v, ok := rc.c.Load().HasGet(nil, k)
	switch {
	case !ok || len(v) == 0:
		return nil, rowUnknown, gen
	case v[0] == tagAbsent:
		return nil, rowAbsent, gen
	}
	return v[1:], rowPresent, gen
}

// fill caches what a reader found in Pebble (found false: absent),
// unless the committer wrote to the shard since gen.
func (rc *rowCache) fill(k, v []byte, found bool, gen uint64) {
	if len(v) > maxCachedRow {
		return
	}
	s := rc.shard(k)
	s.mu.Lock()
	if s.gen.Load() == gen {
		rc.put(k, v, found)
	}
	s.mu.Unlock()
}

// write records the committer's change to k (v nil: deleted).
func (rc *rowCache) write(k string, v []byte) { rc.change(k, v, true) }

// update records the committer's change to k if the cache holds k; a key
// it does not hold stays out (a replica's cache keeps what its own
// readers fill it with, not every row its master writes).
func (rc *rowCache) update(k string, v []byte) { rc.change(k, v, false) }

func (rc *rowCache) change(k string, v []byte, add bool) {
	kb := []byte(k)
	s := rc.shard(kb)
	s.mu.Lock()
	s.gen.Add(1)
	switch {
	case !add && !rc.c.Load().Has(kb):
	case len(v) <= maxCachedRow:
		rc.put(kb, v, v != nil)
	default:
		rc.c.Load().Del(kb)
	}
	s.mu.Unlock()
}

func (rc *rowCache) put(k, v []byte, present bool) {
	if !present {
		rc.c.Load().Set(k, []byte{tagAbsent})
		return
	}
	var a [1 + maxCachedRow]byte // fastcache copies it
	rc.c.Load().Set(k, append(append(a[:0], tagPresent), v...))
}

// clear drops everything (FLUSHDB, FLUSHALL, a checkpoint installed).
func (rc *rowCache) clear() {
	rc.lockAll()
	rc.c.Load().Reset()
	rc.unlockAll()
}

// lockAll takes every shard's mutex and counts a write in each, so no
// fill begun before it lands after it.
func (rc *rowCache) lockAll() {
	for i := range rc.shards {
		rc.shards[i].mu.Lock()
		rc.shards[i].gen.Add(1)
	}
}

func (rc *rowCache) unlockAll() {
	for i := range rc.shards {
		rc.shards[i].mu.Unlock()
	}
}
