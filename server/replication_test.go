package server

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoField reads one field of INFO from a raw connection.
func infoField(t testing.TB, r *rawConn, section, field string) string {
	t.Helper()
	return infoValue(r.do("INFO", section), field)
}

// infoValue finds one field in the text of an INFO reply; "" if absent.
func infoValue(info, field string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

func digest(r *rawConn) string { return r.do("DEBUG", "DIGEST") }

// waitConverged waits until every replica has the master's digest.
// masterAndReplica starts a master with persistence off and a replica of
// it, dials both and waits for the replica's link to come up.
func masterAndReplica(t *testing.T) (m, r *Server, mc, rc *rawConn) {
	t.Helper()
	m = startServer(t, "--save", "")
	host, p, _ := strings.Cut(m.Addr().String(), ":")
	r = startServer(t, "--replicaof", host, p)
	mc, rc = dialRaw(t, m.Addr().String()), dialRaw(t, r.Addr().String())
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	return m, r, mc, rc
}

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
	_, _, _, rc := masterAndReplica(t)
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

// Every data family replicates: the differential generators drive the
// master, and the replica ends with the master's DEBUG DIGEST.
func TestEveryFamilyReplicatesToTheSameDigest(t *testing.T) {
	_, _, mc, rc := masterAndReplica(t)
	n := 3000
	if testing.Short() {
		n = 300
	}
	for fi, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			g := &gen{r: rand.New(rand.NewPCG(uint64(fi)+1, 7)), now: time.Now().Unix()}
			for i := 0; i < n; i++ {
				mc.do(fam.next(g)...)
			}
			mc.do("SELECT", "0")
			waitConverged(t, mc, rc)
			if d := digest(mc); d == "0000000000000000000000000000000000000000" {
				t.Fatalf("family %s left an empty dataset: the test proves nothing", fam.name)
			}
		})
	}
}

// A PUBLISH or SPUBLISH on the master reaches subscribers connected to
// its replica.
func TestPublishOnMasterReachesReplicaSubscribers(t *testing.T) {
	_, rs, mc, _ := masterAndReplica(t)
	sub := dialRaw(t, rs.Addr().String())
	if got := sub.do("SUBSCRIBE", "news"); got != "[$subscribe $news :1]" {
		t.Fatalf("SUBSCRIBE: %q", got)
	}
	mc.do("PUBLISH", "news", "hello")
	got, err := sub.read()
	if err != nil || got != "[$message $news $hello]" {
		t.Fatalf("replica subscriber got %q, %v", got, err)
	}
	// SPUBLISH too, to the replica's shard channel subscribers only.
	if got := sub.do("SSUBSCRIBE", "news"); got != "[$ssubscribe $news :1]" {
		t.Fatalf("SSUBSCRIBE: %q", got)
	}
	mc.do("SPUBLISH", "news", "sharded")
	if got, err := sub.read(); err != nil || got != "[$smessage $news $sharded]" {
		t.Fatalf("replica shard subscriber got %q, %v", got, err)
	}
	mc.do("PUBLISH", "news", "plain")
	if got, err := sub.read(); err != nil || got != "[$message $news $plain]" {
		t.Fatalf("replica subscriber got %q, %v", got, err)
	}
	if n := infoField(t, mc, "replication", "master_repl_offset"); n != "0" {
		t.Fatalf("PUBLISH or SPUBLISH consumed a log index: master_repl_offset %s", n)
	}
}

// SORT without STORE is a read: replicas serve it; with STORE it writes.
func TestReplicaServesSortButNotSortStore(t *testing.T) {
	_, _, mc, rc := masterAndReplica(t)
	mc.do("RPUSH", "l", "3", "1", "2")
	waitConverged(t, mc, rc)
	if got := rc.do("SORT", "l"); got != "[$1 $2 $3]" {
		t.Fatalf("SORT on replica: %q", got)
	}
	if got := rc.do("SORT", "l", "BY", "store"); got != "[$3 $1 $2]" {
		t.Fatalf("SORT BY store (a pattern, not the option) on replica: %q", got)
	}
	if got := rc.do("SORT", "l", "STORE", "dst"); !strings.HasPrefix(got, "-READONLY") {
		t.Fatalf("SORT STORE on replica: %q", got)
	}
}

// A client blocked on the master and woken by another client's push pops
// there; the replica sees the pop (a plain LPOP effect), not the block.
func TestReplicaSeesThePopOfAWokenBlockedClient(t *testing.T) {
	m, _, mc, rc := masterAndReplica(t)
	blocked := dialRaw(t, m.Addr().String())
	blocked.send("BLPOP", "jobs", "0")
	waitFor(t, "client to block", 5*time.Second, func() bool { return blockedCount(m) == 1 })
	if got := mc.do("RPUSH", "jobs", "a", "b"); got != ":2" {
		t.Fatalf("RPUSH: %q", got)
	}
	if got, err := blocked.read(); err != nil || got != "[$jobs $a]" {
		t.Fatalf("woken BLPOP replied %q (%v), want [$jobs $a]", got, err)
	}
	waitConverged(t, mc, rc)
	if got := rc.do("LRANGE", "jobs", "0", "-1"); got != "[$b]" {
		t.Fatalf("replica's list after the pop: %q, want [$b]", got)
	}
}

