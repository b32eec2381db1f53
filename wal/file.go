package wal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	twal "github.com/tidwall/wal"
)

// syncInterval is the SyncEverySec period.
const syncInterval = time.Second

// segmentCacheSize is how many older segments tidwall/wal keeps loaded for
// readers (replica feeders catching up), on top of the tail.
const segmentCacheSize = 4

// File is the disk log: segment files under one directory, written through
// tidwall/wal, every record checksummed. Open it with Open.
//
// Locking: opMu serialises the slow operations (Sync, TruncateFront, Reset,
// Close) so that fsyncs and file removals run without mu held; mu guards the
// tidwall/wal handle (which is not safe for concurrent readers) and the
// fields below it. Lock order: opMu, then mu.
type File struct {
	dir  string
	opts Options
	log  *slog.Logger

	opMu     sync.Mutex
	syncFile *os.File // guarded by opMu (changed only with mu held too): the tail segment, for fsync
	syncSeg  uint64   // guarded by opMu: first index of the segment syncFile is

	mu        sync.Mutex
	tw        *twal.Log // nil only after a failed Reset
	first     uint64
	last      uint64
	segs      []uint64 // first index of each segment file, ascending; the last is the tail
	tailBytes int64    // size of the tail segment file as tidwall/wal sees it
	dirDirty  bool     // a segment file appeared since the last directory fsync
	gen       uint64   // bumped by Reset, for Wait
	closed    bool
	failed    error // sticky: a write failed, the handle must be reopened
	batch     twal.Batch
	frame     []byte
	signal    signal

	synced atomic.Uint64 // written with opMu held

	policy     atomic.Int32  // the SyncPolicy in force (SetSyncPolicy)
	stopSyncer chan struct{} // closed by Close
	syncerDone chan struct{}
	stopOnce   sync.Once
}

// Open opens (or creates) the log in dir. It verifies the checksum of every
// record, cuts a torn tail off the last segment (logging one warning), and
// refuses, with a *CorruptError, a damaged record anywhere else.
func Open(dir string, opts Options) (*File, error) {
	opts = opts.withDefaults()
	f := &File{dir: dir, opts: opts, log: opts.Logger}
	if err := f.open(); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	f.policy.Store(int32(opts.Sync))
	f.stopSyncer = make(chan struct{})
	f.syncerDone = make(chan struct{})
	go f.runSyncer()
	return f, nil
}

// SetSyncPolicy changes the fsync policy (CONFIG SET appendfsync). Under
// SyncAlways the next Append fsyncs what the policy before it left
// unsynced too.
func (f *File) SetSyncPolicy(p SyncPolicy) { f.policy.Store(int32(p)) }

func (f *File) open() error {
	if err := os.MkdirAll(f.dir, dirPerm); err != nil {
		return err
	}
	segs, err := prepareDir(f.dir, f.log)
	if err != nil {
		return err
	}
	tailSize, err := verifySegments(f.dir, segs, f.log)
	if err != nil {
		return err
	}
	tw, err := f.openTidwall()
	if err != nil {
		return err
	}
	f.tw, f.segs, f.tailBytes = tw, segs, tailSize
	f.first, _ = tw.FirstIndex()
	f.last, _ = tw.LastIndex()
	// What a crashed predecessor left in the page cache is durable only
	// after an fsync; older segments were synced when they were sealed.
	if err := f.syncLocked(); err != nil {
		tw.Close()
		return err
	}
	return syncDir(f.dir)
}

func (f *File) openTidwall() (*twal.Log, error) {
	tw, err := twal.Open(f.dir, &twal.Options{
		NoSync:           true, // we fsync per SyncPolicy
		SegmentSize:      f.opts.SegmentSize,
		LogFormat:        twal.Binary,
		SegmentCacheSize: segmentCacheSize,
		NoCopy:           true, // Read verifies the checksum and copies
		AllowEmpty:       true,
		DirPerms:         dirPerm,
		FilePerms:        filePerm,
	})
	if err != nil {
		return nil, fmt.Errorf("tidwall/wal: %w", err)
	}
	return tw, nil
}

