package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoField reads one field of INFO from a raw connection.
func infoField(t testing.TB, r *rawConn, section, field string) string {
	t.Helper()
	info := r.do("INFO", section)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

func digest(r *rawConn) string { return r.do("DEBUG", "DIGEST") }

// waitConverged waits until every replica has the master's digest.
func waitConverged(t testing.TB, master *rawConn, replicas ...*rawConn) {
	t.Helper()
	waitFor(t, "replicas to converge", 30*time.Second, func() bool {
		want := digest(master)
		for _, r := range replicas {
			if digest(r) != want {
				return false
			}
		}
		return true
	})
}

func TestReplicaFullSyncThenStreams(t *testing.T) {
	m := startServer(t, "--save", "")
	mc := dialRaw(t, m.Addr().String())
	for i := 0; i < 500; i++ {
		mc.do("SET", "before"+strconv.Itoa(i), strconv.Itoa(i))
	}
	port := m.Addr().(interface{ String() string }).String()
	host, p, _ := strings.Cut(port, ":")
	rs := startServer(t, "--replicaof", host, p)
	rc := dialRaw(t, rs.Addr().String())
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	for i := 0; i < 500; i++ {
		mc.do("SET", "after"+strconv.Itoa(i), strconv.Itoa(i))
	}
	mc.do("SELECT", "3")
	mc.do("INCRBY", "counter", "5")
	waitConverged(t, mc, rc)
	if got := rc.do("GET", "after499"); got != "$499" {
		t.Fatalf("replica GET after499 = %q", got)
	}
	if got := rc.do("SET", "x", "y"); got != "-READONLY You can't write against a read only replica." {
		t.Fatalf("write on replica: %q", got)
	}
	if got := infoField(t, mc, "stats", "sync_full"); got != "1" {
		t.Fatalf("sync_full = %q, want 1", got)
	}
	if got := infoField(t, mc, "replication", "connected_slaves"); got != "1" {
		t.Fatalf("connected_slaves = %q", got)
	}
	// WAIT counts the replica once it acknowledged the client's last write.
	if got := mc.do("WAIT", "1", "5000"); got != ":1" {
		t.Fatalf("WAIT 1 5000 = %q", got)
	}
	if got := rc.do("ROLE"); !strings.HasPrefix(got, "[$slave $"+host) {
		t.Fatalf("ROLE on replica: %q", got)
	}
}

// Sentinel promotes a replica with a transaction of server commands only.
func TestFailoverTransactionPromotesReplica(t *testing.T) {
	m := startServer(t, "--save", "")
	host, p, _ := strings.Cut(m.Addr().String(), ":")
	rs := startServer(t, "--replicaof", host, p)
	rc := dialRaw(t, rs.Addr().String())
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	for _, cmd := range [][]string{{"MULTI"}, {"SLAVEOF", "NO", "ONE"}, {"CLIENT", "KILL", "TYPE", "normal"}} {
		rc.do(cmd...)
	}
	got := rc.do("EXEC")
	if !strings.HasPrefix(got, "[+OK :") {
		t.Fatalf("EXEC of the failover transaction: %q", got)
	}
	if role := infoField(t, rc, "replication", "role"); role != "master" {
		t.Fatalf("role after failover transaction: %q", role)
	}
	if got := rc.do("SET", "k", "v"); got != "+OK" {
		t.Fatalf("write on the promoted node: %q", got)
	}
}
