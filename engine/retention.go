package engine

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
	"github.com/walrus-kv/walrus/wal"
)

// Log retention. An entry may be dropped only when it is below all of:
// the index Pebble has flushed to disk (recovery needs the rest), every
// pin (a connected replica's next index, a checkpoint being streamed), and
// the last index minus the backlog kept for partial resyncs.

// truncateSlack is how far the floor must pass the log's first index
// before a truncation is worth its cost (it rewrites part of a segment).
const truncateSlack = 16384

// Pin keeps log entries from an index on. Replication pins the next index
// of each connected replica and the start of every checkpoint it streams.
//
// On the in-memory log a pin holds entries only up to the replica buffer
// limit (Options.ReplicaBufferBytes): past it the oldest entries go anyway
// and the pins that needed them are overrun.
type Pin struct {
	e       *Engine
	index   atomic.Uint64
	overrun chan struct{} // closed once (overrunOnce) when entries the pin held were dropped
	once    sync.Once
}

// Pin keeps entries >= index until the pin moves or is released.
func (e *Engine) Pin(index uint64) *Pin {
	p := &Pin{e: e, overrun: make(chan struct{})}
	p.index.Store(index)
	e.pinMu.Lock()
	e.pins[p] = struct{}{}
	e.pinMu.Unlock()
	e.applyRetainFloor()
	return p
}

// Move advances the pin (a replica acknowledged more).
func (p *Pin) Move(index uint64) { p.index.Store(index); p.e.applyRetainFloor() }

// Release drops the pin.
func (p *Pin) Release() {
	p.e.pinMu.Lock()
	delete(p.e.pins, p)
	p.e.pinMu.Unlock()
	p.e.applyRetainFloor()
}

// Overrun is closed when the log dropped entries the pin held because the
// in-memory log reached the replica buffer limit: whoever reads from the
// pin (a replica's feeder) can no longer be served and should disconnect.
func (p *Pin) Overrun() <-chan struct{} { return p.overrun }

// overrunPins runs in the committer after each append: it closes Overrun
// of every pin at or below the highest index the in-memory log's hard limit
// dropped.
func (e *Engine) overrunPins() {
	r, ok := e.wlog.(interface{ Overrun() uint64 })
	if !ok {
		return
	}
	x := r.Overrun()
	if x == 0 || x == e.lastOverrun {
		return
	}
	e.lastOverrun = x
	e.pinMu.Lock()
	defer e.pinMu.Unlock()
	for p := range e.pins {
		if p.index.Load() <= x {
			p.once.Do(func() { close(p.overrun) })
		}
	}
}

// SetReplicaBufferLimit changes Options.ReplicaBufferBytes at run time
// (CONFIG SET client-output-buffer-limit).
func (e *Engine) SetReplicaBufferLimit(n int64) {
	if r, ok := e.wlog.(interface{ SetHardLimit(int64) }); ok {
		r.SetHardLimit(n)
	}
}

// minPin is the lowest pinned index, math.MaxUint64 when nothing is pinned.
func (e *Engine) minPin() uint64 {
	e.pinMu.Lock()
	defer e.pinMu.Unlock()
	floor := uint64(math.MaxUint64)
	for p := range e.pins {
		floor = min(floor, p.index.Load())
	}
	return floor
}

// applyRetainFloor tells an in-memory ring which entries it must keep.
func (e *Engine) applyRetainFloor() {
	r, ok := e.wlog.(interface{ SetRetain(uint64) })
	if !ok {
		return
	}
	floor := e.minPin()
	if floor == math.MaxUint64 {
		floor = 0
	}
	r.SetRetain(floor)
}

// SetFsync changes Options.Fsync at run time (CONFIG SET appendfsync).
// The in-memory log has nothing to fsync.
func (e *Engine) SetFsync(p wal.SyncPolicy) {
	if f, ok := e.wlog.(interface{ SetSyncPolicy(wal.SyncPolicy) }); ok {
		f.SetSyncPolicy(p)
	}
}

// defaultBacklogBytes is repl-backlog-size's default, 1 MiB.
const defaultBacklogBytes = 1 << 20

// backlogEntries approximates repl-backlog-size in entries (a small SET
// entry is about 40 bytes).
func (e *Engine) backlogEntries() uint64 { return uint64(e.backlog.Load() / 40) }

// SetBacklogBytes changes Options.BacklogBytes at run time (CONFIG SET
// repl-backlog-size): the in-memory log's bound at once, the disk log's
// at its next truncation. As in Redis, a larger backlog holds only what
// is written from then on.
func (e *Engine) SetBacklogBytes(n int64) {
	if n <= 0 {
		n = defaultBacklogBytes
	}
	e.backlog.Store(n)
	if r, ok := e.wlog.(interface{ SetMaxBytes(int64) }); ok {
		r.SetMaxBytes(n)
	}
}

// idleFlushEntries is the least unflushed tail a pause in the writes
// flushes (smaller ones wait for FlushInterval).
const idleFlushEntries = 4096

// idleFlushAfter is how long the writes must pause for a flush.
const idleFlushAfter = 250 * time.Millisecond

