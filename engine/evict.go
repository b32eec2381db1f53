package engine

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/cockroachdb/pebble"
)

// Eviction: deleting keys to free memory under a maxmemory-policy other
// than noeviction. The server decides when and how many (it watches
// used_memory); the engine decides which, as Redis's evict.c does:
//
//   - allkeys-* policies pick from every key, volatile-* from keys with a
//     TTL (the expiry index);
//   - *-random takes a key of each database in turn;
//   - *-lru, *-lfu and volatile-ttl sample maxmemory-samples keys from each
//     database into a pool of the evictPoolSize best candidates so far,
//     ranked by idle time, by 255 minus the LFU counter, or by how soon
//     the key expires, and evict the best of the pool. The pool lasts
//     across calls, so a candidate found once is not lost.
//
// Samples are consecutive keys in hash order (or in the expiry index),
// each going on where the last one ended (see sample); volatile-ttl's
// come from the front of the expiry index: the keys that expire soonest,
// where Redis samples at random.
//
// An evicted key is deleted as DEL would delete it, with a DEL entry in
// the log so replicas and the log's readers follow (Redis propagates a
// DEL for each), an "evicted" keyspace event and INFO's evicted_keys.
// BenchmarkEvict: about 12 µs a key.

// evictPoolSize is Redis's EVPOOL_SIZE.
const evictPoolSize = 16

// evictBatch is the most keys evicted in one turn of the committer: a
// few milliseconds, which clients' writes wait behind. Eviction gets one
// turn per group commit under load, and turns of 32 keys fell behind a
// pipelined SET load at the limit.
const evictBatch = 256

// evictRank is how a policy ranks candidates.
type evictRank int

const (
	rankLRU evictRank = iota
	rankLFU
	rankTTL
	rankRandom
)

// evictPolicy is a parsed maxmemory-policy.
type evictPolicy struct {
	volatile bool
	rank     evictRank
}

// parseEvictPolicy parses an evicting maxmemory-policy; ok is false for
// noeviction and anything else.
func parseEvictPolicy(s string) (p evictPolicy, ok bool) {
	scope, rank, found := strings.Cut(s, "-")
	if !found || scope != "allkeys" && scope != "volatile" {
		return p, false
	}
	p.volatile = scope == "volatile"
	switch rank {
	case "lru":
		p.rank = rankLRU
	case "lfu":
		p.rank = rankLFU
	case "random":
		p.rank = rankRandom
	case "ttl":
		if !p.volatile {
			return p, false
		}
		p.rank = rankTTL
	default:
		return p, false
	}
	return p, true
}

// evictState is what eviction keeps between calls.
type evictState struct {
	pool   evictPool         // the best candidates found
	nextDB int               // the database *-random evicts from next
	cursor map[uint32][]byte // by evictSpace: where sampling goes on
}

// evictCandidate is an entry of the eviction pool.
type evictCandidate struct {
	db    int
	key   []byte
	score uint64 // higher is evicted first
}

// evictPool holds the best candidates found, best last. The committer
// alone uses it.
type evictPool struct {
	policy evictPolicy
	c      []evictCandidate
}

// offer adds a candidate, keeping the pool sorted and at most
// evictPoolSize long; a key already in the pool is not added twice.
func (p *evictPool) offer(db int, key []byte, score uint64) {
	for _, x := range p.c {
		if x.db == db && string(x.key) == string(key) {
			return
		}
	}
	if len(p.c) == evictPoolSize {
		if score <= p.c[0].score {
			return
		}
		p.c = p.c[1:] // drop the worst
	}
	i := len(p.c)
	for i > 0 && p.c[i-1].score > score {
		i--
	}
	p.c = append(p.c, evictCandidate{})
	copy(p.c[i+1:], p.c[i:])
	p.c[i] = evictCandidate{db: db, key: clone(key), score: score}
}

// pop removes and returns the best candidate.
func (p *evictPool) pop() (evictCandidate, bool) {
	if len(p.c) == 0 {
		return evictCandidate{}, false
	}
	best := p.c[len(p.c)-1]
	p.c = p.c[:len(p.c)-1]
	return best, true
}

// Evict deletes up to n keys as maxmemory-policy policy picks them,
// sampling samples keys per database at a time (maxmemory-samples), and
// returns how many it deleted. Fewer than n means the policy found no
// more keys to evict. It evicts nothing on a replica, whose keys are its
// master's, nor while expiry is held (a client pause), as Redis does not.
func (e *Engine) Evict(policy string, samples, n int) (int, error) {
	p, ok := parseEvictPolicy(policy)
	if !ok || n <= 0 || e.replica.Load() || e.noExpire.Load() {
		return 0, nil
	}
	samples = max(samples, 1)
	evicted := 0
	for evicted < n {
		done, more := 0, true
		err := e.do(func(c *ctx) {
			c.noStats = true // neither a hit nor a use of the keys it looks at
			if e.evict.pool.policy != p {
				e.evict.pool = evictPool{policy: p}
			}
			ev := evictor{c: c, p: p, samples: samples}
			defer ev.close()
			for done < min(evictBatch, n-evicted) && more {
				more = ev.evictOne()
				if more {
					done++
				}
			}
		})
		evicted += done
		if err != nil || !more {
			return evicted, err
		}
	}
	return evicted, nil
}

// EvictedKeys is INFO's evicted_keys.
func (e *Engine) EvictedKeys() int64 { return e.evicted.Load() }

// evictor evicts keys in one turn of the committer. It samples through
// one iterator per database and space for the whole turn (making one
// costs more than the seeks). Those do not see what the turn deletes, so
// sampling skips the keys the group's metadata says are deleted.
type evictor struct {
	c       *ctx
	p       evictPolicy
	samples int
	its     map[uint32]*pebble.Iterator // by evictSpace, positioned on the last key sampled
}

