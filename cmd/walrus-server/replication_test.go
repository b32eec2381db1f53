package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func replicaOf(m *node) []string { return []string{"--replicaof", "127.0.0.1", strconv.Itoa(m.port)} }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// The topology Redis users know: a master with persistence off and two
// replicas started from redis.conf-style files.
func TestClassicTopologyFromConfigFiles(t *testing.T) {
	dir := t.TempDir()
	mport := freePort(t)
	conf := func(name string, port int, extra string) string {
		d := filepath.Join(dir, name)
		body := "# " + name + "\nport " + strconv.Itoa(port) + "\nbind 127.0.0.1\n" +
			"dir " + d + "\npidfile " + filepath.Join(dir, name+".pid") + "\nlogfile " + filepath.Join(dir, name+".log") + "\n" + extra
		p := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(d, 0o755)
		return p
	}
	m := &node{t: t, port: mport, dir: dir}
	m.startArgs([]string{conf("master", mport, "save \"\"\nappendonly no\n")})
	var reps []*node
	for i, name := range []string{"replica1", "replica2"} {
		port := freePort(t)
		directive := "replicaof"
		if i == 1 {
			directive = "slaveof" // the old spelling works too
		}
		r := &node{t: t, port: port, dir: dir}
		r.startArgs([]string{conf(name, port, directive+" 127.0.0.1 "+strconv.Itoa(mport)+"\n")})
		reps = append(reps, r)
	}
	ctx := context.Background()
	if err := m.rdb.Set(ctx, "key1", "val1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		waitFor(t, "GET key1 on a replica", 30*time.Second, func() bool { return r.rdb.Get(ctx, "key1").Val() == "val1" })
	}
	if got := m.info("replication", "connected_slaves"); got != "2" {
		t.Fatalf("connected_slaves %q, want 2", got)
	}
	if m.info("persistence", "walrus_persistent") != "0" {
		t.Fatal("master with save \"\" should run with persistence off")
	}
	// stop reads the pidfile, as examples/master-replicas/stop.sh does.
	for _, name := range []string{"replica1", "replica2", "master"} {
		pidfile := filepath.Join(dir, name+".pid")
		b, err := os.ReadFile(pidfile)
		if err != nil {
			t.Fatalf("pidfile of %s: %v", name, err)
		}
		pid := atoi(strings.TrimSpace(string(b)))
		syscall.Kill(pid, syscall.SIGTERM)
		waitFor(t, name+" to remove its pidfile", 30*time.Second, func() bool {
			_, err := os.Stat(pidfile)
			return os.IsNotExist(err)
		})
	}
}

func TestTwoReplicasStartedTogetherShareOneCheckpoint(t *testing.T) {
	m := startNode(t, "", "--save", "", "--appendonly", "no")
	fill(t, m, "k:", 50_000)
	// Both processes start before either is waited for.
	reps := make([]*node, 2)
	for i := range reps {
		reps[i] = &node{t: t, port: freePort(t), dir: t.TempDir(), args: replicaOf(m)}
		reps[i].launch()
	}
	for _, r := range reps {
		r.waitReady()
		waitLinkUp(t, r)
	}
	waitConverged(t, m, reps...)
	if got := m.info("stats", "sync_full"); got != "2" {
		t.Fatalf("sync_full %q, want 2", got)
	}
	if got := m.info("stats", "walrus_checkpoints_created"); got != "1" {
		t.Fatalf("checkpoints created %q, want 1 (shared)", got)
	}
}

func TestChainedReplicasConverge(t *testing.T) {
	m := startNode(t, "")
	r1 := startNode(t, "", replicaOf(m)...)
	r2 := startNode(t, "", replicaOf(r1)...)
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	fill(t, m, "chain:", 5000)
	m.must("HSET", "nope", "f", "v") // whatever the data model offers travels untouched
	waitConverged(t, m, r1, r2)
	if got := r2.rdb.Get(context.Background(), "chain:4999").Val(); got != "value:4999" {
		t.Fatalf("R2 GET chain:4999 = %q", got)
	}
}

func TestReplicaKilledUnderLoadResumesWithPartialSync(t *testing.T) {
	m := startNode(t, "")
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	w := startWriters(m, 2, "load:")
	waitFor(t, "load to start", 30*time.Second, func() bool { return w.acked[0] > 100 })
	full := atoi(m.info("stats", "sync_full"))
	partial := atoi(m.info("stats", "sync_partial_ok"))
	r.kill9()
	time.Sleep(200 * time.Millisecond) // the load goes on while the replica is down
	r.restart()
	waitLinkUp(t, r)
	w.halt()
	waitConverged(t, m, r)
	if got := atoi(m.info("stats", "sync_partial_ok")); got != partial+1 {
		t.Fatalf("sync_partial_ok %d, want %d", got, partial+1)
	}
	if got := atoi(m.info("stats", "sync_full")); got != full {
		t.Fatalf("sync_full grew from %d to %d: the replica did a full sync", full, got)
	}
}

