package server

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/walrus-kv/walrus/engine"
)

// maxmemory. With persistence off (`save ""`, `appendonly no`) Pebble
// keeps the dataset in memory, and a master left to grow would meet the
// kernel's OOM killer, come back empty and hand its replicas an empty
// dataset. There, while used_memory (INFO memory's) is over maxmemory:
//
//   - under maxmemory-policy noeviction, walrus refuses what Redis refuses:
//     its denyoom commands, any command but EXEC, DISCARD, QUIT and RESET
//     inside MULTI, an EXEC whose queue holds a denyoom command, an FCALL
//     of a function that may write and is not allow-oom, and a script's
//     first write. Reads, deletions and the rest go on.
//   - under the other policies, walrus evicts keys as the policy picks
//     them (engine.Evict; below, the passes), and refuses as noeviction
//     does once the policy finds no key left to evict (a volatile policy
//     with no key with a TTL, or an empty dataset), as Redis does, or
//     while writes come faster than eviction frees memory (evictSlack).
//
// With persistence on, the dataset is on disk, used_memory is the caches'
// and the heap's, and maxmemory is not acted on. A replica ignores it, as
// Redis's does by default (replica-ignore-maxmemory): its writes, evictions
// included, are its master's.
//
// used_memory is read every samplePeriod (rates.go) and when maxmemory or
// the policy changes, not at every command, so writes may overshoot the
// limit by what arrives in 100 ms, and under an evicting policy by what
// arrives while a pass runs (up to 1/evictSlack of the limit).
//
// Deleting keys frees nothing at once: Pebble drops deleted data when it
// compacts, and a store that takes no more writes may not compact at
// all. So after an eviction, and while over the limit after anything was
// written (a deletion, a trim, a pop or the like), walrus has the engine
// compact the store (engine.Reclaim) and collects the garbage. That
// compaction rewrites the whole store, which is why eviction frees a
// margin below the limit rather than just enough.

// errOOM is Redis's refusal.
const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

// memLimit is the server's state under maxmemory.
type memLimit struct {
	over atomic.Bool // refuse what may grow the dataset
	mu   sync.Mutex  // serialises checkMemory (the sampler, CONFIG SET)
	was  bool        // over at the last check, for the log
	note string      // the last notice logged about the settings
	mark uint64      // the log index at the last reclaim, or when under the limit
	gcAt time.Time   // the last collection checkMemory forced

	goLimit int64 // the Go runtime's memory limit checkMemory last set; 0 for none

	// An eviction pass: the keys it has still to evict, how many it has,
	// and whether the last pass found no more keys the policy may evict.
	evictLeft, evicted int
	exhausted          bool

	// How long used_memory has been over maxmemory (INFO's
	// total_eviction_exceeded_time and current_eviction_exceeded_time),
	// as the checks see it: exceededSince is when the current spell
	// began (Unix ns; 0: not over), exceededTotal the spells before it.
	// Atomics: INFO does not wait for a check's eviction.
	exceededSince atomic.Int64
	exceededTotal atomic.Int64
}

// exceeded records whether used_memory is over the limit at a check; m.mu
// is held.
func (m *memLimit) exceeded(over bool, now time.Time) {
	since := m.exceededSince.Load()
	switch {
	case over && since == 0:
		m.exceededSince.Store(now.UnixNano())
	case !over && since != 0:
		m.exceededTotal.Add(now.UnixNano() - since)
		m.exceededSince.Store(0)
	}
}

// resetExceeded restarts the count (CONFIG RESETSTAT): a spell under way
// counts from now.
func (m *memLimit) resetExceeded(now time.Time) {
	m.exceededTotal.Store(0)
	if m.exceededSince.Load() != 0 {
		m.exceededSince.Store(now.UnixNano())
	}
}

// exceededTimes returns the total and the current time over the limit.
func (m *memLimit) exceededTimes(now time.Time) (total, current time.Duration) {
	if since := m.exceededSince.Load(); since != 0 {
		current = time.Duration(now.UnixNano() - since)
	}
	return time.Duration(m.exceededTotal.Load()) + current, current
}

// Eviction runs in passes: a pass evicts what takes used_memory
// 1/evictMargin of maxmemory below it (so that the compaction at its end
// runs once per that much written, not at every sample; see evict for
// how many keys that is), evictChunk keys at a time, for at most
// evictBudget per check, so that neither the sampler nor CONFIG SET is
// held for long; a pass left unfinished goes on at the next check, and
// writes are taken meanwhile (Redis lets commands through while its
// eviction is running) unless used_memory is over maxmemory by more than
// 1/evictSlack of it: writes that come faster than eviction frees memory
// are then refused as under noeviction.
const (
	evictMargin = 20
	evictChunk  = 256
	evictBudget = 250 * time.Millisecond
	evictSlack  = 2
)

