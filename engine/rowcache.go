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

const (
	rowShards    = 64
	maxCachedRow = 512 // larger values are not cached
)

type rowShard struct {
	mu    sync.Mutex // guards the fields below
	m     map[string][]byte
	bytes int64
	gen   uint64 // bumped by every committer write
}

func newRowCache(maxBytes int64) *rowCache {
	rc := &rowCache{maxBytes: maxBytes / rowShards}
	for i := range rc.shards {
		rc.shards[i].m = map[string][]byte{}
	}
	return rc
}

func (rc *rowCache) shard(k []byte) *rowShard {
	return &rc.shards[xxhash.Sum64(k)%rowShards]
}

// get returns the cached value of metadata key k, and the shard's
// generation to pass to fill after reading Pebble on a miss.
func (rc *rowCache) get(k []byte) (v []byte, ok bool, gen uint64) {
	s := rc.shard(k)
	s.mu.Lock()
	v, ok = s.m[string(k)]
	gen = s.gen
	s.mu.Unlock()
	return v, ok, gen
}

// fill caches a value a reader found in Pebble, unless the committer
// wrote to the shard since gen.
func (rc *rowCache) fill(k, v []byte, gen uint64) {
	if len(v) > maxCachedRow {
		return
	}
	s := rc.shard(k)
	s.mu.Lock()
	if s.gen == gen {
		s.putLocked(string(k), v, rc.maxBytes)
	}
	s.mu.Unlock()
}

// write records the committer's change to k (v nil: deleted).
func (rc *rowCache) write(k string, v []byte) {
	s := rc.shard([]byte(k))
	s.mu.Lock()
	s.gen++
	if old, ok := s.m[k]; ok {
		s.bytes -= int64(len(k) + len(old))
		delete(s.m, k)
	}
	if v != nil && len(v) <= maxCachedRow {
		s.putLocked(k, v, rc.maxBytes)
	}
	s.mu.Unlock()
}

func (s *rowShard) putLocked(k string, v []byte, max int64) {
	if old, ok := s.m[k]; ok {
		s.bytes -= int64(len(k) + len(old))
	}
	// Evict arbitrary entries (map order is random) to stay in bounds.
	for s.bytes+int64(len(k)+len(v)) > max && len(s.m) > 0 {
		for ek, ev := range s.m {
			s.bytes -= int64(len(ek) + len(ev))
			delete(s.m, ek)
			break
		}
	}
	s.m[k] = v
	s.bytes += int64(len(k) + len(v))
}

// clear drops everything (FLUSHDB, FLUSHALL, a checkpoint installed).
func (rc *rowCache) clear() {
	for i := range rc.shards {
		s := &rc.shards[i]
		s.mu.Lock()
		s.gen++
		s.m = map[string][]byte{}
		s.bytes = 0
		s.mu.Unlock()
	}
}
