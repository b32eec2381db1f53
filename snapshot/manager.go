package snapshot

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// DefaultMaxAge is how long a checkpoint is shared with new full syncs by
// default.
const DefaultMaxAge = 10 * time.Second

var (
	// ErrClosed is returned by Acquire after Manager.Close.
	ErrClosed = errors.New("snapshot: manager closed")
	// ErrReleased is returned by WriteTo on a released checkpoint handle, or
	// on one whose directory the Manager has removed (Close).
	ErrReleased = errors.New("snapshot: checkpoint released")
)

// Source is what the package needs from the live database.
type Source struct {
	// DB is the live database checkpoints are taken of.
	DB *pebble.DB
	// FS is the filesystem DB lives on (vfs.Default, or a vfs.NewMem() for
	// a persistence-off master); checkpoints are made and read on it.
	FS vfs.FS
	// Dir is a directory on FS that the Manager owns (e.g. <dir>/checkpoints):
	// checkpoints are created under it as Dir/<seq>, and anything in it is
	// removed by NewManager as a stale leftover.
	Dir string
	// ReadIndex reads the index a checkpoint is consistent at (the engine
	// opens it read-only and reads its applied_index; 0 when absent).
	ReadIndex func(fs vfs.FS, checkpointDir string) (uint64, error)
	// Recent, if set, reports whether a checkpoint at index is recent
	// enough to use as it is. A checkpoint holds what Pebble has flushed,
	// not its memtables, so it may lag the live database; the caller
	// serves the rest from its log. When Recent is nil or says no, Pebble
	// is flushed and the checkpoint taken again.
	Recent func(index uint64) bool
	// Flushed, if set, returns an index Pebble has flushed at least up to:
	// a lower bound of a checkpoint's index taken without a flush. When
	// Recent refuses it, the Manager flushes before its first checkpoint
	// instead of taking one to read its index, removing it and taking
	// another. Recent must then be monotone: accepting an index means
	// accepting every higher one.
	Flushed func() uint64
}

// ManagerOptions tunes a Manager. The zero value gives the defaults.
type ManagerOptions struct {
	// MaxAge is how long after its creation a checkpoint is handed to new
	// Acquire calls, provided someone still holds it. Older, a new checkpoint
	// is taken (the old one lives on until its holders release it).
	// Default: DefaultMaxAge (10 s).
	MaxAge time.Duration
	// Logger receives one line per checkpoint created or removed.
	// Default: slog.Default().
	Logger *slog.Logger
}

// Manager creates checkpoints of Source.DB and shares them: every Acquire
// while the newest checkpoint is held and fresh gets that checkpoint. It is
// safe for concurrent use.
type Manager struct {
	src    Source
	maxAge time.Duration
	log    *slog.Logger

	created atomic.Int64 // checkpoints created; read without waiting for one

	// mu guards the fields below. It is held while a checkpoint is created,
	// so concurrent Acquire calls wait for that one and share it.
	mu      sync.Mutex
	seq     uint64
	current *shared // newest live checkpoint, or nil
	live    map[*shared]struct{}
	closed  bool
}

// shared is one checkpoint directory, shared by every handle to it.
type shared struct {
	m         *Manager
	dir       string
	index     uint64
	size      int64
	createdAt time.Time
	refs      int  // guarded by m.mu
	removed   bool // guarded by m.mu; the directory is gone or going
}

// Checkpoint is one holder's handle to a shared checkpoint. Every handle
// returned by Acquire must be Released once; WriteTo may be called from
// several goroutines (one per replica) until then.
type Checkpoint struct {
	s        *shared
	released atomic.Bool
}

// NewManager returns a Manager with default options (see ManagerOptions);
// logger nil means slog.Default().
func NewManager(src Source, logger *slog.Logger) (*Manager, error) {
	return NewManagerWithOptions(src, ManagerOptions{Logger: logger})
}

// NewManagerWithOptions returns a Manager for src. It creates src.Dir and
// removes any stale checkpoints left in it (by a crash, say).
func NewManagerWithOptions(src Source, opts ManagerOptions) (*Manager, error) {
	switch {
	case src.DB == nil:
		return nil, errors.New("snapshot: Source.DB is nil")
	case src.FS == nil:
		return nil, errors.New("snapshot: Source.FS is nil")
	case src.Dir == "":
		return nil, errors.New("snapshot: Source.Dir is empty")
	case src.ReadIndex == nil:
		return nil, errors.New("snapshot: Source.ReadIndex is nil")
	}
	m := &Manager{src: src, maxAge: opts.MaxAge, log: opts.Logger, live: make(map[*shared]struct{})}
	if m.maxAge <= 0 {
		m.maxAge = DefaultMaxAge
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if err := src.FS.MkdirAll(src.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create checkpoint dir %s: %w", src.Dir, err)
	}
	names, err := src.FS.List(src.Dir)
	if err != nil {
		return nil, fmt.Errorf("list checkpoint dir %s: %w", src.Dir, err)
	}
	for _, n := range names {
		p := src.FS.PathJoin(src.Dir, n)
		if err := src.FS.RemoveAll(p); err != nil {
			return nil, fmt.Errorf("remove stale checkpoint %s: %w", p, err)
		}
		m.log.Info("removed stale checkpoint", "dir", p)
	}
	return m, nil
}

// Acquire returns a handle to a checkpoint: the newest one if it is still
// held by someone and younger than MaxAge, otherwise a new one (Checkpoint
// into Dir/<seq> and ReadIndex, with a Flush first unless Source.Recent
// accepts the checkpoint as it is). Release the handle when done.
func (m *Manager) Acquire() (*Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if s := m.current; s != nil && time.Since(s.createdAt) < m.maxAge {
		s.refs++
		return &Checkpoint{s: s}, nil
	}

	start := time.Now()
	m.seq++
	dir := m.src.FS.PathJoin(m.src.Dir, fmt.Sprintf("%06d", m.seq))
	s, flushed, err := m.create(dir, start)
	if err != nil {
		if rmErr := m.src.FS.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", dir, rmErr))
		}
		return nil, err
	}
	m.live[s] = struct{}{}
	m.current = s
	m.created.Add(1)
	m.log.Info("checkpoint created", "dir", dir, "index", s.index, "bytes", s.size, "flushed", flushed,
		"took", time.Since(start).Round(time.Microsecond))
	return &Checkpoint{s: s}, nil
}

