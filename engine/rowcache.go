package engine

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// rowCache keeps recently used metadata values (a string's value is
// inline in its metadata) so hot reads skip Pebble's LSM search. The
// committer is the only writer of metadata, and it writes every change
// through (put/delete) after its batch commits and before the group's
// replies are released, so a cached value is never older than what a
// client was told. Readers fill the cache on a miss only if no write
// touched the shard since they looked (gen), so a slow reader cannot
// put back a value the committer has just replaced.
type rowCache struct {
	shards   [rowShards]rowShard
	maxBytes int64 // per shard
}

// rowSize is what one entry costs, map overhead included.
func rowSize(k string, v []byte) int64 { return int64(len(k)+len(v)) + 64 }

const (
	rowShards    = 64
	maxCachedRow = 512 // larger values are not cached
)

type rowShard struct {
	mu    sync.Mutex // guards the fields below
	m     map[string]row
	bytes int64
	gen   uint64 // bumped by every committer write
}

// row is a cached value, or the knowledge that the key is absent (so
// reads of deleted or never-written keys skip Pebble too).
type row struct {
	v      []byte
	absent bool
}

// rowState is what the cache knows of a key.
type rowState uint8

const (
	rowUnknown rowState = iota
	rowPresent
	rowAbsent
)

func newRowCache(maxBytes int64) *rowCache {
	rc := &rowCache{maxBytes: maxBytes / rowShards}
	for i := range rc.shards {
		rc.shards[i].m = map[string]row{}
	}
	return rc
}

func (rc *rowCache) shard(k []byte) *rowShard {
	return &rc.shards[xxhash.Sum64(k)%rowShards]
}

// get returns what the cache knows of key k (the value when present),
// and the shard's generation to pass to fill after reading Pebble on a
// miss.
func (rc *rowCache) get(k []byte) (v []byte, st rowState, gen uint64) {
	s := rc.shard(k)
	s.mu.Lock()
	r, ok := s.m[string(k)]
	gen = s.gen
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, rowUnknown, gen
	case r.absent:
		return nil, rowAbsent, gen
	}
	return r.v, rowPresent, gen
}

// fill caches what a reader found in Pebble (found false: absent),
// unless the committer wrote to the shard since gen.
func (rc *rowCache) fill(k, v []byte, found bool, gen uint64) {
	if len(v) > maxCachedRow {
		return
	}
	s := rc.shard(k)
	s.mu.Lock()
	if s.gen == gen {
		s.putLocked(string(k), row{v: v, absent: !found}, rc.maxBytes)
	}
	s.mu.Unlock()
}

// write records the committer's change to k (v nil: deleted).
func (rc *rowCache) write(k string, v []byte) {
	s := rc.shard([]byte(k))
	s.mu.Lock()
	s.gen++
	if len(v) <= maxCachedRow {
		s.putLocked(k, row{v: v, absent: v == nil}, rc.maxBytes)
	} else if old, ok := s.m[k]; ok {
		s.bytes -= rowSize(k, old.v)
		delete(s.m, k)
	}
	s.mu.Unlock()
}

func (s *rowShard) putLocked(k string, r row, max int64) {
	if old, ok := s.m[k]; ok {
		s.bytes -= rowSize(k, old.v)
	}
	// Evict arbitrary entries (map order is random) to stay in bounds.
	for s.bytes+rowSize(k, r.v) > max && len(s.m) > 0 {
		for ek, ev := range s.m {
			s.bytes -= rowSize(ek, ev.v)
			delete(s.m, ek)
			break
		}
	}
	s.m[k] = r
	s.bytes += rowSize(k, r.v)
}

// clear drops everything (FLUSHDB, FLUSHALL, a checkpoint installed).
func (rc *rowCache) clear() {
	for i := range rc.shards {
		s := &rc.shards[i]
		s.mu.Lock()
		s.gen++
		s.m = map[string]row{}
		s.bytes = 0
		s.mu.Unlock()
	}
}