// Dir returns the log's directory.
func (f *File) Dir() string { return f.dir }

// FirstIndex returns the oldest index held; LastIndex()+1 when empty.
func (f *File) FirstIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
}

// LastIndex returns the newest index; 0 for a new log.
func (f *File) LastIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// SyncedIndex returns the highest index known to be on stable storage.
func (f *File) SyncedIndex() uint64 { return f.synced.Load() }

// Append writes entries at first, first+1, ... as one write. Under
// SyncAlways it returns after the fsync; concurrent appenders share fsyncs.
func (f *File) Append(first uint64, entries [][]byte) error {
	f.mu.Lock()
	if err := f.usableLocked(); err != nil {
		f.mu.Unlock()
		return err
	}
	if first != f.last+1 {
		want := f.last + 1
		f.mu.Unlock()
		return fmt.Errorf("append at %d, next is %d: %w", first, want, ErrOutOfOrder)
	}
	if len(entries) == 0 {
		f.mu.Unlock()
		return nil
	}
	var written int64
	for i, e := range entries {
		f.frame = frameInto(f.frame[:0], e)
		f.batch.Write(first+uint64(i), f.frame)
		written += int64(recordSize(len(e)))
	}
	if err := f.tw.WriteBatch(&f.batch); err != nil {
		f.batch.Clear()
		f.failed = fmt.Errorf("wal %s: append at %d failed, reopen needed: %w", f.dir, first, err)
		f.mu.Unlock()
		return f.failed
	}
	f.last += uint64(len(entries))
	f.tailBytes += written
	if f.tailBytes >= int64(f.opts.SegmentSize) {
		// tidwall/wal may have sealed the tail and started a new segment.
		if err := f.refreshSegmentsLocked(); err != nil {
			f.failed = fmt.Errorf("wal %s: after append at %d: %w", f.dir, first, err)
			f.mu.Unlock()
			return f.failed
		}
	}
	f.signal.broadcast()
	last := f.last
	f.mu.Unlock()
	if SyncPolicy(f.policy.Load()) == SyncAlways {
		return f.syncTo(last)
	}
	return nil
}

// refreshSegmentsLocked re-lists the directory to learn about segment files
// tidwall/wal created, and measures the tail. Called once per SegmentSize
// bytes appended.
func (f *File) refreshSegmentsLocked() error {
	l, err := listDir(f.dir)
	if err != nil {
		return err
	}
	tail := f.segs[len(f.segs)-1]
	for _, s := range l.segs {
		if s > tail {
			f.segs = append(f.segs, s)
			f.dirDirty = true
		}
	}
	fi, err := os.Stat(segmentPath(f.dir, f.segs[len(f.segs)-1]))
	if err != nil {
		return fmt.Errorf("stat tail segment: %w", err)
	}
	f.tailBytes = fi.Size()
	return nil
}

func (f *File) usableLocked() error {
	switch {
	case f.closed:
		return ErrClosed
	case f.failed != nil:
		return f.failed
	}
	return nil
}

// checkIndexLocked says whether index can be read.
func (f *File) checkIndexLocked(index uint64) error {
	switch {
	case index < f.first:
		return fmt.Errorf("read %d, first is %d: %w", index, f.first, ErrCompacted)
	case index > f.last:
		return fmt.Errorf("read %d, last is %d: %w", index, f.last, ErrNotFound)
	}
	return nil
}

// readRecordLocked returns the record at index as tidwall/wal holds it
// (checksum|payload). The bytes are never modified afterwards, so they may
// be verified and copied after mu is released.
func (f *File) readRecordLocked(index uint64) ([]byte, error) {
	if f.tw == nil {
		return nil, f.failed
	}
	rec, err := f.tw.Read(index)
	if err != nil {
		return nil, f.corruptLocked(index, err)
	}
	return rec, nil
}