// goLimitFloor is the lowest Go memory limit maxmemory sets: below it
// the collector would run all the time for little.
const goLimitFloor = 64 << 20

// oomSubcommands are the subcommands Redis marks denyoom (a row's own
// flag covers the rest).
var oomSubcommands = map[string]bool{"function|load": true, "function|restore": true, "xgroup|create": true, "xgroup|createconsumer": true}

// denyOOM reports whether Redis refuses c (or its subcommand sub) over
// maxmemory.
func denyOOM(c *command, sub *aclSub) bool {
	return c.Flags&engine.DenyOOM != 0 || sub != nil && oomSubcommands[sub.name]
}

// oomRefuses reports whether a command checked while over maxmemory is
// refused, as Redis's processCommand decides.
func (s *Server) oomRefuses(cl *client, c *command, sub *aclSub) bool {
	if cl.inMulti() {
		switch c.Name {
		case "exec", "discard", "quit", "reset":
		default:
			return true // what is queued takes memory
		}
	}
	if denyOOM(c, sub) {
		return true
	}
	if c.Name == "exec" {
		for _, q := range cl.queued {
			if qc := s.lookup(q[0]); qc != nil {
				qsub, _ := subcommand(qc, q)
				if denyOOM(qc, qsub) {
					return true
				}
			}
		}
	}
	return false
}

// checkMemory compares used_memory with maxmemory, evicts keys under an
// evicting policy, and sets mem.over. Before deciding the limit is
// passed it collects garbage: at every other call (start, CONFIG SET),
// so that a new limit evicts no key for garbage, and at most once a
// second at the sampler's (sampler true), which also compacts the store
// when over the limit after writes; both take a while.
func (s *Server) checkMemory(sampler bool) {
	s.cfg.RLock()
	limit, policy, samples := s.cfg.MaxMemory, s.cfg.MaxMemoryPolicy, s.cfg.MaxMemorySamples
	s.cfg.RUnlock()
	m := &s.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	note := ""
	if limit > 0 && !s.eng.InMemory() {
		note = "maxmemory is not acted on with persistence on: the dataset is on disk"
	}
	if note != m.note {
		if note != "" {
			s.log.Warn(note, "maxmemory", limit)
		}
		m.note = note
	}
	over := false
	var used uint64
	active := limit > 0 && s.eng.InMemory() && s.repl.link.Load() == nil
	if active {
		used = s.usedMemoryNow()
		if used > uint64(limit) && (!sampler || time.Since(m.gcAt) >= time.Second) {
			// The heap counts garbage until a collection: Redis counts
			// what is allocated. (The store's deleted files are garbage too.)
			runtime.GC()
			m.gcAt = time.Now()
			used = s.usedMemoryNow()
		}
		over = used > uint64(limit)
	}
	m.exceeded(over, time.Now())
	s.setGoMemoryLimit(active, limit)
	if !active || policy == "noeviction" {
		m.evictLeft, m.exhausted = 0, false
	} else if over || m.evictLeft > 0 {
		used = s.evict(policy, samples, used, uint64(limit))
		over = used > uint64(limit) && (m.exhausted || used-uint64(limit) > uint64(limit)/evictSlack)
	}
	if over != m.was {
		if over {
			s.log.Warn("used memory is over maxmemory: refusing commands that may grow the dataset", "used_memory", used, "maxmemory", limit, "maxmemory_policy", policy)
		} else {
			s.log.Info("used memory is back under maxmemory, or the limit no longer applies", "used_memory", used, "maxmemory", limit)
		}
		m.was = over
	}
	m.over.Store(over)
	applied := s.eng.AppliedIndex()
	if !over || !sampler || applied == m.mark || m.evictLeft > 0 {
		if !over {
			m.mark = applied
		}
		return
	}
	m.mark = applied
	s.reclaim()
}

