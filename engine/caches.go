package engine

import "github.com/cockroachdb/pebble"

// The block cache and the row cache count in a master's used_memory when
// its dataset is in memory, so the server sizes them by maxmemory, and
// again when maxmemory changes (SetCacheBytes). Pebble's cache cannot be
// resized, but a reservation shrinks it at once (it evicts what no
// longer fits); the block cache is made as large as it may ever be
// asked to be and held down to its size by a reservation. The row cache
// is replaced by an empty one of the new size.

// defaultCacheBytes is either cache's size when none is given, and the
// least the block cache can grow to.
const defaultCacheBytes = 128 << 20

// blockCeiling is the block cache's capacity: its size at Open or the
// default, whichever is larger.
func (e *Engine) blockCeiling() int64 { return max(e.opts.BlockCacheBytes, defaultCacheBytes) }

// newBlockCache makes Pebble's block cache for openDB, held down to the
// size last asked for. Open calls it, or Install with swap held.
func (e *Engine) newBlockCache() {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if e.blockBytes == 0 {
		e.blockBytes = e.opts.BlockCacheBytes
	}
	e.cache = pebble.NewCache(e.blockCeiling())
	e.cacheRelease = e.cache.Reserve(int(e.blockCeiling() - e.blockBytes))
}

// SetCacheBytes makes the block cache and the row cache n bytes each (0:
// the default), as maxmemory changes. The block cache evicts what no
// longer fits and cannot grow past the larger of its size at Open and
// the default; the row cache starts over, empty, at its new size
// (fastcache's least is 32 MiB).
func (e *Engine) SetCacheBytes(n int64) {
	if n <= 0 {
		n = defaultCacheBytes
	}
	e.mu.Lock() // not while Close runs
	defer e.mu.Unlock()
	if e.closed.Load() {
		return
	}
	e.swap.RLock() // e.cache is Install's to replace
	defer e.swap.RUnlock()
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if block := min(n, e.blockCeiling()); block != e.blockBytes {
		release := e.cache.Reserve(int(e.blockCeiling() - block))
		e.cacheRelease()
		e.cacheRelease, e.blockBytes = release, block
	}
	e.rows.resize(n)
}

// CacheBytes is what the block cache and the row cache may hold.
func (e *Engine) CacheBytes() (block, rows int64) {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	return e.blockBytes, e.rows.maxBytes.Load()
}
