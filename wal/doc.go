// Package wal is walrus's log of record: every write the committer orders
// becomes one entry at the next index, and replicas are fed from here.
//
// Two implementations share the Log interface. File keeps the log on disk
// in segment files written through github.com/tidwall/wal; Ring keeps a
// bounded backlog in memory for a master running with persistence off.
//
// # Invariants
//
//   - Indexes are consecutive: Append(first, ...) is accepted only at
//     LastIndex()+1, and entries FirstIndex()..LastIndex() are all held.
//   - The append is the commit point. Once Append returns nil the entries
//     are readable, Wait wakes, and (under SyncAlways) they are fsynced.
//     SyncedIndex tells how far stable storage goes under the other policies.
//   - What to drop is the caller's policy: TruncateFront and Reset run when
//     the engine and the replication code say so (flushed index, replicas'
//     needs, backlog size); this package never drops entries on its own,
//     except Ring's size bound.
//
// # On disk
//
// A directory of segment files, each named %020d of its first index, each a
// run of tidwall/wal binary records:
//
//	uvarint(4+len(payload)) | crc32c(payload) little endian, 4 bytes | payload
//
// The checksum (CRC-32 Castagnoli) is this package's addition: tidwall/wal
// alone would return zero fill as empty entries and a flipped bit as data.
// Read verifies it; a mismatch is a *CorruptError naming the file and the
// record's byte offset, wrapping ErrCorrupt.
//
// Segments roll over at about Options.SegmentSize (4 MiB): tidwall/wal
// keeps the tail segment in memory and grows it by append, so small
// segments keep appends cheap. A segment is fsynced when sealed, and the
// directory is fsynced after a segment appears or goes.
//
// # Open and repair
//
// Open reads every segment and checks every record (retention keeps the log
// short; a sequential CRC is cheap). A crash mid-write can leave the last
// segment ending in an incomplete record, a record whose checksum fails, or
// zero fill. When the first bad record of the last segment is followed by no
// valid record, that is a torn tail: the file is cut there, fsynced, and one
// warning names the file, the offset and the bytes cut. A bad record in an
// older segment, a bad record with a valid one after it, or a segment that
// does not end where the next begins is corruption, and Open fails with a
// *CorruptError rather than lose entries silently. A last segment cut to
// zero records is kept as an empty file so the log's next index survives.
//
// A failed append (a full disk) leaves the log unusable: every later
// Append returns the same error, reads go on. Reopen, once the cause is
// gone, closes the handle and opens the directory again exactly as Open
// does, torn-tail repair included; the engine retries it once a second.
//
// A new log starts at index 1. Reset(next) starts it at any index: it
// writes a %020d.RESET marker (fsynced), removes every segment, and turns
// the marker into an empty segment named next; an Open that finds a marker
// finishes the reset.
//
// TruncateFront removes whole segment files below the index and moves
// FirstIndex; the older entries of the segment holding the index stay on disk
// until that segment goes, so a reopened log may start a little earlier than
// the last TruncateFront asked, never later.
//
// # Concurrency
//
// One committer appends while replica feeders Read, ReadFrom and Wait.
// tidwall/wal races with more than one reader, so every call into it holds
// File's mutex; checksums are verified and payloads copied after it is
// released. fsyncs run without that mutex, so appends are not held up by
// the SyncEverySec goroutine, which Close stops and waits for.
package wal
