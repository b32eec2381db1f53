package wal

import (
	"context"
	"errors"
	"log/slog"
)

// Sentinel errors. Callers branch on them with errors.Is; the returned errors
// wrap them with the index, file or offset involved.
var (
	// ErrNotFound: the index is above LastIndex().
	ErrNotFound = errors.New("wal: index not found")
	// ErrCompacted: the index is below FirstIndex(); it was truncated away.
	ErrCompacted = errors.New("wal: index compacted")
	// ErrCorrupt: a record failed its checksum or its framing. The wrapping
	// error names the segment file and the record's byte offset.
	ErrCorrupt = errors.New("wal: corrupt")
	// ErrOutOfOrder: Append was not called at LastIndex()+1.
	ErrOutOfOrder = errors.New("wal: out of order")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("wal: closed")
)

// SyncPolicy says when appended entries reach stable storage (Redis's
// appendfsync).
type SyncPolicy int

const (
	// SyncEverySec fsyncs from a background goroutine once a second (the
	// default; Redis's "appendfsync everysec").
	SyncEverySec SyncPolicy = iota
	// SyncAlways fsyncs inside Append before it returns. The committer
	// appends a whole group per call, so one fsync covers many entries.
	SyncAlways
	// SyncNo never fsyncs except on Sync and Close.
	SyncNo
)

// String returns the appendfsync word for the policy.
func (p SyncPolicy) String() string {
	switch p {
	case SyncEverySec:
		return "everysec"
	case SyncAlways:
		return "always"
	case SyncNo:
		return "no"
	}
	return "unknown"
}

// Log is the log of record as the engine and the replication code see it.
// *File keeps it on disk, *Ring in memory. All methods are safe for
// concurrent use: one appender and any number of readers and waiters.
type Log interface {
	// FirstIndex is the oldest index held; LastIndex()+1 when empty.
	FirstIndex() uint64
	// LastIndex is the newest index; 0 for a new log, next-1 after Reset(next).
	LastIndex() uint64
	// Append stores entries at first, first+1, ... first must equal
	// LastIndex()+1, else ErrOutOfOrder. The data is copied. When Append
	// returns nil the entries are committed (and, under SyncAlways, fsynced).
	Append(first uint64, entries [][]byte) error
	// Read returns a verified private copy of the entry at index.
	// ErrCompacted below FirstIndex, ErrNotFound above LastIndex.
	Read(index uint64) ([]byte, error)
	// ReadFrom returns consecutive entries starting at from: at least one if
	// from <= LastIndex(), then more while their total size stays within
	// maxBytes. It returns an empty slice when from == LastIndex()+1.
	// The slices are private copies.
	ReadFrom(from uint64, maxBytes int) ([][]byte, error)
	// Wait blocks until LastIndex() > after, or a Reset happened, and returns
	// LastIndex(). It returns ctx.Err() when ctx ends and ErrClosed when the
	// log is closed.
	Wait(ctx context.Context, after uint64) (uint64, error)
	// Changed returns a channel closed at the log's next change (an
	// append, a Reset, Close); it is closed already when LastIndex() >
	// after or the log is closed. It is Wait for a caller that selects on
	// other events too, without a goroutine or a context per wait.
	Changed(after uint64) <-chan struct{}
	// Sync makes every appended entry durable.
	Sync() error
	// SyncedIndex is the highest index known to be on stable storage.
	SyncedIndex() uint64
	// TruncateFront drops the entries below index. A no-op when
	// index <= FirstIndex(); index may be at most LastIndex()+1.
	TruncateFront(index uint64) error
	// Reset drops everything; afterwards FirstIndex()==next and
	// LastIndex()==next-1. next must be at least 1.
	Reset(next uint64) error
	// Close syncs and closes. It is idempotent.
	Close() error
}

var (
	_ Log = (*File)(nil)
	_ Log = (*Ring)(nil)
)

// DefaultSegmentSize is the segment file size used when Options.SegmentSize
// is zero. tidwall/wal keeps the tail segment in memory and grows it by
// append, so small segments keep appends cheap.
const DefaultSegmentSize = 4 << 20

// Options configure a disk log. The zero value is ready to use.
type Options struct {
	// SegmentSize is the target size of one segment file in bytes.
	// Default DefaultSegmentSize (4 MiB).
	SegmentSize int
	// Sync is the fsync policy. Default SyncEverySec.
	Sync SyncPolicy
	// Logger receives the few operator-facing lines (a repaired torn tail,
	// a completed interrupted Reset, background fsync failures).
	// Default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
