package wal

import (
	"context"
	"fmt"
	"sync"
)

// Ring is the in-memory log of a master running with persistence off (Redis's
// replication backlog): the same semantics as File, bounded by a number of
// payload bytes instead of files. Nothing touches the disk; SyncedIndex is
// LastIndex.
//
// The size bound drops the oldest entries, except those at or above the
// retain floor (SetRetain) and the newest entry, so that a replica that is
// caught up can always be fed. The hard limit (SetHardLimit) bounds the
// memory a replica that stops reading can pin: beyond it the oldest entries
// go even above the retain floor, and Overrun reports how far.
type Ring struct {
	mu       sync.Mutex // guards every field
	maxBytes int64
	hard     int64    // 0: none; else payload bytes never exceed it (but for the newest entry)
	hardSet  int64    // the hard limit asked for; hard is it raised to maxBytes
	overrun  uint64   // highest index the hard limit dropped at or above the retain floor
	retain   uint64   // entries >= retain survive the size bound; 0: no floor
	ents     [][]byte // ents[i] holds index first+i; slices of per-Append buffers
	first    uint64
	bytes    int64 // payload bytes in ents
	gen      uint64
	closed   bool
	signal   signal
}

// NewRing returns an empty ring (FirstIndex 1, LastIndex 0) that keeps at
// most maxBytes of payload, subject to SetRetain.
func NewRing(maxBytes int64) *Ring {
	return &Ring{maxBytes: maxBytes, first: 1}
}

// Bytes returns the payload bytes the ring holds.
func (r *Ring) Bytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes
}

// SetRetain sets the floor of the size bound: entries >= index are not
// dropped by it (0 removes the floor). Lowering the floor trims at once.
func (r *Ring) SetRetain(index uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retain = index
	r.trimLocked()
}

// SetHardLimit bounds the payload bytes held even against the retain floor
// (client-output-buffer-limit for replicas); 0 removes the bound. A limit
// below the ring's size bound is raised to it.
func (r *Ring) SetHardLimit(maxBytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hardSet = maxBytes
	r.setLimitsLocked(r.maxBytes)
}

// SetMaxBytes changes the size bound (CONFIG SET repl-backlog-size): a
// larger one keeps more entries from now on, a smaller one drops the
// oldest at once. A hard limit below it is raised to it.
func (r *Ring) SetMaxBytes(maxBytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setLimitsLocked(maxBytes)
}

func (r *Ring) setLimitsLocked(maxBytes int64) {
	r.maxBytes = maxBytes
	r.hard = 0
	if r.hardSet > 0 {
		r.hard = max(r.hardSet, maxBytes)
	}
	r.trimLocked()
}

// Overrun returns the highest index the hard limit dropped although the
// retain floor asked to keep it (0: none). A reader that still needed it
// (a replica that stopped reading) must be disconnected.
func (r *Ring) Overrun() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overrun
}

// trimLocked drops oldest entries while over the bound and allowed to, then
// while over the hard limit.
func (r *Ring) trimLocked() {
	for r.bytes > r.maxBytes && len(r.ents) > 1 && (r.retain == 0 || r.first < r.retain) {
		r.dropOldestLocked()
	}
	for r.hard > 0 && r.bytes > r.hard && len(r.ents) > 1 {
		r.overrun = r.first
		r.dropOldestLocked()
	}
}

func (r *Ring) dropOldestLocked() {
	r.bytes -= int64(len(r.ents[0]))
	r.ents[0] = nil // let the buffer go once all its entries are gone
	r.ents = r.ents[1:]
	r.first++
}

func (r *Ring) lastLocked() uint64 { return r.first + uint64(len(r.ents)) - 1 }

// FirstIndex returns the oldest index held; LastIndex()+1 when empty.
func (r *Ring) FirstIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

// LastIndex returns the newest index.
func (r *Ring) LastIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastLocked()
}

// SyncedIndex is LastIndex: there is no storage to wait for.
func (r *Ring) SyncedIndex() uint64 { return r.LastIndex() }