// evict goes on with the eviction pass, or starts one, and more while
// over the limit, for evictBudget at most. A pass evicts enough keys to
// take used_memory (used) 1/evictMargin of limit below limit, by the
// store's bytes per key, and at most 1/evictMargin of the keys. The
// estimate is rough: most of used_memory is not the keys' tables
// (compressed) but memtables and caches, which eviction frees in part
// (the cached blocks of the tables it makes obsolete). So a pass takes
// a slice of the keys at most, and the next pass, on used_memory as the
// last left it, makes up for a short one. At the end of a pass it frees
// what the keys took. It returns used_memory as the last pass left it, or
// used if none ended.
func (s *Server) evict(policy string, samples int, used, limit uint64) uint64 {
	m := &s.mem
	deadline := time.Now().Add(evictBudget)
	for {
		if m.evictLeft == 0 {
			if used <= limit {
				return used
			}
			keys, tables := s.eng.KeyCount(), s.eng.DB().Metrics().DiskSpaceUsage()
			need := used - limit + limit/evictMargin
			n := 1
			if keys > 0 && tables > 0 {
				perKey := max(tables/uint64(keys), 1)
				n = int(min((need+perKey-1)/perKey, max(uint64(keys)/evictMargin, 1)))
			}
			m.evictLeft, m.evicted, m.exhausted = n, 0, false
		}
		for m.evictLeft > 0 && time.Now().Before(deadline) {
			want := min(m.evictLeft, evictChunk)
			got, err := s.eng.Evict(policy, samples, want)
			m.evictLeft -= got
			m.evicted += got
			if err != nil {
				s.log.Warn("evicting keys failed", "err", err)
				m.evictLeft = 0
			} else if got < want {
				m.evictLeft, m.exhausted = 0, true
			}
		}
		if m.evictLeft > 0 {
			return used // the pass goes on at the next check
		}
		s.log.Debug("eviction pass done", "keys", m.evicted, "no_more_keys", m.exhausted, "maxmemory_policy", policy)
		if m.evicted > 0 {
			s.reclaim()
			m.mark = s.eng.AppliedIndex()
		}
		used = s.usedMemoryNow()
		if m.exhausted || !time.Now().Before(deadline) {
			return used
		}
	}
}

// reclaim compacts the store and collects the garbage, so that deleted
// keys stop taking memory.
func (s *Server) reclaim() {
	start := time.Now()
	if err := s.eng.Reclaim(); err != nil {
		s.log.Warn("compacting the store to free memory failed", "err", err)
		return
	}
	runtime.GC() // the compacted files are garbage now
	s.mem.gcAt = time.Now()
	s.log.Debug("compacted the store to free what deletions left", "took", time.Since(start), "used_memory", s.usedMemoryNow())
}

// setGoMemoryLimit makes the Go runtime's soft memory limit maxmemory
// (at least goLimitFloor) while maxmemory is acted on, and lifts it
// otherwise, unless GOMEMLIMIT set one. Go collects its heap when it has
// doubled since the last collection (GOGC=100), so a heap of live keys
// near maxmemory would otherwise take up to twice that from the system
// before a collection frees the garbage; the limit makes it collect
// sooner instead. The caller holds mem.mu. The limit is the process's:
// the server lifts it when it stops.
func (s *Server) setGoMemoryLimit(active bool, limit int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	want := int64(0)
	if active {
		want = max(limit, goLimitFloor)
	}
	if want == s.mem.goLimit {
		return
	}
	s.mem.goLimit = want
	if want == 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		return
	}
	debug.SetMemoryLimit(want)
}

// usedMemory is INFO's used_memory: Go's heap (live and not yet
// collected objects, heap bytes), Pebble's memtables and its block cache,
// and the engine's row cache (rows).
func usedMemory(heap uint64, pm *pebble.Metrics, rows uint64) uint64 {
	return heap + pm.MemTable.Size + uint64(pm.BlockCache.Size) + rows
}

// usedMemoryNow is usedMemory read without runtime.ReadMemStats, which
// stops the world.
func (s *Server) usedMemoryNow() uint64 {
	return usedMemory(heapObjects(), s.eng.DB().Metrics(), s.eng.RowCacheBytes())
}

// cacheBytes sizes the engine's block cache and row cache (each) for a
// master whose dataset is in memory under maxmemory: an eighth of the
// limit each, between 32 MiB and the engine's default of 128 MiB, so
// that the caches, which count in used_memory, leave room for the keys.
// 0 (the engine's default) otherwise. It is decided at start and again
// at each CONFIG SET maxmemory (engine.SetCacheBytes). Pebble charges
// its memtables (32 MiB each) to the block cache, so at 32 MiB that one
// caches next to nothing: the row cache serves the hot rows.
func cacheBytes(persistent bool, maxmemory int64) int64 {
	if persistent || maxmemory <= 0 {
		return 0
	}
	return min(max(maxmemory/8, 32<<20), 128<<20)
}

// heapObjects is the heap's allocated bytes (MemStats.HeapAlloc).
func heapObjects() uint64 {
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(sample)
	if sample[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// setAccessPolicy tells the engine whether keys count uses (an LFU
// maxmemory-policy: OBJECT FREQ) or keep their last use (OBJECT
// IDLETIME), as Redis's objects do under the policy in force.
func (s *Server) setAccessPolicy() {
	s.cfg.RLock()
	policy, factor, decay := s.cfg.MaxMemoryPolicy, s.cfg.LFULogFactor, s.cfg.LFUDecayTime
	s.cfg.RUnlock()
	s.eng.SetAccessPolicy(strings.HasSuffix(policy, "-lfu"), int64(factor), int64(decay))
}