// A master whose L0 already holds a table ships what Pebble has flushed
// rather than flush again (see replica.Master.recent); the replica replays
// the rest from the log and ends with the master's data.
func TestFullSyncShipsTheFlushedStateAndTheLogTail(t *testing.T) {
	m := startServer(t)
	r := startServer(t) // started first: the sync follows the writes closely
	mc, rc := dialRaw(t, m.Addr().String()), dialRaw(t, r.Addr().String())
	// Each SAVE flushes Pebble: L0 gets one more table over the same keys,
	// until one more flush would make Pebble compact it.
	for round := 0; !m.eng.FlushCompactsL0(); round++ {
		if round == 10 {
			t.Fatalf("L0 has %d sublevels after %d flushes; the test needs it one flush short of a compaction", m.eng.DB().Metrics().Levels[0].Sublevels, round)
		}
		for i := 0; i < 300; i++ {
			mc.do("SET", "flushed"+strconv.Itoa(i), strconv.Itoa(round))
		}
		if got := mc.do("SAVE"); got != "+OK" {
			t.Fatalf("SAVE = %q", got)
		}
	}
	flushed := m.eng.FlushedIndex()
	for i := 0; i < 200; i++ {
		mc.do("SET", "tail"+strconv.Itoa(i), strconv.Itoa(i))
	}
	mc.do("DEL", "flushed7")

	host, p, _ := strings.Cut(m.Addr().String(), ":")
	if got := rc.do("REPLICAOF", host, p); got != "+OK" {
		t.Fatalf("REPLICAOF = %q", got)
	}
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })
	waitConverged(t, mc, rc)
	// The checkpoint was the flushed state: the replica's log starts right
	// after it and holds the tail it replayed. (A flush for the sync would
	// have made the checkpoint current and the replica's log empty.)
	if first := r.eng.WAL().FirstIndex(); first != flushed+1 {
		t.Errorf("the replica's log starts at %d; a checkpoint of the flushed state (index %d) starts it at %d", first, flushed, flushed+1)
	}
	if got := rc.do("DBSIZE"); got != ":499" {
		t.Errorf("replica DBSIZE = %q, want :499", got)
	}
	if got := rc.do("GET", "tail199"); got != "$199" {
		t.Errorf("replica GET tail199 = %q", got)
	}
}

func TestCheckpointRateFollowsConfigSet(t *testing.T) {
	m := startServer(t)
	mc := dialRaw(t, m.Addr().String())
	if got := m.repl.master.CheckpointRate(); got != 64<<20 {
		t.Errorf("default checkpoint rate = %d, want 64mb", got)
	}
	for _, tc := range []struct {
		set  string
		want int64
	}{{"1mb", 1 << 20}, {"0", 0}, {"100kb", 100 << 10}} {
		if got := mc.do("CONFIG", "SET", "repl-checkpoint-max-rate", tc.set); got != "+OK" {
			t.Fatalf("CONFIG SET repl-checkpoint-max-rate %s = %q", tc.set, got)
		}
		if got := m.repl.master.CheckpointRate(); got != tc.want {
			t.Errorf("after CONFIG SET %s the rate is %d, want %d", tc.set, got, tc.want)
		}
	}
	if got := mc.do("CONFIG", "SET", "repl-checkpoint-max-rate", "fast"); !strings.HasPrefix(got, "-ERR") {
		t.Errorf("CONFIG SET repl-checkpoint-max-rate fast = %q, want an error", got)
	}
}

// TestReplBacklogSizeFollowsConfigSet: on a master with persistence off,
// CONFIG SET repl-backlog-size changes how much of the log it keeps for
// partial resyncs (INFO's repl_backlog_histlen, in entries): a larger
// backlog keeps what is written from then on, a smaller one drops the
// oldest at once.
func TestReplBacklogSizeFollowsConfigSet(t *testing.T) {
	c := dialRaw(t, startServer(t, "--save", "", "--appendonly", "no", "--repl-backlog-size", "1mb").Addr().String())
	val := strings.Repeat("v", 1000) // an entry of about 1 KiB
	write := func(n int) {
		t.Helper()
		for i := range n {
			c.send("SET", "k"+strconv.Itoa(i%100), val)
		}
		for range n {
			if got, err := c.read(); got != "+OK" {
				t.Fatalf("SET: %q %v", got, err)
			}
		}
	}
	histlen := func() int {
		t.Helper()
		n, err := strconv.Atoi(infoField(t, c, "replication", "repl_backlog_histlen"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	write(3000)
	if n := histlen(); n < 500 || n > 1100 {
		t.Fatalf("repl_backlog_histlen %d after 3,000 1 KiB writes with a 1mb backlog", n)
	}
	c.expect("+OK", "CONFIG", "SET", "repl-backlog-size", "10mb")
	write(3000)
	if n := histlen(); n < 3000 {
		t.Fatalf("repl_backlog_histlen %d after 3,000 more writes with a 10mb backlog", n)
	}
	c.expect("+OK", "CONFIG", "SET", "repl-backlog-size", "1mb")
	if n := histlen(); n > 1100 {
		t.Fatalf("repl_backlog_histlen %d once the backlog is back at 1mb", n)
	}
}

// TestAppendfsyncFollowsConfigSet: CONFIG SET appendfsync always makes a
// write's reply wait for its fsync, what came before it included, where
// under "no" nothing fsyncs the log by itself.
func TestAppendfsyncFollowsConfigSet(t *testing.T) {
	srv := startServer(t, "--appendonly", "yes", "--appendfsync", "no")
	c := dialRaw(t, srv.Addr().String())
	w := srv.eng.WAL()
	c.expect("+OK", "SET", "a", "1")
	if s, l := w.SyncedIndex(), w.LastIndex(); s >= l {
		t.Fatalf("under appendfsync no the log is synced to %d of %d after a write", s, l)
	}
	c.expect("+OK", "CONFIG", "SET", "appendfsync", "always")
	c.expect("+OK", "SET", "b", "2")
	if s, l := w.SyncedIndex(), w.LastIndex(); s != l {
		t.Fatalf("under appendfsync always the log is synced to %d of %d when the write is answered", s, l)
	}
}
