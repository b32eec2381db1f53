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
func TestFailover(t *testing.T) { againstBothStarting(t, failoverScenario) }

// failoverScenario gets its servers from start: a master without
// arguments, a replica with "--replicaof host port".
func failoverScenario(t *testing.T, start startFunc) {
	mAddr := start()
	m := dialRaw(t, mAddr)
	info := func(c *rawConn, section, field string) string { return infoField(t, c, section, field) }
	role := func(c *rawConn) string {
		r := c.do("ROLE")
		return strings.TrimPrefix(r[:strings.IndexAny(r+" ", " ]")], "[$")
	}

	// Argument and state errors, in Redis's order and words.
	m.expect("-ERR FAILOVER requires connected replicas.", "FAILOVER")
	m.expect("-ERR No failover in progress.", "FAILOVER", "ABORT")
	m.expect("-ERR syntax error", "FAILOVER", "TO", "127.0.0.1")
	m.expect("-ERR value is not an integer or out of range", "FAILOVER", "TO", "127.0.0.1", "x")
	m.expect("-ERR FAILOVER timeout must be greater than 0", "FAILOVER", "TIMEOUT", "0")
	m.expect("-ERR syntax error", "FAILOVER", "ABORT", "TIMEOUT", "10")
	m.expect("-ERR syntax error", "FAILOVER", "FORCE", "FORCE")
	m.expect("-ERR PSYNC FAILOVER can't be sent to a master.", "PSYNC", "x", "1", "FAILOVER")

	mHost, mPort, _ := net.SplitHostPort(mAddr)
	rAddr := start("--replicaof", mHost, mPort)
	r := dialRaw(t, rAddr)
	_, rPort, _ := net.SplitHostPort(rAddr)
	waitFor(t, "link up", 20*time.Second, func() bool { return info(r, "replication", "master_link_status") == "up" })
	waitFor(t, "the replica online", 20*time.Second, func() bool {
		return strings.Contains(info(m, "replication", "slave0"), "state=online")
	})
	m.expect("-ERR FAILOVER with force option requires both a timeout and target HOST and IP.", "FAILOVER", "FORCE")
	m.expect("-ERR FAILOVER with force option requires both a timeout and target HOST and IP.", "FAILOVER", "TO", "127.0.0.1", rPort, "FORCE")
	m.expect("-ERR FAILOVER target HOST and PORT is not a replica.", "FAILOVER", "TO", "127.0.0.1", "1")
	r.expect("-ERR FAILOVER is not valid when server is a replica.", "FAILOVER")
	r.expect("-ERR PSYNC FAILOVER replid must match my replid.", "PSYNC", "x", "1", "FAILOVER")

	// A paused replica applies nothing, so the failover waits for it;
	// meanwhile the master holds writes. ABORT lets them through.
	r.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	m.expect("+OK", "SET", "a", "1")
	m.expect("+OK", "FAILOVER", "TIMEOUT", "60000")
	if got := info(m, "replication", "master_failover_state"); got != "waiting-for-sync" {
		t.Fatalf("master_failover_state %q after FAILOVER, want waiting-for-sync", got)
	}
	w := dialRaw(t, mAddr)
	w.send("SET", "b", "2")
	m.waitBlocked("1")
	m.expect("-ERR FAILOVER already in progress.", "FAILOVER")
	m.expect("-ERR REPLICAOF not allowed while failing over.", "REPLICAOF", "NO", "ONE")
	m.expect("+OK", "FAILOVER", "ABORT")
	w.expectRead("+OK")
	if got := info(m, "replication", "master_failover_state"); got != "no-failover" {
		t.Fatalf("master_failover_state %q after ABORT", got)
	}

	// A timeout without FORCE aborts by itself.
	m.expect("+OK", "FAILOVER", "TIMEOUT", "100")
	waitFor(t, "the timeout to abort", 10*time.Second, func() bool {
		return info(m, "replication", "master_failover_state") == "no-failover"
	})
	m.expect("+OK", "SET", "c", "3")
	if got := role(m); got != "master" {
		t.Fatalf("role %q after an aborted failover", got)
	}

	// The real thing: once the replica catches up, the roles swap, the
	// old master follows with a partial sync, and the write it held gets
	// READONLY.
	m.expect("+OK", "FAILOVER", "TO", "127.0.0.1", rPort)
	w.send("SET", "d", "4")
	m.waitBlocked("1")
	r.expect("+OK", "CLIENT", "UNPAUSE")
	w.expectRead("-READONLY You can't write against a read only replica.")
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
	r.expect("[$1 $2 $3 (nil)]", "MGET", "a", "b", "c", "d")
	r.expect("+OK", "SET", "e", "5")
	waitFor(t, "the new master's write on the old one", 10*time.Second, func() bool { return m.do("GET", "e") == "$5" })
}