// corruptLocked turns a failed read of index into an error naming the
// segment file and offset.
func (f *File) corruptLocked(index uint64, cause error) error {
	k := len(f.segs) - 1
	for k > 0 && f.segs[k] > index {
		k--
	}
	path := segmentPath(f.dir, f.segs[k])
	off, reason := locateRecord(path, index-f.segs[k])
	if reason == "" {
		reason = cause.Error()
	}
	return fmt.Errorf("read index %d: %w", index, &CorruptError{path, off, reason})
}

// Read returns a checksum-verified copy of the entry at index.
func (f *File) Read(index uint64) ([]byte, error) {
	f.mu.Lock()
	if err := f.readableLocked(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	if err := f.checkIndexLocked(index); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	rec, err := f.readRecordLocked(index)
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	payload, err := openFrame(rec)
	if err != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		return nil, f.corruptLocked(index, err)
	}
	return append([]byte(nil), payload...), nil
}

func (f *File) readableLocked() error {
	if f.closed {
		return ErrClosed
	}
	if f.tw == nil {
		return f.failed
	}
	return nil
}

// ReadFrom returns consecutive entries from from: at least one if
// from <= LastIndex(), then more while the total stays within maxBytes.
// The entries share one freshly allocated buffer.
func (f *File) ReadFrom(from uint64, maxBytes int) ([][]byte, error) {
	f.mu.Lock()
	if err := f.readableLocked(); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	if from == f.last+1 {
		f.mu.Unlock()
		return [][]byte{}, nil
	}
	if err := f.checkIndexLocked(from); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	var recs [][]byte
	total := 0
	for i := from; i <= f.last; i++ {
		rec, err := f.readRecordLocked(i)
		if err != nil {
			f.mu.Unlock()
			return nil, err
		}
		size := len(rec) - crcSize
		if len(recs) > 0 && total+size > maxBytes {
			break
		}
		recs = append(recs, rec)
		total += max(size, 0)
	}
	f.mu.Unlock()

	buf := make([]byte, 0, total)
	out := make([][]byte, len(recs))
	for k, rec := range recs {
		payload, err := openFrame(rec)
		if err != nil {
			f.mu.Lock()
			defer f.mu.Unlock()
			return nil, f.corruptLocked(from+uint64(k), err)
		}
		start := len(buf)
		buf = append(buf, payload...)
		out[k] = buf[start:len(buf):len(buf)]
	}
	return out, nil
}

// Wait blocks until LastIndex() > after or a Reset happened, and returns
// LastIndex().
func (f *File) Wait(ctx context.Context, after uint64) (uint64, error) {
	return waitFor(ctx, after, f.look)
}

// Changed returns a channel closed at the log's next change (Log.Changed).
func (f *File) Changed(after uint64) <-chan struct{} { return changed(after, f.look) }

// look reports the state Wait and Changed decide on.
func (f *File) look(arm bool) waitState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := waitState{last: f.last, gen: f.gen, closed: f.closed}
	if arm {
		st.wake = f.signal.wait()
	}
	return st
}

// Sync fsyncs the tail segment (and the directory if a segment appeared).
func (f *File) Sync() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.syncLocked()
}

// syncTo makes sure everything up to index is durable, sharing an fsync
// already done by a concurrent caller.
func (f *File) syncTo(index uint64) error {
	if f.synced.Load() >= index {
		return nil
	}
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if f.synced.Load() >= index {
		return nil
	}
	return f.syncLocked()
}