// Append copies entries into one buffer and stores them at first, first+1, ...
func (r *Ring) Append(first uint64, entries [][]byte) error {
	size := 0
	for _, e := range entries {
		size += len(e)
	}
	buf := make([]byte, 0, size) // outside the lock
	for _, e := range entries {
		buf = append(buf, e...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if want := r.lastLocked() + 1; first != want {
		return fmt.Errorf("append at %d, next is %d: %w", first, want, ErrOutOfOrder)
	}
	if len(entries) == 0 {
		return nil
	}
	off := 0
	for _, e := range entries {
		r.ents = append(r.ents, buf[off:off+len(e):off+len(e)])
		off += len(e)
	}
	r.bytes += int64(size)
	r.trimLocked()
	r.signal.broadcast()
	return nil
}

func (r *Ring) checkIndexLocked(index uint64) error {
	switch {
	case r.closed:
		return ErrClosed
	case index < r.first:
		return fmt.Errorf("read %d, first is %d: %w", index, r.first, ErrCompacted)
	case index > r.lastLocked():
		return fmt.Errorf("read %d, last is %d: %w", index, r.lastLocked(), ErrNotFound)
	}
	return nil
}

// Read returns a copy of the entry at index.
func (r *Ring) Read(index uint64) ([]byte, error) {
	r.mu.Lock()
	if err := r.checkIndexLocked(index); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	e := r.ents[index-r.first]
	r.mu.Unlock()
	return append([]byte(nil), e...), nil // entries are never modified
}

// ReadFrom returns consecutive entries from from, as File.ReadFrom does.
func (r *Ring) ReadFrom(from uint64, maxBytes int) ([][]byte, error) {
	r.mu.Lock()
	if !r.closed && from == r.lastLocked()+1 {
		r.mu.Unlock()
		return [][]byte{}, nil
	}
	if err := r.checkIndexLocked(from); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	var src [][]byte
	total := 0
	for _, e := range r.ents[from-r.first:] {
		if len(src) > 0 && total+len(e) > maxBytes {
			break
		}
		src = append(src, e)
		total += len(e)
	}
	r.mu.Unlock()
	buf := make([]byte, 0, total)
	out := make([][]byte, len(src))
	for i, e := range src {
		start := len(buf)
		buf = append(buf, e...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out, nil
}

// Wait blocks until LastIndex() > after or a Reset happened.
func (r *Ring) Wait(ctx context.Context, after uint64) (uint64, error) {
	return waitFor(ctx, after, r.look)
}

// Changed returns a channel closed at the log's next change (Log.Changed).
func (r *Ring) Changed(after uint64) <-chan struct{} { return changed(after, r.look) }

// look reports the state Wait and Changed decide on.
func (r *Ring) look(arm bool) waitState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := waitState{last: r.lastLocked(), gen: r.gen, closed: r.closed}
	if arm {
		st.wake = r.signal.wait()
	}
	return st
}

// Sync does nothing but report a closed ring.
func (r *Ring) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// TruncateFront drops the entries below index.
func (r *Ring) TruncateFront(index uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if index <= r.first {
		return nil
	}
	if last := r.lastLocked(); index > last+1 {
		return fmt.Errorf("truncate front to %d, last is %d: %w", index, last, ErrNotFound)
	}
	for r.first < index {
		r.dropOldestLocked()
	}
	return nil
}

// Reset drops everything; the next entry is next.
func (r *Ring) Reset(next uint64) error {
	if next == 0 {
		return fmt.Errorf("reset ring: index 0 is not valid")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.ents, r.bytes, r.first = nil, 0, next
	r.gen++
	r.signal.broadcast()
	return nil
}

// Close releases the entries and wakes every waiter with ErrClosed.
func (r *Ring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.first = r.lastLocked() + 1 // indexes stay as they were; entries go
		r.ents, r.bytes = nil, 0
		r.signal.broadcast()
	}
	return nil
}
