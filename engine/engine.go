package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
	"github.com/walrus-kv/walrus/wal"
)

// Log is what the engine needs from the log of record: *wal.File on disk,
// *wal.Ring in memory.
type Log interface {
	FirstIndex() uint64
	LastIndex() uint64
	Append(first uint64, entries [][]byte) error
	Read(index uint64) ([]byte, error)
	Sync() error
	SyncedIndex() uint64
	TruncateFront(index uint64) error
	Reset(next uint64) error
	Close() error
}

// Options configures an Engine. The zero value is a persistent engine in
// "./data" with everysec fsync and 16 databases.
type Options struct {
	// Dir holds Pebble (Dir/db) and the log (Dir/wal). Default "./data".
	Dir string
	// InMemory runs with persistence off: Pebble on an in-memory
	// filesystem and the log as a ring of BacklogBytes. Nothing touches
	// the disk and nothing is replayed at start.
	InMemory bool
	// Fsync is the log's fsync policy (appendfsync) at Open (SetFsync
	// changes it). Default everysec.
	Fsync wal.SyncPolicy
	// Databases is the number of logical databases. Default 16.
	Databases int
	// BacklogBytes bounds the in-memory log and is the part of the disk
	// log kept for partial resyncs beyond what recovery needs, at Open
	// (SetBacklogBytes changes it). Default 1 MiB.
	BacklogBytes int64
	// ReplicaBufferBytes bounds the in-memory log even against entries
	// replicas still need (client-output-buffer-limit replica hard): a
	// replica that stops reading cannot make it hold more than
	// max(BacklogBytes, ReplicaBufferBytes); past that its pin is overrun
	// (Pin.Overrun) and it must resync. 0: no bound. Unused on disk, where
	// pinned entries cost disk, not memory.
	ReplicaBufferBytes int64
	// BlockCacheBytes is Pebble's block cache at Open (SetCacheBytes
	// changes it). Default 128 MiB.
	BlockCacheBytes int64
	// RowCacheBytes bounds the cache of hot metadata rows (string values
	// up to 512 bytes are inline) and elements at Open (SetCacheBytes
	// changes it). Default 128 MiB.
	RowCacheBytes int64
	// FlushInterval is how often Pebble is flushed so the log can be
	// truncated. Default 10 s.
	FlushInterval time.Duration
	// Observe, if set, is told of every command the engine runs (a
	// client's, a transaction's, a master's entry on a replica) once it
	// has run: how long it took and the reply it appended (INFO
	// commandstats and errorstats). A blocking command's null reply
	// outside a transaction (XREAD's and XREADGROUP's only with BLOCK)
	// is not told: the server runs such a command
	// again while its client waits, and tells of the wait's end itself.
	// It runs on the committer for writes, so it must be quick.
	// The session is the client's, nil for a master's entry.
	Observe func(s *Session, db int, cmd *Command, args [][]byte, took time.Duration, reply []byte)
	// Notify, if set, is handed the keyspace events of each committed
	// group of writes, in order, from the committer (see SetNotify), and
	// the key misses of reads outside the committer from the reading
	// goroutine: it must be safe for concurrent use. The slice is reused
	// after it returns.
	Notify func(notes []Note)
	// Logger receives operator-facing messages. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time

	// filterMinKeys sizes the smallest key filter (tests, to make it
	// outgrow itself). Default minFilterKeys.
	filterMinKeys int64
	// Tests' hooks, to hold a race open: beforeCommit runs in
	// commitBatch just before the Pebble commit, chunkRead after the key
	// filter's builder read a chunk.
	beforeCommit, chunkRead func()
}