// syncLocked runs with opMu held. The fsync itself runs without mu, so
// appends and reads go on meanwhile. Segments before the tail were fsynced
// by tidwall/wal when it sealed them.
func (f *File) syncLocked() error {
	f.mu.Lock()
	if err := f.readableLocked(); err != nil {
		f.mu.Unlock()
		return err
	}
	last := f.last
	tail := f.segs[len(f.segs)-1]
	if f.syncFile == nil || f.syncSeg != tail {
		sf, err := os.OpenFile(segmentPath(f.dir, tail), os.O_RDWR, filePerm)
		if err != nil {
			f.mu.Unlock()
			return fmt.Errorf("sync wal %s: %w", f.dir, err)
		}
		if f.syncFile != nil {
			f.syncFile.Close()
		}
		f.syncFile, f.syncSeg = sf, tail
	}
	dir := f.dirDirty
	f.dirDirty = false
	sf := f.syncFile
	f.mu.Unlock()

	err := sf.Sync()
	if err == nil && dir {
		err = syncDir(f.dir)
	}
	if err != nil {
		if dir {
			f.mu.Lock()
			f.dirDirty = true
			f.mu.Unlock()
		}
		return fmt.Errorf("sync wal %s: %w", f.dir, err)
	}
	if last > f.synced.Load() {
		f.synced.Store(last)
	}
	return nil
}

// runSyncer fsyncs once a second while the policy is SyncEverySec (it
// runs under any policy, which may change); Close stops it and waits.
func (f *File) runSyncer() {
	defer close(f.syncerDone)
	t := time.NewTicker(syncInterval)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-f.stopSyncer:
			return
		case <-t.C:
		}
		if SyncPolicy(f.policy.Load()) != SyncEverySec {
			continue
		}
		err := f.syncTo(f.LastIndex())
		switch {
		case errors.Is(err, ErrClosed):
			return
		case err != nil && !failing:
			f.log.Error("wal: background fsync failing", "dir", f.dir, "err", err)
			failing = true
		case err == nil && failing:
			f.log.Info("wal: background fsync recovered", "dir", f.dir)
			failing = false
		}
	}
}

// TruncateFront drops the entries below index. Whole segment files below
// index are removed; the segment holding index keeps its older entries on
// disk (rewriting it would stall appends), so after a reopen FirstIndex may
// be lower than index: never higher, and those entries are still valid.
func (f *File) TruncateFront(index uint64) error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.mu.Lock()
	if err := f.readableLocked(); err != nil {
		f.mu.Unlock()
		return err
	}
	if index <= f.first {
		f.mu.Unlock()
		return nil
	}
	if index > f.last+1 {
		last := f.last
		f.mu.Unlock()
		return fmt.Errorf("truncate front to %d, last is %d: %w", index, last, ErrNotFound)
	}
	f.first = index
	k := 0 // segments [0,k) lie wholly below index; the tail always stays
	for k < len(f.segs)-1 && f.segs[k+1] <= index {
		k++
	}
	drop := append([]uint64(nil), f.segs[:k]...)
	f.segs = append(f.segs[:0], f.segs[k:]...)
	f.mu.Unlock()

	if len(drop) == 0 {
		return nil
	}
	// Readers cannot reach the dropped segments any more (first moved), so
	// the files go without mu held. Oldest first: a crash leaves a prefix
	// removed, never a hole.
	for _, s := range drop {
		if err := os.Remove(segmentPath(f.dir, s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("truncate front wal %s: %w", f.dir, err)
		}
	}
	if err := syncDir(f.dir); err != nil {
		return fmt.Errorf("truncate front wal %s: %w", f.dir, err)
	}
	return nil
}

// Reset drops every entry and restarts the log at next, durably: a marker
// file is written first, so a crash midway is finished by the next Open.
func (f *File) Reset(next uint64) error {
	if next == 0 {
		return fmt.Errorf("reset wal %s: index 0 is not valid", f.dir)
	}
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	if err := f.reset(next); err != nil {
		return fmt.Errorf("reset wal %s to %d: %w", f.dir, next, err)
	}
	return nil
}

