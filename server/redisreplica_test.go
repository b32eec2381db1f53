package server

import (
	"bufio"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRedisReplicaOfWalrus: a real redis-server replicates from walrus.
// It loads walrus's RDB on its full resync, then applies the writes
// that follow (walrus's log as Redis commands) in every database, and
// walrus counts it in WAIT and shows its offset as a log index in INFO.
func TestRedisReplicaOfWalrus(t *testing.T) {
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	w.do("SET", "before", "1")
	w.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	w.do("SELECT", "3")
	w.do("SET", "db3", "loaded")
	w.do("SELECT", "0")
	host, port, _ := net.SplitHostPort(s.Addr().String())
	raddr := redisServer(t, "--replicaof", host, port)
	r := dialRaw(t, raddr)
	waitFor(t, "the Redis replica's link", 10*time.Second, func() bool {
		return strings.Contains(r.do("INFO", "replication"), "master_link_status:up")
	})
	sub := dialRaw(t, raddr)
	sub.expect("[$subscribe $news :1]", "SUBSCRIBE", "news")

	// What the log carries after the sync: SETs with walrus's PREV hints
	// (new keys, overwrites), collections, a stream's groups with the
	// consumers XREADGROUP creates (SEEN hints), TTLs, a function's
	// effects, transactions, other databases.
	keys := fillEncodings(w)
	fillStream(w, "stream")
	w.do("SET", "before", "2")
	w.do("SET", "ttl", "v", "EX", "100")
	w.expect(":1", "FCALL", "f1", "1", "counter")
	w.do("SELECT", "2")
	w.do("RPUSH", "db2list", "a", "b")
	w.expect("+OK", "MULTI")
	w.do("SET", "db2a", "1")
	w.do("INCR", "db2b")
	w.expect("[+OK :1]", "EXEC")
	w.do("SELECT", "0")
	w.do("DEL", "s:word")
	w.expect(":0", "PUBLISH", "news", "hello") // no subscriber on walrus itself
	w.expect(":1", "WAIT", "1", "5000")

	keys = append(keys, "before", "counter", "s:word")
	for _, k := range keys {
		if got, want := describe(t, r, k), describe(t, w, k); got != want {
			t.Errorf("%s on the Redis replica: %.200q, want %.200q", k, got, want)
		}
	}
	// A consumer's seen-time is the replica's clock when it applies, as
	// between two Redis servers: walrus's SEEN hint is its own.
	stream := func(c *rawConn) string {
		return seenTime.ReplaceAllString(raxNodes.ReplaceAllString(c.do("XINFO", "STREAM", "stream", "FULL"), ""), "")
	}
	got, want := stream(r), stream(w)
	if i := firstDiff(got, want); i >= 0 {
		t.Errorf("stream on the Redis replica differs at byte %d: %.300q, want %.300q", i, got[max(i-100, 0):], want[max(i-100, 0):])
	}
	if ttl, _ := strconv.Atoi(strings.TrimPrefix(r.do("PTTL", "ttl"), ":")); ttl <= 0 || ttl > 100000 {
		t.Errorf("PTTL on the Redis replica of a key with 100 s to live = %d", ttl)
	}
	if got := r.do("FUNCTION", "LIST"); !strings.Contains(got, "$library_name $mylib ") || !strings.Contains(got, "$name $f1 ") {
		t.Errorf("FUNCTION LIST on the Redis replica: %q, want walrus's library", got)
	}
	for _, db := range []string{"0", "2", "3"} {
		w.do("SELECT", db)
		r.do("SELECT", db)
		r.expect(w.do("DBSIZE"), "DBSIZE")
	}
	r.do("SELECT", "2")
	r.expect("[$a $b]", "LRANGE", "db2list", "0", "-1")
	r.expect("[$1 $1]", "MGET", "db2a", "db2b")
	if got, err := sub.read(); got != "[$message $news $hello]" {
		t.Errorf("a subscriber on the Redis replica got %q (%v), want the message published on walrus", got, err)
	}

	// INFO names the replica's offset as the log index it acknowledged,
	// not as the bytes it counted.
	index := infoField(t, w, "replication", "master_repl_offset")
	waitFor(t, "the Redis replica's offset in INFO", 10*time.Second, func() bool {
		return strings.Contains(w.do("INFO", "replication"), ",state=online,offset="+index+",")
	})

	// A Redis replica cannot take walrus's role: walrus could not follow it.
	w.expect("-ERR FAILOVER requires connected replicas.", "FAILOVER")
	_, rport, _ := net.SplitHostPort(raddr)
	w.expect("-ERR FAILOVER target is a Redis replica: walrus hands its role only to a walrus replica.", "FAILOVER", "TO", "127.0.0.1", rport)
}

// TestRedisCliReplicaOfWalrus: `redis-cli --replica` shows the writes
// made on walrus as Redis's own replication stream would, every one of
// them: redis-cli takes the first thing the stream brings for a reply to
// the ACK it sends, so the stream starts with a PING.
func TestRedisCliReplicaOfWalrus(t *testing.T) {
	cli := redisCLI(t)
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	_, port, _ := net.SplitHostPort(s.Addr().String())
	cmd := exec.Command(cli, "-h", "127.0.0.1", "-p", port, "--replica")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(want string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("redis-cli --replica ended before %q", want)
				}
				if line == want || strings.HasPrefix(want, "SYNC") && strings.HasPrefix(line, want) {
					return
				}
			case <-timeout:
				t.Fatalf("redis-cli --replica did not show %q in 10 s", want)
			}
		}
	}
	expect("SYNC done")
	w.do("SET", "k1", "v1")
	expect(`"SELECT","0"`) // Redis's stream starts with a SELECT
	expect(`"SET","k1","v1"`)
	w.do("SELECT", "2")
	w.do("RPUSH", "l", "a")
	expect(`"SELECT","2"`)
	expect(`"RPUSH","l","a"`)
}

