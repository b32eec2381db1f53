// Package bench is walrus's benchmark harness. It measures any
// Redis-compatible server from the outside: it starts server processes from
// a command line, talks RESP to them over 127.0.0.1 and reads their CPU time
// and memory from /proc. walrus and redis-server are measured the same way,
// by the same code, which is why the package imports none of walrus's server
// packages.
//
// What it owns:
//
//   - Server and Process: a server binary with its base arguments, and a
//     running instance of it (Start, Stop with SIGTERM, Kill with SIGKILL).
//   - Conn: a small pipelined RESP client (write N commands, read N replies)
//     used both by the load generator and for control commands.
//   - Workload and the load generator: a command mix ("set:get=1:9"), N
//     clients with a pipeline depth over a key space, for a duration or a
//     request count, with latencies recorded in HDR histograms.
//   - The scenarios: throughput, fullsync, lag, restart, readscale and
//     evict, each producing a Report of named Figures per server, optionally
//     compared between servers with ratios, and rendered as a table, JSON or
//     PNG charts.
//
// Invariants:
//
//   - Every process the harness starts is owned by an env that kills it when
//     the scenario ends, on success and on every error path.
//   - Every wait is bounded by a deadline; a server that does not answer
//     fails the scenario with the tail of its log instead of hanging it.
//   - Replication offsets are reported as each server defines them (bytes
//     for redis-server, WAL entries for walrus): an offset lag is comparable
//     over time for one server, never across servers, so it carries no ratio.
package bench