// flushLoop flushes Pebble every FlushInterval so the log can be
// truncated, and also as soon as the writes pause (idleFlushAfter): the flush
// and the compaction it may start then run while the node is quiet rather
// than during a later burst, a restart replays less, and a full sync
// finds nearly everything flushed (see replica.MasterOptions.CheckpointMaxLag).
// A longer pause (idleCompactAfter) also empties L0 (compactIdleL0).
func (e *Engine) flushLoop(stop context.Context) {
	tick := min(idleFlushAfter, e.opts.FlushInterval)
	t := time.NewTicker(tick)
	defer t.Stop()
	last, seen := time.Now(), e.state()
	quietSince := last // when the state last changed
	for {
		select {
		case <-stop.Done():
			return
		case <-t.C:
		}
		now := e.state()
		if now != seen {
			quietSince = time.Now()
		}
		idle := now == seen && now.applied-e.flushed.Load() >= idleFlushEntries
		seen = now
		if idle || time.Since(last) >= e.opts.FlushInterval {
			last = time.Now()
			if err := e.flushAndTruncate(); err != nil {
				e.log.Error("flush failed", "err", err)
			}
			continue
		}
		if time.Since(quietSince) >= idleCompactAfter {
			if err := e.compactIdleL0(seen); err != nil {
				e.log.Error("idle compaction failed", "err", err)
			}
		}
	}
}

// dataState is what tells one state of the dataset from the next: the
// last write applied, and the checkpoints installed (an Install replaces
// the dataset and its applied index with the master's).
type dataState struct{ applied, installs uint64 }

func (e *Engine) state() dataState {
	return dataState{applied: e.applied.Load(), installs: e.installs.Load()}
}

// idleCompactAfter is how long the writes must pause before L0 is
// compacted (compactIdleL0).
const idleCompactAfter = time.Second

// l0CompactionDepth is the number of L0 sublevels at which Pebble
// compacts L0 into the level below (Pebble's default is two). With keys
// spread over the key space, that compaction rewrites the whole base level,
// so a deeper L0 means fewer rewrites for the same writes. It also means a
// full sync's checkpoint usually ships with L0 below the threshold: neither
// the master's flush for it nor the replica opening it starts a compaction
// in the middle of the sync. Point reads look at up to three more tables,
// each behind a bloom filter.
const l0CompactionDepth = 4

// FlushCompactsL0 reports whether a Pebble flush now would bring L0 to the
// depth at which Pebble compacts it (l0CompactionDepth).
func (e *Engine) FlushCompactsL0() bool {
	e.swap.RLock()
	defer e.swap.RUnlock()
	return e.db.Metrics().Levels[0].Sublevels+1 >= l0CompactionDepth
}

// lbaseMaxBytes is Pebble's LBaseMaxBytes (its default, set explicitly
// because compactIdleL0 relies on it).
const lbaseMaxBytes = 64 << 20

// compactIdleL0 compacts L0's tables into the last level while the node
// is quiet. Tables left in L0 bring a later flush closer to a compaction
// (at l0CompactionDepth), and with keys spread over the key space that
// compaction rewrites the last level; that flush may well be a full
// sync's checkpoint, which would then pay it on the master's CPU while the
// replica is served. Done here, nothing waits for it, and point reads find
// one table fewer to look at.
//
// It acts only when L0 compacts straight into the last level
// (l0CompactsIntoLastLevel): Compact then does exactly the compaction
// Pebble would do at the next flush. On a larger store L0 compacts into an
// Lbase of at most lbaseMaxBytes, while Compact would go on to rewrite
// every level below it, so it is left to Pebble.
//
// quiet is the state the writes paused at; if the dataset has left it,
// nothing is done. A replica's Install may hold the swap lock meanwhile:
// a replica left idle before its first full sync used to compact the
// checkpoint it had just installed (its whole store, 25 MB for a million
// keys, a second of CPU) while it caught up with its master.
func (e *Engine) compactIdleL0(quiet dataState) error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if e.state() != quiet || !l0CompactsIntoLastLevel(e.db.Metrics()) {
		return nil
	}
	// Compact flushes a memtable that overlaps the range; flush first
	// instead, so the flushed index follows and the range covers the table.
	if _, err := e.flushLocked(); err != nil {
		return fmt.Errorf("flush pebble: %w", err)
	}
	tables, err := e.db.SSTables()
	if err != nil || len(tables) == 0 {
		return err
	}
	if err := e.compactTables(tables[:1], false); err != nil {
		return fmt.Errorf("compact L0: %w", err)
	}
	return nil
}

// compactTables compacts the key range the levels' tables span (nothing
// when they hold none).
func (e *Engine) compactTables(levels [][]pebble.SSTableInfo, parallelize bool) error {
	var lo, hi []byte
	for _, tables := range levels {
		for _, t := range tables {
			if lo == nil || bytes.Compare(t.Smallest.UserKey, lo) < 0 {
				lo = t.Smallest.UserKey
			}
			if hi == nil || bytes.Compare(t.Largest.UserKey, hi) > 0 {
				hi = t.Largest.UserKey
			}
		}
	}
	if lo == nil {
		return nil
	}
	// Compact's end is inclusive, but it must be above start.
	return e.db.Compact(lo, append(bytes.Clone(hi), 0), parallelize)
}