func TestPersistenceOffMasterReplicaKeepsItsOwnData(t *testing.T) {
	m := startNode(t, "", "--save", "", "--appendonly", "no")
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	fill(t, m, "p:", 3000)
	waitConverged(t, m, r)
	want := r.digest()
	m.stop()
	r.stop()
	r.restart()
	// The master is gone: what the replica serves comes from its own disk.
	if got := r.info("replication", "master_link_status"); got != "down" {
		t.Fatalf("link %q, want down", got)
	}
	if got := r.digest(); got != want {
		t.Fatalf("replica digest after restart %s, want %s", got, want)
	}
	if got := r.rdb.DBSize(context.Background()).Val(); got != 3000 {
		t.Fatalf("replica DBSIZE %d, want 3000", got)
	}
}

func TestPromotedReplicaLetsSiblingResyncPartially(t *testing.T) {
	m := startNode(t, "")
	r1 := startNode(t, "", replicaOf(m)...)
	r2 := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	fill(t, m, "pre:", 2000)
	waitConverged(t, m, r1, r2)
	m.stop()
	r1.must("REPLICAOF", "NO", "ONE")
	if r1.info("replication", "role") != "master" {
		t.Fatal("R1 not promoted")
	}
	r2.must("REPLICAOF", "127.0.0.1", strconv.Itoa(r1.port))
	waitLinkUp(t, r2)
	if got := r1.info("stats", "sync_partial_ok"); got != "1" {
		t.Fatalf("R1 sync_partial_ok %q, want 1", got)
	}
	if got := r1.info("stats", "sync_full"); got != "0" {
		t.Fatalf("R1 sync_full %q, want 0", got)
	}
	r1.must("SET", "post", "promotion")
	waitConverged(t, r1, r2)
}

func TestWaitAndWaitAOFCountReplicas(t *testing.T) {
	m := startNode(t, "")
	r1 := startNode(t, "", replicaOf(m)...)
	r2 := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r1)
	waitLinkUp(t, r2)
	ctx := context.Background()
	// One connection: WAIT counts acks of this connection's last write.
	conn := m.rdb.Conn()
	defer conn.Close()
	if err := conn.Set(ctx, "w", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := conn.Do(ctx, "WAIT", 2, 10000).Int(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 = %d, %v", n, err)
	}
	res, err := conn.Do(ctx, "WAITAOF", 1, 2, 10000).Slice()
	if err != nil || len(res) != 2 || res[0].(int64) != 1 || res[1].(int64) != 2 {
		t.Fatalf("WAITAOF 1 2 = %v, %v", res, err)
	}
	r2.stop()
	conn.Set(ctx, "w", "2", 0)
	start := time.Now()
	if n, _ := conn.Do(ctx, "WAIT", 2, 300).Int(); n != 1 {
		t.Fatalf("WAIT 2 with one replica left = %d, want 1", n)
	}
	if time.Since(start) < 250*time.Millisecond {
		t.Fatal("WAIT returned before its timeout without enough replicas")
	}
	if _, err := r1.do("WAIT", 1, 10); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("WAIT on a replica: %v", err)
	}
}

func TestMinReplicasToWriteRefusesWithoutReplicas(t *testing.T) {
	m := startNode(t, "", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
	if _, err := m.do("SET", "a", "1"); err == nil || !strings.HasPrefix(err.Error(), "NOREPLICAS") {
		t.Fatalf("write without replicas: %v, want NOREPLICAS", err)
	}
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	waitFor(t, "a good replica", 10*time.Second, func() bool { _, err := m.do("SET", "a", "1"); return err == nil })
	if v, _ := m.do("GET", "a"); v != "1" {
		t.Fatalf("GET a = %v", v)
	}
	r.kill9()
	waitFor(t, "writes refused again", 30*time.Second, func() bool {
		_, err := m.do("SET", "a", "2")
		return err != nil && strings.HasPrefix(err.Error(), "NOREPLICAS")
	})
}

func TestFullSyncWhileClientKeepsWriting(t *testing.T) {
	keys := 200_000
	if os.Getenv("WALRUS_LONG") != "" {
		keys = 1_000_000
	}
	if testing.Short() {
		keys = 20_000
	}
	m := startNode(t, "", "--save", "", "--appendonly", "no")
	fill(t, m, "big:", keys)
	var (
		ops    atomic.Int64
		maxLat atomic.Int64
		failed atomic.Value
		stop   = make(chan struct{})
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx := context.Background()
		for i := 0; i < 10_000_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if err := m.rdb.Set(ctx, "live:"+strconv.Itoa(i%1000), i, 0).Err(); err != nil {
				failed.Store(err)
				return
			}
			lat := time.Since(t0).Microseconds()
			for cur := maxLat.Load(); lat > cur && !maxLat.CompareAndSwap(cur, lat); cur = maxLat.Load() {
			}
			ops.Add(1)
		}
	}()
	syncStart := time.Now()
	opsBefore := ops.Load()
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	linkUp := time.Since(syncStart)
	opsDuring := ops.Load() - opsBefore
	close(stop)
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatalf("writer failed during the sync: %v", err)
	}
	waitConverged(t, m, r)
	if opsDuring == 0 {
		t.Fatal("the master served no writes while the replica synced")
	}
	t.Logf("full sync of %d keys: link up after %v; the writer did %d SETs meanwhile, max latency %v",
		keys, linkUp.Round(time.Millisecond), opsDuring, time.Duration(maxLat.Load())*time.Microsecond)
}

