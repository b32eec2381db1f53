package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startSentinel runs a real Redis Sentinel (redis-server --sentinel)
// monitoring m, with extra lines of sentinel.conf, or skips when
// redis-server is not installed.
func startSentinel(t *testing.T, m *node, extra ...string) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("WALRUS_CI") != "" {
			t.Fatal("redis-server is required in CI but not installed")
		}
		t.Skip("redis-server not installed: Sentinel test skipped (apt-get install redis-server)")
	}
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel resolve-hostnames no
sentinel monitor mymaster 127.0.0.1 %d 1
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 1
`, port, dir, filepath.Join(dir, "sentinel.log"), m.port)
	for _, line := range extra {
		body += line + "\n"
	}
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
			t.Logf("sentinel log:\n%s", b)
		}
	})
	sc := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Protocol: 2})
	t.Cleanup(func() { sc.Close() })
	waitFor(t, "sentinel to start", 20*time.Second, func() bool { return sc.Ping(context.Background()).Err() == nil })
	return sc
}

// Redis Sentinel, unchanged, watches a walrus master and its replicas,
// and fails over to a replica when the master dies.
func TestSentinelFailsOverToAWalrusReplica(t *testing.T) {
	m := startNode(t, "")
	r1 := startNode(t, "", replicaOf(m)...)
	r2 := startNode(t, "", replicaOf(m)...)
	failOver(t, startSentinel(t, m), m, r1, r2)
}

// sentinelUser is the ACL user Redis's Sentinel documentation gives
// Sentinel, word for word: it needs subcommand rules, and it names
// SCRIPT KILL, which walrus does not have.
var sentinelUser = []string{"--user", "sentinel-user", "on", ">sentinel-pass", "allchannels", "+multi", "+slaveof",
	"+ping", "+exec", "+subscribe", "+config|rewrite", "+role", "+publish", "+info", "+client|setname", "+client|kill",
	"+script|kill"}

// Sentinel fails over as the ACL user its documentation recommends, with
// no more than that user may run.
func TestSentinelWithItsACLUserFailsOver(t *testing.T) {
	m := startNode(t, "", sentinelUser...)
	r1 := startNode(t, "", append(replicaOf(m), sentinelUser...)...)
	r2 := startNode(t, "", append(replicaOf(m), sentinelUser...)...)
	sc := startSentinel(t, m, "sentinel auth-user mymaster sentinel-user", "sentinel auth-pass mymaster sentinel-pass")
	failOver(t, sc, m, r1, r2)
	for _, n := range []*node{r1, r2} {
		if list := fmt.Sprint(n.must("CLIENT", "LIST")); !strings.Contains(list, "user=sentinel-user") {
			t.Errorf("node %d: no connection of sentinel-user in CLIENT LIST:\n%s", n.port, list)
		}
		// A command the user may not run would be in the node's ACL LOG.
		if log := n.must("ACL", "LOG").([]any); len(log) > 0 {
			t.Errorf("node %d refused Sentinel: %v", n.port, log)
		}
	}
}

// failOver has sc discover m's replicas r1 and r2, stops m, and checks
// that Sentinel promotes one and points the other at it, with no write
// lost.
func failOver(t *testing.T, sc *redis.Client, m, r1, r2 *node) {
	t.Helper()
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	ctx := context.Background()
	waitFor(t, "sentinel to discover both replicas", 30*time.Second, func() bool {
		reps, err := sc.Do(ctx, "SENTINEL", "replicas", "mymaster").Slice()
		return err == nil && len(reps) == 2
	})
	m.must("SET", "before", "failover")
	waitConverged(t, m, r1, r2)

	m.stop()
	var newPort int
	waitFor(t, "sentinel to promote a replica", 60*time.Second, func() bool {
		addr, err := sc.Do(ctx, "SENTINEL", "get-master-addr-by-name", "mymaster").StringSlice()
		if err != nil || len(addr) != 2 {
			return false
		}
		newPort = atoi(addr[1])
		return newPort != m.port
	})
	promoted, other := r1, r2
	if newPort == r2.port {
		promoted, other = r2, r1
	}
	if newPort != promoted.port {
		t.Fatalf("sentinel chose port %d, not one of the replicas", newPort)
	}
	// Sentinel kills the clients of each node it reconfigures, so these
	// polls may meet a closed connection: that is "not yet".
	field := func(n *node, name string) string { v, _ := n.tryInfo("replication", name); return v }
	waitFor(t, "the promoted replica to be a master", 30*time.Second, func() bool {
		return field(promoted, "role") == "master"
	})
	waitFor(t, "the other replica to follow the new master", 60*time.Second, func() bool {
		return field(other, "master_port") == strconv.Itoa(promoted.port) &&
			field(other, "master_link_status") == "up"
	})
	if v := promoted.rdb.Get(ctx, "before").Val(); v != "failover" {
		t.Fatalf("promoted replica lost data: GET before = %q", v)
	}
	promoted.must("SET", "after", "failover")
	waitConverged(t, promoted, other)
}
