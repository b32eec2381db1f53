// Package snapshot owns the Pebble checkpoints a master uses to bootstrap
// replicas (full sync): creating them, sharing one checkpoint between every
// replica that asks while it is fresh, streaming it in a framed and
// checksummed format, receiving and verifying that stream on the replica, and
// installing the received directory atomically in place of the old data.
//
// It does not know what is stored in Pebble, how the index a checkpoint is
// consistent at is recorded (the engine supplies Source.ReadIndex), nor how
// the stream reaches the replica (any io.Writer / io.Reader); WAL pinning is
// the caller's job, using Checkpoint.Index and Manager.MinIndex.
//
// # Invariants
//
//   - A checkpoint is consistent at the index it records: it holds every
//     write of entries <= Index() and none above. This holds because the
//     engine writes each group's mutations and its applied_index in one Pebble
//     batch, and a checkpoint captures whole batches. Acquire flushes the
//     memtable first so the index is recent (a checkpoint does not include
//     the memtable).
//   - A checkpoint directory lives exactly as long as someone holds it: the
//     last Release deletes it (on an in-memory filesystem it pins compacted
//     tables in RAM), and Manager.Close deletes what is left.
//   - Receive returns success only once every byte has been verified and the
//     files and directories are fsynced; on failure it leaves nothing behind.
//
// # Stream format (version 1)
//
// All integers are big-endian; CRCs are CRC-32C (Castagnoli).
//
//	header   magic "WALRUSCP" [8] | version u32 | index u64 |
//	         total payload bytes u64 | file count u32 | crc u32 (of the 32 bytes before it)
//	file     (repeated file-count times)
//	         path length u16 | path [length] | file size u64 | crc u32 (of the fields before it)
//	         then the file's bytes in chunks of ChunkSize (the last one shorter;
//	         none for an empty file), each chunk followed by crc u32 of the chunk
//	trailer  magic "WALRUSCP" [8] | crc u32 over the header and every file
//	         header, in stream order (each including its own crc)
//
// Paths are slash-separated and relative to the checkpoint directory; they
// must be clean (no "." or ".." element, no leading "/", no backslash or NUL)
// and at most MaxPathLen bytes. The file sizes must add up to the header's
// total, which lets the receiver show progress from the first bytes. The
// receiver bounds every size it reads before acting on it (MaxFiles,
// MaxPathLen, MaxPayload) and allocates one 64 KiB buffer, so a hostile
// stream can neither make it allocate without limit nor write outside its
// temporary directory. Both ends move a chunk 64 KiB at a time, updating its
// CRC as they go; the receiver writes a chunk before it can check the chunk's
// CRC, and a mismatch fails the receive, which then removes its directory.
// Receive reads exactly the stream's bytes and nothing after the trailer, so
// a replica can keep reading the same connection for the WAL entries that
// follow.
//
// # Installing
//
// A replica receives into a temporary directory beside its data directory
// (same filesystem) and calls Install, which renames the old data directory
// to dst+".old", renames the received one to dst, fsyncs the parent and
// removes the old one. After a crash, Recover(dst) at start-up finishes or
// rolls back: if dst is missing but dst+".old" exists the old data is put
// back; otherwise a leftover dst+".old" is removed; leftover receive
// directories (named with TempPrefix) beside dst are removed.
package snapshot
