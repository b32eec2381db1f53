// Package replica is walrus's replication: the master side (PSYNC, full
// sync from a shared Pebble checkpoint, feeding log entries, tracking
// acknowledgements for WAIT and WAITAOF) and the replica side (the link
// to a master: handshake, checkpoint bootstrap, tailing, reconnecting).
//
// The replication offset is the log index. A master streams its log
// entries as they are (RESP commands, MULTI/EXEC around an entry of
// several); a replica appends each to its own log at the same index
// through the engine, so a replica serves its own replicas with the same
// protocol and the same replication ID: chains of any depth work, and a
// replica resumes from its own durable index after a restart.
//
// Invariants:
//
//   - A replica's log holds exactly the master's entries at the same
//     indexes (Engine.Apply refuses anything else).
//   - The master never drops a log entry a connected replica or a
//     checkpoint being streamed still needs (engine pins), except when an
//     in-memory log would outgrow the replica output-buffer limit: then
//     the replica is disconnected, as Redis does.
//   - PSYNC continues only from an index the master holds under the
//     replica's replication ID (or the previous ID, up to the switch
//     index); anything else is a full sync.
//
// Replication never interprets a data type: entries go from log to wire
// to log untouched.
package replica