// Reclaim flushes Pebble and compacts the whole store, so that what was
// deleted stops taking space: an LSM frees a deleted key's bytes only
// when a compaction drops them, and a quiet store may not compact for a
// long time. It returns once the tables the compaction replaced are
// deleted too, or after a second if an iterator still reads them. With
// persistence off this is memory (maxmemory in the server uses it after
// deletions and evictions).
func (e *Engine) Reclaim() error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if _, err := e.flushLocked(); err != nil {
		return fmt.Errorf("flush pebble: %w", err)
	}
	levels, err := e.db.SSTables()
	if err != nil {
		return err
	}
	if err := e.compactTables(levels, true); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	// Pebble deletes the tables a compaction made obsolete in the
	// background, once no iterator reads them: wait for that, a while.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if t := e.db.Metrics().Table; t.ObsoleteCount == 0 && t.ZombieCount == 0 {
			break
		}
	}
	return nil
}

// l0CompactsIntoLastLevel reports whether L0 holds tables that Pebble
// would compact straight into the last level: nothing in between, no
// compaction running, and a store small enough (under lbaseMaxBytes) that
// the last level is Pebble's base level.
func l0CompactsIntoLastLevel(m *pebble.Metrics) bool {
	last := len(m.Levels) - 1
	if m.Levels[0].NumFiles == 0 || m.Compact.NumInProgress > 0 {
		return false
	}
	for l := 1; l < last; l++ {
		if m.Levels[l].NumFiles > 0 {
			return false
		}
	}
	return m.Levels[0].Size+m.Levels[last].Size <= lbaseMaxBytes
}

// flushAndTruncate flushes Pebble, records the flushed index, and drops
// log entries nobody needs any more.
func (e *Engine) flushAndTruncate() error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	idx := e.applied.Load()
	if idx > e.flushed.Load() {
		if err := e.db.Flush(); err != nil {
			return fmt.Errorf("flush pebble: %w", err)
		}
		e.flushed.Store(idx)
	}
	if e.opts.InMemory {
		return nil
	}
	floor := e.flushed.Load() + 1
	floor = min(floor, e.minPin())
	last := e.wlog.LastIndex()
	if keep := e.backlogEntries(); last > keep {
		floor = min(floor, last-keep+1)
	} else {
		floor = 0
	}
	first := e.wlog.FirstIndex()
	if floor < first+truncateSlack {
		return nil
	}
	if err := e.wlog.TruncateFront(floor); err != nil {
		return fmt.Errorf("truncate log before %d: %w", floor, err)
	}
	return nil
}

// CompactLog flushes Pebble and drops every log entry that recovery, the
// replicas' pins and the backlog no longer need: what BGREWRITEAOF asks
// of Redis's append-only file, which this log never needs rewritten.
func (e *Engine) CompactLog() error { return e.flushAndTruncate() }

// Flush makes everything applied so far durable in Pebble (a checkpoint
// taken afterwards is current) and returns the flushed index.
func (e *Engine) Flush() (uint64, error) {
	e.swap.RLock()
	defer e.swap.RUnlock()
	return e.flushLocked()
}

func (e *Engine) flushLocked() (uint64, error) {
	idx := e.applied.Load()
	if err := e.db.Flush(); err != nil {
		return 0, err
	}
	if idx > e.flushed.Load() {
		e.flushed.Store(idx)
	}
	return idx, nil
}

// Save writes a point-in-time copy of the dataset to dir/dump (SAVE,
// BGSAVE): a Pebble checkpoint, copied out of memory when persistence is
// off. It replaces the previous dump only once the new one is complete.
func (e *Engine) Save(dir string) error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	if _, err := e.flushLocked(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dst := filepath.Join(dir, "dump")
	tmp := dst + ".tmp"
	os.RemoveAll(tmp)
	if e.opts.InMemory {
		ck := "save-checkpoint"
		if err := e.db.Checkpoint(ck); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		defer removeAll(e.fs, ck)
		if err := copyDir(e.fs, ck, tmp); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	} else if err := e.db.Checkpoint(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("checkpoint: %w", err)
	}
	os.RemoveAll(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	e.lastSave.Store(e.opts.Now().Unix())
	e.dirty.Store(0)
	return nil
}

// copyDir copies a flat directory from fs to the OS filesystem.
func copyDir(fs vfs.FS, src, dst string) error {
	names, err := fs.List(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		if err := vfs.CopyAcrossFS(fs, fs.PathJoin(src, n), vfs.Default, filepath.Join(dst, n)); err != nil {
			return fmt.Errorf("copy %s: %w", n, err)
		}
	}
	return nil
}

func removeAll(fs vfs.FS, dir string) {
	names, _ := fs.List(dir)
	for _, n := range names {
		fs.Remove(fs.PathJoin(dir, n))
	}
	fs.Remove(dir)
}
