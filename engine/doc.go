// Package engine is walrus's state machine: the Redis data model on Pebble.
//
// It turns a client's command into a reply plus effects (the deterministic
// commands that reproduce the change), orders every write through a single
// committer goroutine, appends each group's effects to the log of record
// (the commit point), then applies the group's mutations to Pebble in one
// batch together with the applied_index meta key. It knows nothing of
// sockets or replicas: the server hands it pipelines, the replica hands it
// entries received from a master.
//
// Invariants:
//
//   - Pebble's applied_index equals the index of the last log entry whose
//     mutations are in Pebble; recovery replays the log from there.
//   - Effects never depend on the clock or on randomness: relative expiry
//     becomes PXAT/PEXPIREAT, a key found expired becomes DEL, and applying an
//     entry (replay, replica) runs in raw mode that ignores expiry, so every
//     node that applies the same entries holds the same data.
//   - The log may be truncated only below the last index Pebble flushed to
//     disk and below every pin (replicas, checkpoints being streamed).
//
// The key encoding is described in keys.go and docs/architecture.md.
package engine