func (o *Options) fill() {
	if o.Dir == "" {
		o.Dir = "./data"
	}
	if o.Databases <= 0 {
		o.Databases = 16
	}
	if o.BacklogBytes <= 0 {
		o.BacklogBytes = defaultBacklogBytes
	}
	if o.BlockCacheBytes <= 0 {
		o.BlockCacheBytes = defaultCacheBytes
	}
	if o.RowCacheBytes <= 0 {
		o.RowCacheBytes = defaultCacheBytes
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.filterMinKeys <= 0 {
		o.filterMinKeys = minFilterKeys
	}
}

// ErrClosed is returned for work submitted after Close.
var ErrClosed = errors.New("engine: closed")

// Engine is the state machine. All writes go through its committer
// goroutine; reads go straight to Pebble.
type Engine struct {
	fnVersion atomic.Uint64 // FunctionsVersion (function.go)
	notes     notifyMask    // keyspace event classes (notify.go)
	tracking  atomic.Bool   // note every change, for CLIENT TRACKING (notify.go)
	opts      Options
	log       *slog.Logger
	fs        vfs.FS
	pacer     *flushPacer // Pebble's view of fs: flushes are paced
	dbDir     string
	installs  atomic.Uint64 // checkpoints installed (DB() replaced)
	db        *pebble.DB
	cache     *pebble.Cache
	wlog      Log

	reqs chan *request // to the committer

	access accessTable // when keys were last used: OBJECT IDLETIME (access.go)

	// dbmap maps logical to physical databases; replaced (never changed in
	// place) by the committer on SWAPDB, read by anyone.
	dbmap atomic.Pointer[[]uint16]

	counts []atomic.Int64 // keys per physical db, updated after each commit

	applied   atomic.Uint64                  // index of the last entry applied to Pebble
	flushed   atomic.Uint64                  // applied index known to be on disk in Pebble
	replica   atomic.Bool                    // applying a master's entries: no active expiry
	noExpire  atomic.Bool                    // clients paused (HoldExpiry): no active expiry
	expireOff atomic.Bool                    // DEBUG SET-ACTIVE-EXPIRE 0 (SetActiveExpire)
	encLimits atomic.Pointer[EncodingLimits] // OBJECT ENCODING's thresholds; nil: the defaults

	hits, misses, expired atomic.Int64 // INFO's keyspace_hits, keyspace_misses, expired_keys
	evicted               atomic.Int64 // INFO's evicted_keys
	lastSave              atomic.Int64 // unix seconds of the last SAVE (or start)
	expireTime            atomic.Int64 // active expiry's time deleting keys, ns (ExpireStats)
	expireCapped          atomic.Int64 // ticks that stopped with keys still due
	dirty                 atomic.Int64 // writes since the last save

	logBroken   atomic.Pointer[error] // a failed append or commit: writes refused; see logrepair.go
	diskTrouble bool                  // committer only: a failure was logged and no group committed since
	lastOverrun uint64                // committer only: the ring's Overrun already acted on
	grp         *group                // committer only: the group being committed, reused
	evict       evictState            // committer only: where eviction left off (evict.go)
	// commitMu is held by whoever commits: the committer goroutine for a
	// group, or a replica's link committing its entries itself (Apply).
	// "Committer only" above means under commitMu.
	commitMu sync.Mutex

	watch watchTable
	rows  *rowCache
	// keys is the filter of the metadata keys Pebble may hold that
	// lookups use (keyfilter.go; nil past maxFilterKeys), and nextKeys
	// the one being built to replace it. The committer (addKeys) and a
	// builder putting nextKeys in use change them under keysMu; Install
	// under swap.
	keys, nextKeys atomic.Pointer[keyFilter]
	keysMu         sync.Mutex

	backlog atomic.Int64 // Options.BacklogBytes, as SetBacklogBytes last set it

	// cacheMu guards the block cache's size (caches.go): blockBytes, and
	// cacheRelease, which gives back the reservation holding e.cache
	// down to it.
	cacheMu      sync.Mutex
	blockBytes   int64
	cacheRelease func()

	// swap guards e.db, e.cache and e.dbDir against Install, which
	// replaces the dataset: everyone using the database holds it for
	// reading (the committer for each group, the read path for each
	// pipeline); Install holds it for writing.
	swap sync.RWMutex

	pinMu sync.Mutex
	pins  map[*Pin]struct{} // guarded by pinMu

	stop   context.CancelFunc
	stopCh <-chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	mu     sync.Mutex // serializes Close and Reset against each other
}

// Open opens (or creates) the engine's data and recovers: Pebble is opened,
// then every log entry after its applied_index is replayed.
func Open(opts Options) (*Engine, error) {
	opts.fill()
	e := &Engine{
		opts:   opts,
		log:    opts.Logger,
		reqs:   make(chan *request, 1024),
		counts: make([]atomic.Int64, opts.Databases),
		pins:   map[*Pin]struct{}{},
	}
	e.watch.init()
	e.access.startMs = opts.Now().UnixMilli()
	e.fnVersion.Store(1) // the server's registry starts empty, at 0: it reads the libraries first
	e.rows = newRowCache(opts.RowCacheBytes)
	e.backlog.Store(opts.BacklogBytes)
	e.grp = newGroup()
	e.lastSave.Store(opts.Now().Unix())
	if opts.InMemory {
		e.fs = vfs.NewMem()
		e.dbDir = "db"
		ring := wal.NewRing(opts.BacklogBytes)
		ring.SetHardLimit(opts.ReplicaBufferBytes)
		e.wlog = ring
	} else {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create dir %s: %w", opts.Dir, err)
		}
		e.fs = vfs.Default
		e.dbDir = filepath.Join(opts.Dir, "db")
		l, err := wal.Open(filepath.Join(opts.Dir, "wal"), wal.Options{Sync: opts.Fsync, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("open log: %w", err)
		}
		e.wlog = l
	}
	e.pacer = newFlushPacer(e.fs)
	if err := e.openDB(); err != nil {
		e.wlog.Close()
		return nil, err
	}
	if err := e.recover(); err != nil {
		e.db.Close()
		e.cache.Unref()
		e.wlog.Close()
		return nil, err
	}
	e.start()
	return e, nil
}

func (e *Engine) openDB() error {
	e.newBlockCache()
	popts := &pebble.Options{
		FS:            e.pacer,
		Cache:         e.cache,
		DisableWAL:    true,
		Logger:        quietLogger{},
		EventListener: e.pacer.listener(),
		// Larger memtables than the 4 MiB default: with our own log as the
		// record, a memtable costs only memory, and fewer, larger flushes
		// mean far less compaction under write-heavy loads.
		MemTableSize:  32 << 20,
		LBaseMaxBytes: lbaseMaxBytes,
		// Pebble's score for L0 is twice its depth over this threshold.
		L0CompactionThreshold: 2 * l0CompactionDepth,
	}
	popts.Levels = make([]pebble.LevelOptions, 7)
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		popts.Levels[i].FilterType = pebble.TableFilter
	}
	popts.EnsureDefaults()
	db, err := pebble.Open(e.dbDir, popts)
	if err != nil {
		e.cache.Unref()
		return fmt.Errorf("open pebble %s: %w", e.dbDir, err)
	}
	e.db = db
	if err := e.loadSystem(); err != nil {
		return err
	}
	e.installKeyFilter()
	return nil
}

