package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startSentinel runs a real Redis Sentinel (redis-server --sentinel)
// monitoring m, or skips when redis-server is not installed.
func startSentinel(t *testing.T, m *node) *redis.Client {
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
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	sc := startSentinel(t, m)
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