var seenTime = regexp.MustCompile(`\$seen-time :[0-9]+`)

// firstDiff returns the first byte where a and b differ, or -1.
func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestRedisReplicaSyncsUnderWrites: writes made while the RDB is taken
// and sent, and across partial resyncs, all reach the Redis replica (the
// log is pinned from the snapshot's index and streamed from there, then
// continued from where the replica stopped), none twice: counters INCRed
// throughout read the same on both sides.
func TestRedisReplicaSyncsUnderWrites(t *testing.T) {
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	const keys = 20000
	for i := 0; i < keys; i += 1000 {
		args := []string{"MSET"}
		for j := i; j < i+1000; j++ {
			args = append(args, "k"+strconv.Itoa(j), strings.Repeat("v", 100))
		}
		w.expect("+OK", args...)
	}
	host, port, _ := net.SplitHostPort(s.Addr().String())
	stop := make(chan struct{})
	done := make(chan int)
	go func() { // a bounded writer: INCRs and new keys until stopped
		c := dialRaw(t, s.Addr().String())
		n := 0
		for ; n < 200000; n++ {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			c.send("INCR", "counter"+strconv.Itoa(n%50))
			c.send("SET", "new"+strconv.Itoa(n), strconv.Itoa(n))
			c.read()
			c.read()
		}
		done <- n
	}()
	r := dialRaw(t, redisServer(t, "--replicaof", host, port))
	waitFor(t, "the Redis replica's link", 20*time.Second, func() bool {
		return strings.Contains(r.do("INFO", "replication"), "master_link_status:up")
	})
	// Writes after the sync as well as during it, and the link cut under
	// them: each reconnection continues from the command the replica
	// stopped at, wherever in the stream that is.
	for i := 0; i < 3; i++ {
		time.Sleep(100 * time.Millisecond)
		partial := infoField(t, w, "stats", "sync_partial_ok")
		r.expect(":1", "CLIENT", "KILL", "TYPE", "master")
		waitFor(t, "a partial resync", 10*time.Second, func() bool {
			return infoField(t, w, "stats", "sync_partial_ok") != partial
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	writes := <-done
	if writes == 0 {
		t.Fatal("the writer wrote nothing")
	}
	// WAIT waits for its own connection's last write, which comes after
	// every write of the writer's.
	w.expect("+OK", "SET", "last", "1")
	w.expect(":1", "WAIT", "1", "10000")
	r.expect(w.do("DBSIZE"), "DBSIZE")
	counters := []string{"MGET"}
	for i := 0; i < 50; i++ {
		counters = append(counters, "counter"+strconv.Itoa(i))
	}
	r.expect(w.do(counters...), counters...)
	r.expect(w.do("GET", "new"+strconv.Itoa(writes-1)), "GET", "new"+strconv.Itoa(writes-1))
	t.Logf("%d INCR and SET pairs written around the sync", writes)
}

// TestRedisReplicaContinuesAfterReconnect: a Redis replica whose link
// drops (either end may cut it) continues with a partial resync from the
// command it stopped at, the writes made meanwhile included, and a
// replica walrus does not know gets a full one.
func TestRedisReplicaContinuesAfterReconnect(t *testing.T) {
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	for i := 0; i < 100; i++ {
		w.do("SET", "k"+strconv.Itoa(i), "v")
	}
	host, port, _ := net.SplitHostPort(s.Addr().String())
	raddr := redisServer(t, "--replicaof", host, port)
	r := dialRaw(t, raddr)
	linkUp := func() {
		t.Helper()
		waitFor(t, "the Redis replica's link", 20*time.Second, func() bool {
			return strings.Contains(r.do("INFO", "replication"), "master_link_status:up")
		})
	}
	linkUp()
	replid := infoField(t, r, "replication", "master_replid")
	syncs := func() int {
		n := 0
		for _, f := range []string{"sync_full", "sync_partial_ok", "sync_partial_err"} {
			v, _ := strconv.Atoi(infoField(t, w, "stats", f))
			n += v
		}
		return n
	}
	for round := 0; round < 4; round++ {
		before := syncs()
		w.do("SELECT", strconv.Itoa(round%2))
		w.do("INCR", "counter")
		w.expect(":1", "WAIT", "1", "5000")
		if round%2 == 0 {
			r.expect(":1", "CLIENT", "KILL", "TYPE", "master")
		} else {
			w.expect(":1", "CLIENT", "KILL", "TYPE", "replica")
		}
		// Writes while the replica is away, in another database than
		// the stream had selected.
		w.do("SELECT", strconv.Itoa((round+1)%2))
		w.do("INCR", "counter")
		w.do("RPUSH", "away", strconv.Itoa(round))
		waitFor(t, "the Redis replica to sync again", 10*time.Second, func() bool { return syncs() > before })
		linkUp()
	}
	w.do("SELECT", "0")
	w.expect("+OK", "SET", "last", "1")
	w.expect(":1", "WAIT", "1", "5000")
	for _, db := range []string{"0", "1"} {
		w.do("SELECT", db)
		r.do("SELECT", db)
		r.expect(w.do("DBSIZE"), "DBSIZE")
		r.expect(w.do("GET", "counter"), "GET", "counter")
		r.expect(w.do("LRANGE", "away", "0", "-1"), "LRANGE", "away", "0", "-1")
	}
	if got := infoField(t, w, "stats", "sync_full"); got != "1" {
		t.Errorf("sync_full = %s after 4 reconnections, want 1", got)
	}
	if got := infoField(t, w, "stats", "sync_partial_ok"); got != "4" {
		t.Errorf("sync_partial_ok = %s after 4 reconnections, want 4", got)
	}
	if got := infoField(t, r, "replication", "master_replid"); got != replid {
		t.Errorf("the Redis replica's master_replid went from %s to %s", replid, got)
	}

	// A replica with a history walrus never served syncs in full.
	c := dialRaw(t, s.Addr().String())
	c.expect("+OK", "REPLCONF", "capa", "eof")
	c.send("PSYNC", replid+"0", "12345")
	if line, err := c.rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+FULLRESYNC ") {
		t.Fatalf("PSYNC of an unknown stream: %q, %v; want +FULLRESYNC", line, err)
	}
	if got := infoField(t, w, "stats", "sync_partial_err"); got != "1" {
		t.Errorf("sync_partial_err = %s, want 1", got)
	}
}