// loadSystem reads the system keys into memory.
func (e *Engine) loadSystem() error {
	dbmap := make([]uint16, e.opts.Databases)
	for i := range dbmap {
		dbmap[i] = uint16(i)
	}
	if v, err := e.getSystem(keyDBMap); err != nil {
		return err
	} else if len(v) == 2*len(dbmap) {
		for i := range dbmap {
			dbmap[i] = binary.BigEndian.Uint16(v[2*i:])
		}
	}
	e.dbmap.Store(&dbmap)
	for i := range e.counts {
		v, err := e.getSystem(keyCount(uint16(i)))
		if err != nil {
			return err
		}
		var n int64
		if len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		e.counts[i].Store(n)
	}
	v, err := e.getSystem(keyApplied)
	if err != nil {
		return err
	}
	if len(v) == 8 {
		e.applied.Store(binary.BigEndian.Uint64(v))
	} else {
		e.applied.Store(0)
	}
	e.flushed.Store(e.applied.Load())
	return nil
}

func (e *Engine) getSystem(k []byte) ([]byte, error) {
	v, c, err := e.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", k, err)
	}
	defer c.Close()
	return append([]byte(nil), v...), nil
}

// recover replays the log entries after Pebble's applied_index.
func (e *Engine) recover() error {
	applied := e.applied.Load()
	first, last := e.wlog.FirstIndex(), e.wlog.LastIndex()
	if last < applied {
		if last == 0 && first <= 1 {
			// A log with nothing in it (deleted, or a fresh dir with an
			// old db): continue numbering after Pebble.
			return e.wlog.Reset(applied + 1)
		}
		return fmt.Errorf("log ends at index %d but the database has applied %d: log lost entries", last, applied)
	}
	if applied+1 < first {
		return fmt.Errorf("log starts at index %d but the database has applied only %d: entries %d..%d are missing", first, applied, applied+1, first-1)
	}
	if applied == last {
		return nil
	}
	start := time.Now()
	const chunk = 512
	for i := applied + 1; i <= last; {
		b := e.db.NewIndexedBatch()
		g := newGroup()
		n := 0
		for ; i <= last && n < chunk; i, n = i+1, n+1 {
			data, err := e.wlog.Read(i)
			if err != nil {
				b.Close()
				return fmt.Errorf("replay entry %d: %w", i, err)
			}
			if err := e.applyEntry(b, i, data, g); err != nil {
				b.Close()
				return fmt.Errorf("replay entry %d: %w", i, err)
			}
		}
		if err := e.commitBatch(b, i-1, g); err != nil {
			return err
		}
	}
	e.log.Info("replayed the log", "from", applied+1, "to", last, "entries", last-applied, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func (e *Engine) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	e.stopCh = ctx.Done()
	e.wg.Add(3)
	go func() { defer e.wg.Done(); e.commitLoop(ctx) }()
	go func() { defer e.wg.Done(); e.flushLoop(ctx) }()
	go func() { defer e.wg.Done(); e.expireLoop(ctx) }()
	e.startKeyBuild(e.keys.Load())
}

// Close stops the committer, flushes Pebble so a restart replays little,
// and closes Pebble and the log (which syncs it).
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Swap(true) {
		return nil
	}
	e.stop()
	e.wg.Wait()
	e.commitMu.Lock() // a link committing its entries (Apply) finishes first
	defer e.commitMu.Unlock()
	var errs []error
	e.pacer.closing.Store(true)
	if err := e.db.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("flush pebble: %w", err))
	}
	if err := e.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close pebble: %w", err))
	}
	e.cache.Unref()
	if err := e.wlog.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close log: %w", err))
	}
	return errors.Join(errs...)
}