func (f *File) reset(next uint64) error {
	marker := segmentPath(f.dir, next) + resetSuffix
	if err := createEmptyFile(marker); err != nil {
		return err
	}
	if err := syncDir(f.dir); err != nil {
		return err
	}
	// From here on the reset is decided: a failure leaves the log unusable
	// until reopened, and Open finishes the reset.
	if f.syncFile != nil {
		f.syncFile.Close()
		f.syncFile = nil
	}
	if f.tw != nil {
		f.tw.Close() // its final fsync is wasted; the files go next
		f.tw = nil
	}
	f.gen++
	f.signal.broadcast()
	l, err := listDir(f.dir)
	if err == nil {
		err = finishReset(f.dir, next, l.segs)
	}
	var tw *twal.Log
	if err == nil {
		tw, err = f.openTidwall()
	}
	if err != nil {
		f.failed = fmt.Errorf("wal %s: reset to %d failed, reopen needed: %w", f.dir, next, err)
		return err
	}
	f.tw, f.failed = tw, nil
	f.first, f.last = next, next-1
	f.segs = []uint64{next}
	f.tailBytes = 0
	f.dirDirty = false
	f.synced.Store(next - 1)
	return nil
}

// Close stops the background fsync, syncs and closes. It is idempotent.
func (f *File) Close() error {
	f.stopOnce.Do(func() {
		close(f.stopSyncer)
		<-f.syncerDone
	})
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.signal.broadcast()
	var errs []error
	if f.syncFile != nil {
		errs = append(errs, f.syncFile.Close())
		f.syncFile = nil
	}
	if f.tw != nil {
		if err := f.tw.Close(); err != nil { // fsyncs the tail
			errs = append(errs, err)
		} else if f.failed == nil {
			f.synced.Store(f.last)
		}
		f.tw = nil
	}
	errs = append(errs, syncDir(f.dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close wal %s: %w", f.dir, err)
	}
	return nil
}

// segmentFiles lists the segment files currently in use, oldest first
// (for tests and diagnostics).
func (f *File) segmentFiles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.segs))
	for i, s := range f.segs {
		out[i] = filepath.Join(f.dir, segmentName(s))
	}
	return out
}

// Reopen is the way back after a failed write. A failed append leaves the
// handle unusable (every later Append returns the same error) and may have
// left part of a record in the tail segment. Once the cause is gone (space
// returned to a full disk), Reopen closes the handle and opens the directory
// again exactly as Open does: every record is verified and a torn tail is cut.
//
// Complete records of the failed append that did reach the file are kept:
// after Reopen, LastIndex may be above what it was, and the caller (the
// engine) treats the log as the truth, as a restart would. On a healthy log
// Reopen is a no-op. It fails, leaving the log unusable, when the directory
// still cannot be opened, for example because the disk is still full.
func (f *File) Reopen() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.mu.Lock()
	switch {
	case f.closed:
		f.mu.Unlock()
		return ErrClosed
	case f.failed == nil:
		f.mu.Unlock()
		return nil
	}
	if f.syncFile != nil {
		f.syncFile.Close()
		f.syncFile = nil
	}
	if f.tw != nil {
		f.tw.Close() // may fail on the same full disk: the files are reread below
		f.tw = nil   // readers get f.failed meanwhile
	}
	prevFirst := f.first
	f.mu.Unlock()

	segs, err := prepareDir(f.dir, f.log)
	var tailSize int64
	if err == nil {
		tailSize, err = verifySegments(f.dir, segs, f.log)
	}
	var tw *twal.Log
	if err == nil {
		tw, err = f.openTidwall()
	}
	if err != nil {
		return fmt.Errorf("reopen wal %s: %w", f.dir, err)
	}
	f.mu.Lock()
	f.tw, f.segs, f.tailBytes, f.failed = tw, segs, tailSize, nil
	first, _ := tw.FirstIndex()
	f.first = max(first, prevFirst) // an earlier TruncateFront still holds
	f.last, _ = tw.LastIndex()
	f.dirDirty = true
	f.signal.broadcast()
	f.mu.Unlock()
	if err := f.syncLocked(); err != nil {
		return fmt.Errorf("reopen wal %s: %w", f.dir, err)
	}
	return nil
}