func TestRedisCliDrivesWalrus(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("WALRUS_CI") != "" {
			t.Fatal("redis-cli is required in CI but not installed")
		}
		t.Skip("redis-cli not installed: test skipped (apt-get install redis-tools)")
	}
	n := startNode(t, "")
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-p", strconv.Itoa(n.port)}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "key1", "val1"}, "OK"},
		{[]string{"GET", "key1"}, "val1"},
		{[]string{"INCR", "n"}, "1"},
		{[]string{"DBSIZE"}, "2"},
		{[]string{"GET", "nope"}, ""},
	}
	for _, c := range cases {
		if got := run(c.args...); got != c.want {
			t.Errorf("redis-cli %v = %q, want %q", c.args, got, c.want)
		}
	}
	if got := run("INFO", "server"); !strings.Contains(got, "redis_version:") {
		t.Errorf("redis-cli INFO lacks redis_version")
	}
}

// SIGTERM shuts down as SHUTDOWN does: a master with persistence off waits
// for its lagging replica (shutdown-timeout), SHUTDOWN ABORT cancels that,
// and a second signal cuts the wait short.
func TestSigtermWaitsForTheReplica(t *testing.T) {
	m := startNode(t, "", "--save", "", "--shutdown-timeout", "600")
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	r.must("CLIENT", "PAUSE", "60000", "WRITE") // the replica applies nothing: it lags
	m.must("SET", "k", "v")
	waiting := func() bool { v, err := m.tryInfo("server", "shutdown_in_milliseconds"); return err == nil && v != "" }

	m.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the master to wait for its replica", 10*time.Second, waiting)
	if got := m.must("SHUTDOWN", "ABORT"); got != "OK" {
		t.Fatalf("SHUTDOWN ABORT: %v", got)
	}
	if waiting() || m.must("PING") != "PONG" {
		t.Fatal("the master did not serve on after SHUTDOWN ABORT")
	}

	m.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the master to wait again", 10*time.Second, waiting)
	m.stop() // a second SIGTERM: it must exit within stop's bound, not wait out the timeout
	b, _ := os.ReadFile(m.log)
	if !strings.Contains(string(b), "shutting down now, without waiting for the replicas") {
		t.Fatalf("the master's log does not say it stopped waiting:\n%s", b)
	}
}

// shutdown-on-sigterm gives SIGTERM SHUTDOWN's options: "now" stops a
// master without waiting for its lagging replica, "save" writes the RDB
// file on the way out.
func TestShutdownOnSigterm(t *testing.T) {
	m := startNode(t, "", "--save", "", "--shutdown-timeout", "600", "--shutdown-on-sigterm", "now save")
	r := startNode(t, "", replicaOf(m)...)
	waitLinkUp(t, r)
	r.must("CLIENT", "PAUSE", "60000", "WRITE") // the replica applies nothing: it lags
	m.must("SET", "k", "v")
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("walrus-server exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("with shutdown-on-sigterm now, the master still waited for its lagging replica (shutdown-timeout 600)")
	}
	if _, err := os.Stat(filepath.Join(m.dir, "dump.rdb")); err != nil {
		t.Errorf("with shutdown-on-sigterm save, no RDB file after SIGTERM: %v", err)
	}
}

// A signal ends a stop that hangs, as a second SIGINT ends Redis. With
// its data directory removed under it, walrus's stop waits for ever on
// Pebble's flush, which retries writing a table it cannot create.
func TestSignalEndsAStopThatHangs(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	n := &node{t: t, port: freePort(t), dir: data}
	n.log = filepath.Join(base, "walrus.log") // outside the directory removed
	n.startArgs([]string{"--port", strconv.Itoa(n.port), "--dir", data, "--logfile", n.log})
	pipe := n.rdb.Pipeline()
	for i := 0; i < 2000; i++ {
		pipe.Set(context.Background(), "k"+strconv.Itoa(i), strings.Repeat("v", 100), 0)
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	n.do("SHUTDOWN", "NOSAVE") // the connection closes: no reply
	exited := make(chan error, 1)
	go func() { exited <- n.cmd.Wait() }()
	logSays := func(s string) bool { b, _ := os.ReadFile(n.log); return strings.Contains(string(b), s) }
	waitFor(t, "the stop to begin", 10*time.Second, func() bool { return logSays("shutting down") })
	select { // the hang under test: 2 s is far longer than a stop takes
	case err := <-exited:
		t.Fatalf("walrus-server stopped (%v) with its data directory gone; this test needs the stop to hang", err)
	case <-time.After(2 * time.Second):
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err == nil {
			t.Error("a stop ended by a signal exited with status 0; want 1, as after a crash")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not end a stop that hangs")
	}
	if !logSays("You insist... exiting now.") {
		t.Error("the log does not say the signal ended the stop")
	}
}