// create takes a checkpoint into dir and reports whether it flushed
// Pebble first; the caller holds m.mu.
//
// Flushing first makes the checkpoint current, but the flush hands Pebble
// a new L0 table and the compaction that follows competes with the
// clients for the CPU while the checkpoint streams. So when Source.Recent
// accepts what Pebble has already flushed, that is taken as it is.
func (m *Manager) create(dir string, now time.Time) (*shared, bool, error) {
	if m.src.Recent != nil && (m.src.Flushed == nil || m.src.Recent(m.src.Flushed())) {
		index, err := m.checkpoint(dir)
		if err != nil {
			return nil, false, err
		}
		if m.src.Recent(index) {
			s, err := m.describe(dir, index, now)
			return s, false, err
		}
		if err := m.src.FS.RemoveAll(dir); err != nil {
			return nil, false, fmt.Errorf("checkpoint %s: remove to retake: %w", dir, err)
		}
	}
	if err := m.src.DB.Flush(); err != nil {
		return nil, true, fmt.Errorf("checkpoint %s: flush: %w", dir, err)
	}
	index, err := m.checkpoint(dir)
	if err != nil {
		return nil, true, err
	}
	s, err := m.describe(dir, index, now)
	return s, true, err
}

// checkpoint takes a Pebble checkpoint into dir and returns its index.
func (m *Manager) checkpoint(dir string) (uint64, error) {
	if err := m.src.DB.Checkpoint(dir); err != nil {
		return 0, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	index, err := m.src.ReadIndex(m.src.FS, dir)
	if err != nil {
		return 0, fmt.Errorf("checkpoint %s: read index: %w", dir, err)
	}
	return index, nil
}

// describe sizes the checkpoint in dir.
func (m *Manager) describe(dir string, index uint64, now time.Time) (*shared, error) {
	files, err := listFiles(m.src.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	var size int64
	for _, f := range files {
		size += f.size
	}
	return &shared{m: m, dir: dir, index: index, size: size, createdAt: now, refs: 1}, nil
}

// Created returns how many checkpoints the Manager has created (an INFO
// counter: fewer than full syncs served means they were shared).
func (m *Manager) Created() int64 { return m.created.Load() }

// MinIndex returns the lowest index of the checkpoints still held, so the
// caller can keep its WAL from MinIndex+1; ok is false when none is held.
func (m *Manager) MinIndex() (index uint64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.live {
		if !ok || s.index < index {
			index, ok = s.index, true
		}
	}
	return index, ok
}

// Close removes every remaining checkpoint directory; streams still reading
// one may fail. Later Acquire calls return ErrClosed; Release is harmless.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	var dirs []string
	for s := range m.live {
		s.removed = true
		dirs = append(dirs, s.dir)
	}
	m.live, m.current = nil, nil
	m.mu.Unlock()

	var errs []error
	for _, d := range dirs {
		if err := m.src.FS.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("remove checkpoint %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// release drops one reference to s and removes it after the last.
func (m *Manager) release(s *shared) {
	m.mu.Lock()
	s.refs--
	if s.refs > 0 || s.removed {
		m.mu.Unlock()
		return
	}
	s.removed = true
	delete(m.live, s)
	if m.current == s {
		m.current = nil
	}
	m.mu.Unlock()

	if err := m.src.FS.RemoveAll(s.dir); err != nil {
		m.log.Warn("remove checkpoint failed", "dir", s.dir, "err", err)
		return
	}
	m.log.Info("checkpoint removed", "dir", s.dir, "index", s.index)
}

// Index returns the index the checkpoint is consistent at: it holds every
// entry <= Index and none above, so a replica tails the WAL from Index+1.
func (c *Checkpoint) Index() uint64 { return c.s.index }

// Size returns the total bytes of the checkpoint's files (the stream's
// payload).
func (c *Checkpoint) Size() int64 { return c.s.size }

// Dir returns the checkpoint's directory on Source.FS.
func (c *Checkpoint) Dir() string { return c.s.dir }

// CreatedAt returns when the checkpoint was started.
func (c *Checkpoint) CreatedAt() time.Time { return c.s.createdAt }

// Release gives the handle back; the last Release of a checkpoint deletes
// its directory. Releasing a handle twice is harmless.
func (c *Checkpoint) Release() {
	if c.released.CompareAndSwap(false, true) {
		c.s.m.release(c.s)
	}
}

// WriteTo writes the checkpoint to w in the stream format (see the package
// documentation) and returns the bytes written.
func (c *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	if c.released.Load() {
		return 0, ErrReleased
	}
	c.s.m.mu.Lock()
	removed := c.s.removed
	c.s.m.mu.Unlock()
	if removed {
		return 0, ErrReleased
	}
	n, err := writeStream(w, c.s.m.src.FS, c.s.dir, c.s.index)
	if err != nil {
		return n, fmt.Errorf("stream checkpoint %s: %w", c.s.dir, err)
	}
	return n, nil
}