// evictSpace names the space of one physical database eviction samples.
func evictSpace(space byte, phys uint16) uint32 { return uint32(space)<<16 | uint32(phys) }

func (ev *evictor) close() {
	if ev.c.e.evict.cursor == nil {
		ev.c.e.evict.cursor = map[uint32][]byte{}
	}
	for id, it := range ev.its {
		if it.Valid() {
			// The next turn goes on after this key.
			ev.c.e.evict.cursor[id] = append(clone(it.Key()), 0)
		}
		it.Close()
	}
}

// deleted reports whether the key of metadata key mk was deleted in this
// turn of the committer, after the iterators were made.
func (ev *evictor) deleted(mk []byte) bool {
	v, ok := ev.c.g.metas[string(mk)]
	return ok && v == nil
}

// evictOne evicts one key and reports whether it found one. After many
// candidates in a row that are gone it reports true without evicting, so
// that the caller's count of keys to evict still ends.
func (ev *evictor) evictOne() bool {
	c := ev.c
	// A candidate may be gone by now (deleted, or expired and deleted as
	// such by the lookup); a few tries find one that is not.
	for try := 0; try < 4*evictPoolSize; try++ {
		db, key, ok := ev.candidate()
		if !ok {
			return false
		}
		c.selectDB(db)
		m, found := c.lookup(key)
		evict := found && (!ev.p.volatile || m.expireAt != 0)
		if evict {
			c.deleteKey(key, &m)
			c.emit(bs("DEL"), key)
			c.e.evicted.Add(1)
			c.notify(NotifyEvicted, "evicted", key)
		}
		c.finishEntry()
		if evict {
			return true
		}
	}
	return true
}

// candidate returns the key the policy would evict next.
func (ev *evictor) candidate() (db int, key []byte, ok bool) {
	c, e := ev.c, ev.c.e
	dbs := e.opts.Databases
	if ev.p.rank == rankRandom {
		for i := 0; i < dbs; i++ {
			db = e.evict.nextDB % dbs
			e.evict.nextDB++
			c.selectDB(db)
			if k := ev.sample(1, nil); k != nil {
				return db, k, true
			}
		}
		return 0, nil, false
	}
	pool := &e.evict.pool
	for db = 0; db < dbs; db++ {
		c.selectDB(db)
		ev.sample(ev.samples, func(key []byte, expireAt int64) {
			pool.offer(db, key, ev.score(key, expireAt))
		})
	}
	best, ok := pool.pop()
	return best.db, best.key, ok
}

// score ranks a key: the higher, the sooner it is evicted.
func (ev *evictor) score(key []byte, expireAt int64) uint64 {
	c := ev.c
	switch ev.p.rank {
	case rankLRU:
		return uint64(c.e.access.idle(metaKey(nil, c.phys, key), c.now))
	case rankLFU:
		return uint64(255 - c.e.access.freq(metaKey(nil, c.phys, key), c.now))
	default: // rankTTL
		return math.MaxUint64 - uint64(expireAt)
	}
}

// sample passes up to n keys of the current database that the policy may
// evict to fn (with their expiry time, 0 for none) and returns the first
// (a copy), or nil when there is none. allkeys policies read the keys in
// hash order, volatile ones the expiry index in time order, each going on
// where the last sample of the database ended (the first from a random
// place in hash order, or the front of the index): consecutive keys in
// hash order are as good a sample as random ones (Redis samples a
// stretch of its dict's buckets), and the next ones cost a step where a
// random place costs a seek. volatile-ttl reads the index from its
// front: the keys that expire soonest.
func (ev *evictor) sample(n int, fn func(key []byte, expireAt int64)) []byte {
	c := ev.c
	if c.dbCount(c.phys) == 0 {
		return nil
	}
	space := byte(spaceMeta)
	if ev.p.volatile {
		space = spaceExpiry
	}
	id := evictSpace(space, c.phys)
	it, positioned := ev.its[id]
	var valid bool
	switch {
	case ev.p.rank == rankTTL:
		if !positioned {
			it = ev.newIter(id, space)
		}
		valid = it.First()
	case positioned:
		valid = it.Next()
	default:
		it = ev.newIter(id, space)
		start, ok := c.e.evict.cursor[id]
		switch {
		case ok:
		case space == spaceMeta:
			start = metaPrefix(c.phys, rand.Uint64())
		default:
			start, _ = dbBounds(space, c.phys)
		}
		valid = it.SeekGE(start)
	}
	var first []byte
	for wrapped := false; n > 0; {
		if !valid {
			if wrapped {
				break
			}
			wrapped, valid = true, it.First()
			continue
		}
		k := it.Key()
		key, expireAt, ok := k[11:], int64(0), true
		if ev.p.volatile {
			expireAt = int64(binary.BigEndian.Uint64(k[3:11]))
			ok = !ev.deleted(metaKey(nil, c.phys, key))
		} else {
			m, decoded := decodeMeta(it.Value())
			// An expired key is left to the lookups; a deleted one was
			// evicted in this turn.
			ok = decoded && (m.expireAt == 0 || m.expireAt > c.now) && !ev.deleted(k)
			expireAt = m.expireAt
		}
		if ok {
			if first == nil {
				first = clone(key)
			}
			if fn != nil {
				fn(key, expireAt)
			}
			n--
		}
		if n > 0 {
			valid = it.Next()
		}
	}
	return first
}

// newIter makes the turn's iterator over a space of the current database.
func (ev *evictor) newIter(id uint32, space byte) *pebble.Iterator {
	if ev.its == nil {
		ev.its = map[uint32]*pebble.Iterator{}
	}
	it := ev.c.iter(dbBounds(space, ev.c.phys))
	ev.its[id] = it
	return it
}
