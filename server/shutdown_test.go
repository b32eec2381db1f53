package server

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestShutdownWaitsForReplicas runs the same scenario against walrus and,
// when it is installed, against redis-server: a master with persistence
// off waits for its replica before it exits, so the replica ends with
// every write the master acknowledged; SHUTDOWN ABORT cancels the wait;
// shutdown-timeout bounds it.
func TestShutdownWaitsForReplicas(t *testing.T) { againstBothStarting(t, shutdownScenario) }

func shutdownScenario(t *testing.T, start startFunc) {
	// pair starts a master and a replica of it, and pauses the replica's
	// apply (a client pause holds it) so that it lags.
	pair := func() (mAddr string, m, r *rawConn) {
		mAddr = start()
		host, port, _ := net.SplitHostPort(mAddr)
		rAddr := start("--replicaof", host, port)
		m, r = dialRaw(t, mAddr), dialRaw(t, rAddr)
		waitFor(t, "the replica online", 20*time.Second, func() bool {
			return strings.Contains(infoField(t, m, "replication", "slave0"), "state=online")
		})
		r.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
		m.expect("+OK", "SET", "k1", "v1")
		return mAddr, m, r
	}
	gone := func(addr string) {
		t.Helper()
		waitFor(t, "the master to exit", 20*time.Second, func() bool {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err != nil
		})
	}

	mAddr, m, r := pair()
	m.expect("-ERR No shutdown in progress.", "SHUTDOWN", "ABORT")
	m.expect("-ERR syntax error", "SHUTDOWN", "ABORT", "NOW")
	sd, w := dialRaw(t, mAddr), dialRaw(t, mAddr)
	sd.send("SHUTDOWN")
	waitFor(t, "the shutdown to wait", 10*time.Second, func() bool {
		return infoField(t, m, "server", "shutdown_in_milliseconds") != ""
	})
	if got := infoField(t, m, "clients", "blocked_clients"); got != "1" {
		t.Fatalf("blocked_clients %s with SHUTDOWN waiting, want 1", got)
	}
	w.send("SET", "k2", "v2") // held while the master waits
	m.waitBlocked("2")
	m.expect("+OK", "SHUTDOWN", "ABORT")
	sd.expectRead("-ERR Errors trying to SHUTDOWN. Check logs.")
	w.expectRead("+OK")
	if got := infoField(t, m, "server", "shutdown_in_milliseconds"); got != "" {
		t.Fatalf("shutdown_in_milliseconds %q after ABORT", got)
	}
	m.expect("+PONG", "PING")

	// Now the replica catches up during the wait, and the master exits:
	// the replica has every write. (A new connection: redis-server 7.0.15
	// fails an assertion when the client whose SHUTDOWN was aborted sends
	// another.)
	sd = dialRaw(t, mAddr)
	sd.send("SHUTDOWN")
	waitFor(t, "the shutdown to wait", 10*time.Second, func() bool {
		return infoField(t, m, "server", "shutdown_in_milliseconds") != ""
	})
	r.expect("+OK", "CLIENT", "UNPAUSE")
	if got, err := sd.read(); err == nil {
		t.Fatalf("SHUTDOWN answered %q; want the connection closed", got)
	}
	gone(mAddr)
	r.expect("[$v1 $v2]", "MGET", "k1", "k2")

	// shutdown-timeout bounds the wait for a replica that does not catch up.
	mAddr, m, _ = pair()
	m.expect("+OK", "CONFIG", "SET", "shutdown-timeout", "1")
	began := time.Now()
	m.send("SHUTDOWN")
	if got, err := m.read(); err == nil {
		t.Fatalf("SHUTDOWN answered %q; want the connection closed", got)
	}
	gone(mAddr)
	if d := time.Since(began); d < time.Second {
		t.Fatalf("the master exited after %v, before its 1 s shutdown-timeout", d)
	}
}
