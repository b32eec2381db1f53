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
	c      *fastcache.Cache
	shards [rowShards]rowShard
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
	return &rowCache{c: fastcache.New(int(maxBytes))}
}

// bytes is the memory the cache has taken (fastcache's chunks).
func (rc *rowCache) bytes() uint64 {
	var st fastcache.Stats
	rc.c.UpdateStats(&st)
	return st.BytesSize
}

func (rc *rowCache) shard(k []byte) *rowShard {
	return &rc.shards[xxhash.Sum64(k)%rowShards]
}

// get returns what the cache knows of key k (a private copy of the value
// when present), and the shard's generation to pass to fill after reading
// Pebble on a miss.
func (rc *rowCache) get(k []byte) (v []byte, st rowState, gen uint64) {
	gen = rc.shard(k).gen.Load() // before the lookup: see fill
	v, ok := rc.c.HasGet(nil, k)
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
	case !add && !rc.c.Has(kb):
	case len(v) <= maxCachedRow:
		rc.put(kb, v, v != nil)
	default:
		rc.c.Del(kb)
	}
	s.mu.Unlock()
}

func (rc *rowCache) put(k, v []byte, present bool) {
	if !present {
		rc.c.Set(k, []byte{tagAbsent})
		return
	}
	var a [1 + maxCachedRow]byte // fastcache copies it
	rc.c.Set(k, append(append(a[:0], tagPresent), v...))
}

// clear drops everything (FLUSHDB, FLUSHALL, a checkpoint installed).
func (rc *rowCache) clear() {
	for i := range rc.shards {
		rc.shards[i].mu.Lock()
		rc.shards[i].gen.Add(1)
	}
	rc.c.Reset()
	for i := range rc.shards {
		rc.shards[i].mu.Unlock()
	}
}
