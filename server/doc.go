// Package server is walrus's RESP front end: it accepts connections
// (tidwall/redcon), enforces protocol limits, authentication and the
// replica and loading rules, keeps per-connection state (selected db,
// MULTI queue, name), answers server commands (INFO, CONFIG, CLIENT,
// COMMAND, DEBUG, SHUTDOWN, ...) and hands data commands to the engine.
//
// Security: users and their command, key and channel permissions
// (acl.go; the default user's password is requirepass), and TLS listeners
// on tls-port plus the replica link's TLS settings (tls.go). The ACL rule
// is one bit test per command in the dispatcher's check.
//
// The command table is data: one row per command, engine commands and
// server commands alike, each with its arity and flags. The dispatcher
// applies every check once from the row; handlers never repeat them.
// A connection's pipeline (every command redcon parsed from one read) goes
// to the engine as one request, so a pipelined client costs one round trip
// through the committer, and a read that follows a write in the same
// pipeline sees it.
package server
