package engine

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
)

// A write must know whether its key exists (for the key count, the expiry
// index, a replaced collection's elements), and for a key that does not,
// Pebble's answer is the dearest read there is: a seek in every memtable
// and a bloom check per table. Under SETs of new keys that read took half
// the server's CPU. keyFilter answers most of those reads from memory.
//
// keyFilter is a blocked Bloom filter over every metadata key the store
// holds: one 512-bit block (a cache line) per key, six bits set in it.
// "Absent" is certain; "present" is Pebble's to confirm.
//
// Invariant: once ready, a filter holds every metadata key in Pebble.
//   - once its builder has started, commitBatch adds each metadata key its
//     group writes before the batch commits, so no reader sees a key in
//     Pebble whose bits are not set;
//   - the builder waits for the group being committed when it started,
//     the last that may have added nothing, then adds what Pebble holds,
//     in chunks of hash order: a key present when it started and never
//     deleted since is present in every chunk's view, and one deleted and
//     written again went through commitBatch;
//   - the filter is ready only when the builder has read the whole space.
//
// A deleted key keeps its bits (a false "present", so one more Pebble
// read). When the keys added pass the filter's capacity a new one, sized
// afresh for twice the keys then held, is built the same way beside it
// (Engine.nextKeys); the committer adds to both, lookups keep using the
// old one, and the new one takes its place when it is ready.
type keyFilter struct {
	words    []atomic.Uint64 // blockWords words per block
	mask     uint64          // blocks - 1 (a power of two)
	capacity int64           // keys it was sized for
	added    atomic.Int64    // keys that set at least one bit
	building atomic.Bool     // its builder was started
	ready    atomic.Bool     // the builder is done (see the invariant)
}

const (
	blockWords       = 8  // 512 bits, one cache line
	filterBitsPerKey = 10 // about a 1% false "present" at capacity
	filterProbes     = 6
	// minFilterKeys sizes a new store's filter (2 MiB): a filter per
	// engine, so tests that open many engines must not pay much.
	minFilterKeys = 1 << 20
	// maxFilterKeys bounds the filter at 256 MB: past it writes read
	// Pebble as they did before the filter.
	maxFilterKeys = 200 << 20
	buildChunk    = 16 << 10 // keys read per hold of e.swap while building
)

// newKeyFilter returns an empty filter, not ready, for about n keys; nil
// when n is past maxFilterKeys.
func newKeyFilter(n int64) *keyFilter {
	if n > maxFilterKeys {
		return nil
	}
	blocks := uint64(1) << bits.Len64(uint64(n*filterBitsPerKey/(blockWords*64)))
	return &keyFilter{
		words:    make([]atomic.Uint64, blocks*blockWords),
		mask:     blocks - 1,
		capacity: n,
	}
}

// probe returns the first word of mk's block and the bit positions in it.
// The hash is the one the metadata key already carries, mixed with its
// physical db.
func (f *keyFilter) probe(mk []byte) (base uint64, h uint64) {
	phys := uint64(binary.BigEndian.Uint16(mk[1:3]))
	h = mix64(binary.BigEndian.Uint64(mk[3:11]) ^ phys*0x9e3779b97f4a7c15)
	return (h & f.mask) * blockWords, mix64(h)
}

// add sets mk's bits; it reports whether any was not set before.
func (f *keyFilter) add(mk []byte) bool {
	base, h := f.probe(mk)
	fresh := false
	for range filterProbes {
		bit := h & 511
		w := &f.words[base+bit>>6]
		if m := uint64(1) << (bit & 63); w.Or(m)&m == 0 {
			fresh = true
		}
		h >>= 9
	}
	if fresh {
		f.added.Add(1)
	}
	return fresh
}

// mayHold reports whether mk may be in the store: false only when it is
// certainly not (a filter that is not ready says true).
func (f *keyFilter) mayHold(mk []byte) bool {
	if f == nil || !f.ready.Load() {
		return true
	}
	base, h := f.probe(mk)
	for range filterProbes {
		bit := h & 511
		if f.words[base+bit>>6].Load()&(1<<(bit&63)) == 0 {
			return false
		}
		h >>= 9
	}
	return true
}

// bytes is the filter's memory.
func (f *keyFilter) bytes() int64 {
	if f == nil {
		return 0
	}
	return int64(len(f.words)) * 8
}