// DB returns the Pebble database (snapshots take checkpoints of it);
// use it inside Hold, since Install replaces it.
func (e *Engine) DB() *pebble.DB { return e.db }

// FS returns the filesystem Pebble lives on.
func (e *Engine) FS() vfs.FS { return e.fs }

// Dir returns the data directory.
func (e *Engine) Dir() string { return e.opts.Dir }

// InMemory reports whether persistence is off.
func (e *Engine) InMemory() bool { return e.opts.InMemory }

// BacklogMemory returns the bytes of log held in memory for replicas: the
// ring's with persistence off; with it on, the backlog is the log's
// files and this is 0.
func (e *Engine) BacklogMemory() int64 {
	if r, ok := e.wlog.(*wal.Ring); ok {
		return r.Bytes()
	}
	return 0
}

// WAL returns the log of record (replication reads and tails it).
func (e *Engine) WAL() Log { return e.wlog }

// AppliedIndex is the index of the last entry whose effects are visible.
func (e *Engine) AppliedIndex() uint64 { return e.applied.Load() }

// FlushedIndex is the last applied index known to be on disk in Pebble.
func (e *Engine) FlushedIndex() uint64 { return e.flushed.Load() }

// Databases is the number of logical databases.
func (e *Engine) Databases() int { return e.opts.Databases }

// SetReplica switches the engine between master (active expiry on) and
// replica (expiry left to the master's DEL entries). A master builds the
// key filter a replica went without (startKeyBuild).
func (e *Engine) SetReplica(on bool) {
	e.replica.Store(on)
	if !on {
		e.startKeyBuild(e.keys.Load())
	}
}

// KeyspaceStats returns INFO's keyspace_hits and keyspace_misses (key
// lookups of commands run on the read path) and expired_keys (keys this
// node deleted because their time had come).
func (e *Engine) KeyspaceStats() (hits, misses, expired int64) {
	return e.hits.Load(), e.misses.Load(), e.expired.Load()
}

// ResetKeyspaceStats zeroes KeyspaceStats and EvictedKeys (CONFIG
// RESETSTAT).
func (e *Engine) ResetKeyspaceStats() {
	e.hits.Store(0)
	e.misses.Store(0)
	e.expired.Store(0)
	e.evicted.Store(0)
	e.expireTime.Store(0)
	e.expireCapped.Store(0)
}

// HoldExpiry stops active expiry while held is true (a client pause, as
// in Redis): no DEL enters the log. Reads still see expired keys as
// absent.
func (e *Engine) HoldExpiry(held bool) { e.noExpire.Store(held) }

// SetActiveExpire turns active expiry off or back on (DEBUG
// SET-ACTIVE-EXPIRE): off, keys expire only when touched.
func (e *Engine) SetActiveExpire(on bool) { e.expireOff.Store(!on) }

// Dirty is the number of writes since the last save.
func (e *Engine) Dirty() int64 { return e.dirty.Load() }

// LastSave is the Unix time of the last successful save.
func (e *Engine) LastSave() int64 { return e.lastSave.Load() }

// ReadAppliedIndex reads the applied index of a Pebble directory on fs,
// such as a checkpoint, opening it read-only. A database that never
// applied anything reads as 0.
func ReadAppliedIndex(fs vfs.FS, dir string) (uint64, error) {
	db, err := pebble.Open(dir, &pebble.Options{FS: fs, ReadOnly: true, Logger: quietLogger{}})
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer db.Close()
	index, err := appliedIndexIn(db)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	return index, nil
}

// appliedIndexIn reads the applied index a database or a snapshot of it
// holds; 0 when it never applied anything.
func appliedIndexIn(r pebble.Reader) (uint64, error) {
	v, c, err := r.Get(keyApplied)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if len(v) != 8 {
		return 0, errors.New("bad applied index")
	}
	return binary.BigEndian.Uint64(v), nil
}

// quietLogger keeps Pebble's info chatter out of the operator's log.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}
func (quietLogger) Errorf(format string, args ...interface{}) {
	slog.Error(fmt.Sprintf("pebble: "+format, args...))
}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	slog.Error(fmt.Sprintf("pebble: "+format, args...))
	os.Exit(1)
}

var _ io.Closer = (*Engine)(nil)
