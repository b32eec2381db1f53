package server

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestFailover runs the same FAILOVER scenario against walrus and, when
// it is installed, against redis-server: the same replies, the same
// roles at the end.
func TestFailover(t *testing.T) {
	t.Run("walrus", func(t *testing.T) {
		failoverScenario(t, func(replicaOf ...string) string {
			return startServer(t, append([]string{"--save", ""}, replicaOf...)...).Addr().String()
		})
	})
	t.Run("redis", func(t *testing.T) {
		failoverScenario(t, func(replicaOf ...string) string {
			return redisServer(t, append([]string{"--repl-diskless-sync-delay", "0"}, replicaOf...)...)
		})
	})
}

// failoverScenario gets its servers from start: a master without
// arguments, a replica with "--replicaof host port".
func failoverScenario(t *testing.T, start func(replicaOf ...string) string) {
	mAddr := start()
	m := dialRaw(t, mAddr)
	expect := func(c *rawConn, want string, args ...string) {
		t.Helper()
		if got := c.do(args...); got != want {
			t.Fatalf("%v: got %q, want %q", args, got, want)
		}
	}
	info := func(c *rawConn, section, field string) string { return infoField(t, c, section, field) }
	role := func(c *rawConn) string {
		r := c.do("ROLE")
		return strings.TrimPrefix(r[:strings.IndexAny(r+" ", " ]")], "[$")
	}

	// Argument and state errors, in Redis's order and words.
	expect(m, "-ERR FAILOVER requires connected replicas.", "FAILOVER")
	expect(m, "-ERR No failover in progress.", "FAILOVER", "ABORT")
	expect(m, "-ERR syntax error", "FAILOVER", "TO", "127.0.0.1")
	expect(m, "-ERR value is not an integer or out of range", "FAILOVER", "TO", "127.0.0.1", "x")
	expect(m, "-ERR FAILOVER timeout must be greater than 0", "FAILOVER", "TIMEOUT", "0")
	expect(m, "-ERR syntax error", "FAILOVER", "ABORT", "TIMEOUT", "10")
	expect(m, "-ERR syntax error", "FAILOVER", "FORCE", "FORCE")
	expect(m, "-ERR PSYNC FAILOVER can't be sent to a master.", "PSYNC", "x", "1", "FAILOVER")

	mHost, mPort, _ := net.SplitHostPort(mAddr)
	rAddr := start("--replicaof", mHost, mPort)
	r := dialRaw(t, rAddr)
	_, rPort, _ := net.SplitHostPort(rAddr)
	waitFor(t, "link up", 20*time.Second, func() bool { return info(r, "replication", "master_link_status") == "up" })
	waitFor(t, "the replica online", 20*time.Second, func() bool {
		return strings.Contains(info(m, "replication", "slave0"), "state=online")
	})
	expect(m, "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.", "FAILOVER", "FORCE")
	expect(m, "-ERR FAILOVER with force option requires both a timeout and target HOST and IP.", "FAILOVER", "TO", "127.0.0.1", rPort, "FORCE")
	expect(m, "-ERR FAILOVER target HOST and PORT is not a replica.", "FAILOVER", "TO", "127.0.0.1", "1")
	expect(r, "-ERR FAILOVER is not valid when server is a replica.", "FAILOVER")
	expect(r, "-ERR PSYNC FAILOVER replid must match my replid.", "PSYNC", "x", "1", "FAILOVER")

	// A paused replica applies nothing, so the failover waits for it;
	// meanwhile the master holds writes. ABORT lets them through.
	expect(r, "+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	expect(m, "+OK", "SET", "a", "1")
	expect(m, "+OK", "FAILOVER", "TIMEOUT", "60000")
	if got := info(m, "replication", "master_failover_state"); got != "waiting-for-sync" {
		t.Fatalf("master_failover_state %q after FAILOVER, want waiting-for-sync", got)
	}
	w := dialRaw(t, mAddr)
	w.send("SET", "b", "2")
	waitFor(t, "the write held", 10*time.Second, func() bool { return info(m, "clients", "blocked_clients") == "1" })
	expect(m, "-ERR FAILOVER already in progress.", "FAILOVER")
	expect(m, "-ERR REPLICAOF not allowed while failing over.", "REPLICAOF", "NO", "ONE")
	expect(m, "+OK", "FAILOVER", "ABORT")
	if got, err := w.read(); err != nil || got != "+OK" {
		t.Fatalf("held SET answered %q, %v after ABORT", got, err)
	}
	if got := info(m, "replication", "master_failover_state"); got != "no-failover" {
		t.Fatalf("master_failover_state %q after ABORT", got)
	}

	// A timeout without FORCE aborts by itself.
	expect(m, "+OK", "FAILOVER", "TIMEOUT", "100")
	waitFor(t, "the timeout to abort", 10*time.Second, func() bool {
		return info(m, "replication", "master_failover_state") == "no-failover"
	})
	expect(m, "+OK", "SET", "c", "3")
	if got := role(m); got != "master" {
		t.Fatalf("role %q after an aborted failover", got)
	}

	// The real thing: once the replica catches up, the roles swap, the
	// old master follows with a partial sync, and the write it held gets
	// READONLY.
	expect(m, "+OK", "FAILOVER", "TO", "127.0.0.1", rPort)
	w.send("SET", "d", "4")
	waitFor(t, "the write held", 10*time.Second, func() bool { return info(m, "clients", "blocked_clients") == "1" })
	expect(r, "+OK", "CLIENT", "UNPAUSE")
	if got, err := w.read(); err != nil || got != "-READONLY You can't write against a read only replica." {
		t.Fatalf("held SET answered %q, %v after the failover", got, err)
	}
	waitFor(t, "the roles to swap", 20*time.Second, func() bool { return role(m) == "slave" && role(r) == "master" })
	waitFor(t, "the old master's link", 20*time.Second, func() bool { return info(m, "replication", "master_link_status") == "up" })
	for field, want := range map[string]string{"sync_partial_ok": "1", "sync_full": "0"} {
		if got := info(r, "stats", field); got != want {
			t.Errorf("new master %s = %s, want %s", field, got, want)
		}
	}
	if got := info(m, "replication", "master_failover_state"); got != "no-failover" {
		t.Errorf("old master_failover_state %q", got)
	}
	expect(r, "[$1 $2 $3 (nil)]", "MGET", "a", "b", "c", "d")
	expect(r, "+OK", "SET", "e", "5")
	waitFor(t, "the new master's write on the old one", 10*time.Second, func() bool { return m.do("GET", "e") == "$5" })
}