// mix64 is SplitMix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// sizedKeyFilter is an empty filter, not ready, for twice the store's
// keys (nil past maxFilterKeys).
func (e *Engine) sizedKeyFilter() *keyFilter {
	return newKeyFilter(max(2*e.KeyCount(), e.opts.filterMinKeys))
}

// installKeyFilter replaces the filter with an empty one, not ready, for
// a database just opened (openDB, with nothing else using it); start
// starts its builder.
func (e *Engine) installKeyFilter() {
	e.keys.Store(e.sizedKeyFilter())
	e.nextKeys.Store(nil)
}

// addKeys adds the metadata keys a group wrote to the filter in use and
// to the one being built to replace it, before the group's batch
// commits; it starts that replacement when the filter in use has
// outgrown its capacity (committer only).
func (e *Engine) addKeys(g *group) {
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	f, next := e.keys.Load(), e.nextKeys.Load()
	if f != nil && !f.building.Load() {
		f = nil // a replica's: its builder will read these keys from Pebble
	}
	if f != nil && next == nil && f.ready.Load() && f.added.Load() > f.capacity {
		if next = e.sizedKeyFilter(); next == nil {
			e.keys.Store(nil) // too many keys for any filter
			f = nil
		} else {
			e.nextKeys.Store(next)
			e.startKeyBuild(next)
		}
	}
	for k, v := range g.metas {
		if v == nil {
			continue
		}
		if f != nil {
			f.add([]byte(k))
		}
		if next != nil {
			next.add([]byte(k))
		}
	}
}

// startKeyBuild starts f's builder, once, unless the engine is closing
// or is a replica. A replica's writes come with what their master found
// (a SET's PREV), so it has little use for the filter, and building one
// right after a full sync would read every key while the master, its
// writers and the replica's catch-up want the CPU; a replica that is
// promoted builds it then (SetReplica).
func (e *Engine) startKeyBuild(f *keyFilter) {
	if f == nil || e.closed.Load() || e.replica.Load() || !f.building.CompareAndSwap(false, true) {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		// A group committing now may have seen f not building and added
		// nothing to it (addKeys); once it is done, Pebble holds its keys
		// for the builder to read, and every later group adds its own.
		e.commitMu.Lock()
		e.commitMu.Unlock()
		if err := e.buildKeyFilter(f); err != nil {
			e.log.Warn("key filter not built; writes read the store for every key", "err", err)
		}
	}()
}

// buildKeyFilter adds every metadata key in Pebble to f, a chunk at a time
// under e.swap, and marks it ready (putting it in use, if it was built to
// replace the filter in use). It gives up, leaving f not ready, when the
// engine closes or f is neither in use nor next.
func (e *Engine) buildKeyFilter(f *keyFilter) error {
	start := time.Now()
	lower, upper := []byte{spaceMeta}, []byte{spaceMeta + 1}
	for {
		done, err := e.buildChunk(f, &lower, upper)
		if e.opts.chunkRead != nil {
			e.opts.chunkRead()
		}
		if err != nil || done {
			if f.ready.Load() {
				e.log.Debug("key filter built", "keys", f.added.Load(), "bytes", f.bytes(), "took", time.Since(start).Round(time.Millisecond))
			}
			return err
		}
		runtime.Gosched()
	}
}

// KeyFilterBytes is the memory of the filters of keys (INFO memory).
func (e *Engine) KeyFilterBytes() int64 {
	return e.keys.Load().bytes() + e.nextKeys.Load().bytes()
}

// buildChunk reads up to buildChunk metadata keys from *lower on into f;
// it moves *lower past them and reports whether the builder is finished.
func (e *Engine) buildChunk(f *keyFilter, lower *[]byte, upper []byte) (bool, error) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if e.closed.Load() || e.keys.Load() != f && e.nextKeys.Load() != f {
		return true, nil
	}
	it, err := e.db.NewIter(&pebble.IterOptions{LowerBound: *lower, UpperBound: upper})
	if err != nil {
		return true, err
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n == buildChunk {
			next := append([]byte(nil), it.Key()...)
			*lower = next // not before Close: the iterator holds the bound
			return false, it.Close()
		}
		f.add(it.Key())
		n++
	}
	if err := it.Close(); err != nil {
		return true, err
	}
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	f.ready.Store(true)
	if e.nextKeys.Load() == f {
		e.keys.Store(f)
		e.nextKeys.Store(nil)
	}
	return true, nil
}
