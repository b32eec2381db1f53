package server

import (
	"runtime"
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
// dataset. There, while used_memory (INFO memory's) is over maxmemory,
// walrus refuses what Redis refuses under maxmemory-policy noeviction:
// its denyoom commands, any command but EXEC, DISCARD, QUIT and RESET
// inside MULTI, an EXEC whose queue holds a denyoom command, an FCALL of
// a function that may write and is not allow-oom, and a script's first
// write. Reads, deletions and the rest go on. walrus evicts no keys:
// every policy refuses as noeviction does. With persistence on, the
// dataset is on disk, used_memory is the caches' and the heap's, and
// maxmemory is not acted on. A replica ignores it, as Redis's does by
// default (replica-ignore-maxmemory): its writes are its master's.
//
// used_memory is read every samplePeriod (rates.go) and when maxmemory
// changes, not at every command, so writes may overshoot the limit by
// what arrives in 100 ms.
//
// Deleting keys frees nothing at once: Pebble drops deleted data when it
// compacts, and a store that takes no more writes may not compact at
// all. So while over the limit, after anything was written (over the
// limit that can only be a deletion, a trim, a pop or the like), the
// sampler has the engine compact the store (engine.Reclaim).

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
}

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

// checkMemory compares used_memory with maxmemory and sets mem.over.
// The sampler's calls (sampler true) may also collect garbage, at most
// once a second, before deciding the limit is passed, and compact the
// store when over the limit after writes; both take a while.
func (s *Server) checkMemory(sampler bool) {
	s.cfg.RLock()
	limit, policy := s.cfg.MaxMemory, s.cfg.MaxMemoryPolicy
	s.cfg.RUnlock()
	m := &s.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	note := ""
	switch {
	case limit <= 0:
	case !s.eng.InMemory():
		note = "maxmemory is not acted on with persistence on: the dataset is on disk"
	case policy != "noeviction":
		note = "walrus evicts no keys: over maxmemory, maxmemory-policy " + policy + " refuses writes as noeviction does"
	}
	if note != m.note {
		if note != "" {
			s.log.Warn(note, "maxmemory", limit)
		}
		m.note = note
	}
	over := false
	var used uint64
	if limit > 0 && s.eng.InMemory() && s.repl.link.Load() == nil {
		used = s.usedMemoryNow()
		if used > uint64(limit) && sampler && time.Since(m.gcAt) >= time.Second {
			// The heap counts garbage until a collection: Redis counts
			// what is allocated. (The store's deleted files are garbage too.)
			runtime.GC()
			m.gcAt = time.Now()
			used = s.usedMemoryNow()
		}
		over = used > uint64(limit)
	}
	if over != m.was {
		if over {
			s.log.Warn("used memory is over maxmemory: refusing commands that may grow the dataset", "used_memory", used, "maxmemory", limit)
		} else {
			s.log.Info("used memory is back under maxmemory, or the limit no longer applies", "used_memory", used, "maxmemory", limit)
		}
		m.was = over
	}
	m.over.Store(over)
	applied := s.eng.AppliedIndex()
	if !over || !sampler || applied == m.mark {
		if !over {
			m.mark = applied
		}
		return
	}
	m.mark = applied
	start := time.Now()
	if err := s.eng.Reclaim(); err != nil {
		s.log.Warn("compacting the store to free memory failed", "err", err)
		return
	}
	runtime.GC() // the compacted files are garbage now
	m.gcAt = time.Now()
	s.log.Info("compacted the store to free what deletions left", "took", time.Since(start), "used_memory", s.usedMemoryNow())
}

// usedMemory is INFO's used_memory: Go's heap (live and not yet
// collected objects, heap bytes), Pebble's memtables and its block cache.
func usedMemory(heap uint64, pm *pebble.Metrics) uint64 {
	return heap + pm.MemTable.Size + uint64(pm.BlockCache.Size)
}

// usedMemoryNow is usedMemory read without runtime.ReadMemStats, which
// stops the world.
func (s *Server) usedMemoryNow() uint64 { return usedMemory(heapObjects(), s.eng.DB().Metrics()) }

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
