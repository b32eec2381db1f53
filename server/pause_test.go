package server

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestClientPause runs the same CLIENT PAUSE scenario against walrus and,
// when it is installed, against redis-server: the replies and what is
// held must be the same.
func TestClientPause(t *testing.T) { againstBoth(t, clientPauseScenario) }

func clientPauseScenario(t *testing.T, addr string) {
	admin := dialRaw(t, addr)
	// Argument errors, in Redis's words.
	admin.expect("-ERR timeout is not an integer or out of range", "CLIENT", "PAUSE", "abc")
	admin.expect("-ERR timeout is negative", "CLIENT", "PAUSE", "-5")
	admin.expect("-ERR CLIENT PAUSE mode must be WRITE or ALL", "CLIENT", "PAUSE", "10", "foo")
	admin.expect("-ERR unknown subcommand or wrong number of arguments for 'Pause'. Try CLIENT HELP.", "CLIENT", "Pause", "10", "write", "x")
	admin.expect("-ERR wrong number of arguments for 'client|unpause' command", "CLIENT", "UNPAUSE", "x")

	// A client waiting in BLPOP is a blocked client.
	bl := dialRaw(t, addr)
	bl.send("BLPOP", "q", "0")
	admin.waitBlocked("1")
	admin.expect(":1", "LPUSH", "q", "x")
	bl.expectRead("[$q $x]")
	admin.waitBlocked("0")

	// WRITE: writes, PUBLISH and writes queued in MULTI are held; reads,
	// and commands with argument errors, are not.
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	w, pub, tx, r := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	w.send("SET", "k", "v")
	admin.waitBlocked("1")
	pub.send("PUBLISH", "ch", "m")
	admin.waitBlocked("2")
	tx.expect("+OK", "MULTI")
	tx.expect("+QUEUED", "GET", "k")
	tx.send("SET", "k2", "v2")
	admin.waitBlocked("3")
	r.expect("(nil)", "GET", "k")
	r.expect("+PONG", "PING")
	r.expect("-ERR wrong number of arguments for 'set' command", "SET", "k")
	if list := admin.do("CLIENT", "LIST"); !strings.Contains(list, "flags=b") {
		t.Fatalf("CLIENT LIST shows no held client:\n%s", list)
	}
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	w.expectRead("+OK")
	pub.expectRead(":0")
	tx.expectRead("+QUEUED")
	tx.expect("[$v +OK]", "EXEC")
	admin.waitBlocked("0")

	// An EXEC with a write queued is held.
	tx.expect("+OK", "MULTI")
	tx.expect("+QUEUED", "INCR", "n")
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	tx.send("EXEC")
	admin.waitBlocked("1")
	r.expect("(nil)", "GET", "n")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	tx.expectRead("[:1]")

	// A pause sent inside MULTI starts at the end of the transaction.
	tx.expect("+OK", "MULTI")
	tx.expect("+QUEUED", "SET", "a", "1")
	tx.expect("+QUEUED", "CLIENT", "PAUSE", "60000", "WRITE")
	tx.expect("+QUEUED", "SET", "b", "2")
	tx.expect("[+OK +OK +OK]", "EXEC")
	w.send("SET", "c", "3")
	admin.waitBlocked("1")
	r.expect("[$1 $2 (nil)]", "MGET", "a", "b", "c")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	w.expectRead("+OK")

	// Expiry waits for the pause: the key reads as gone but is not
	// deleted (DBSIZE still counts it) until the pause ends.
	admin.expect("+OK", "FLUSHALL")
	admin.expect("+OK", "SET", "e", "v", "PX", "50")
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	waitFor(t, "the key to expire", 10*time.Second, func() bool { return r.do("GET", "e") == "(nil)" })
	// Nothing to poll for: give active expiry three of its 100 ms cycles.
	time.Sleep(300 * time.Millisecond)
	r.expect(":1", "DBSIZE")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	waitFor(t, "active expiry after the pause", 10*time.Second, func() bool { return r.do("DBSIZE") == ":0" })

	// A shorter pause does not cut the one in effect short.
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	admin.expect("+OK", "CLIENT", "PAUSE", "0", "WRITE")
	w.send("SET", "k", "v2")
	admin.waitBlocked("1")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	w.expectRead("+OK")

	// ALL holds every command, CLIENT UNPAUSE included, until it ends.
	start := time.Now()
	admin.expect("+OK", "CLIENT", "PAUSE", "300", "ALL")
	r.send("GET", "k")
	w.send("CLIENT", "UNPAUSE")
	r.expectRead("$v2")
	w.expectRead("+OK")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("a GET under a 300 ms ALL pause answered after %v", d)
	}
}

// TestKilledClientsLeaveNoTrace: a client killed while it waits, in BLPOP
// or held by a pause, is gone: nothing is popped for it, nothing it sent
// runs later. Against redis-server too, when it is installed.
func TestKilledClientsLeaveNoTrace(t *testing.T) { againstBoth(t, killedClientsScenario) }

func killedClientsScenario(t *testing.T, addr string) {
	admin := dialRaw(t, addr)
	kill := func(c *rawConn) func() {
		t.Helper()
		id := strings.TrimPrefix(c.do("CLIENT", "ID"), ":")
		return func() { admin.expect(":1", "CLIENT", "KILL", "ID", id) }
	}

	b := dialRaw(t, addr)
	killB := kill(b)
	b.send("BLPOP", "q", "0")
	admin.waitBlocked("1")
	killB()
	admin.waitBlocked("0")
	admin.expect(":1", "LPUSH", "q", "x")
	admin.expect(":1", "LLEN", "q")

	w := dialRaw(t, addr)
	killW := kill(w)
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	w.send("SET", "k", "v")
	admin.waitBlocked("1")
	killW()
	admin.waitBlocked("0")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	admin.expect(":1", "DBSIZE")
	admin.expect("(nil)", "GET", "k")
}

// TestClientUnblock: CLIENT UNBLOCK ends a BLPOP's wait, as a timeout or
// an error, but not a pause's hold. Against redis-server too.
func TestClientUnblock(t *testing.T) {
	t.Run("walrus", func(t *testing.T) { clientUnblockScenario(t, startServer(t).Addr().String(), true) })
	// redis-server 7.0 crashes on CLIENT UNBLOCK of a client held by a
	// pause (fixed in later versions): that step is walrus's only.
	t.Run("redis", func(t *testing.T) { clientUnblockScenario(t, redisServer(t), false) })
}

func clientUnblockScenario(t *testing.T, addr string, unblockHeld bool) {
	admin, b := dialRaw(t, addr), dialRaw(t, addr)
	admin.expect("-ERR value is not an integer or out of range", "CLIENT", "UNBLOCK", "x")
	admin.expect("-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR", "CLIENT", "UNBLOCK", "5", "foo")
	admin.expect("+OK", "CLIENT", "NO-EVICT", "on")
	admin.expect("-ERR syntax error", "CLIENT", "NO-EVICT", "x")
	id := strings.TrimPrefix(b.do("CLIENT", "ID"), ":")
	admin.expect(":0", "CLIENT", "UNBLOCK", id)

	b.send("BLPOP", "q", "0")
	admin.waitBlocked("1")
	admin.expect(":1", "CLIENT", "UNBLOCK", id)
	b.expectRead("(nil-array)")
	b.send("BRPOP", "q", "0")
	admin.waitBlocked("1")
	admin.expect(":1", "CLIENT", "UNBLOCK", id, "ERROR")
	b.expectRead("-UNBLOCKED client unblocked via CLIENT UNBLOCK")

	if !unblockHeld {
		return
	}
	admin.expect("+OK", "CLIENT", "PAUSE", "60000", "WRITE")
	b.send("BLPOP", "q", "0")
	admin.waitBlocked("1")
	admin.expect(":0", "CLIENT", "UNBLOCK", id, "TIMEOUT")
	admin.expect("+OK", "CLIENT", "UNPAUSE")
	waitFor(t, "BLPOP to park", 10*time.Second, func() bool { return admin.do("CLIENT", "UNBLOCK", id) == ":1" })
	b.expectRead("(nil-array)")
}

// TestClientKillByType: CLIENT KILL TYPE picks normal or pubsub clients,
// or drops the replication links, which come back with a partial sync;
// MAXAGE spares younger clients. Against redis-server too (MAXAGE is
// Redis 7.4's: walrus only).
func TestClientKillByType(t *testing.T) {
	againstBothStarting(t, func(t *testing.T, start startFunc) {
		clientKillByTypeScenario(t, !strings.HasPrefix(t.Name(), "TestClientKillByType/redis"), start)
	})
}

func clientKillByTypeScenario(t *testing.T, maxAge bool, start startFunc) {
	mAddr := start()
	m := dialRaw(t, mAddr)
	m.expect("-ERR Unknown client type 'foo'", "CLIENT", "KILL", "TYPE", "foo")
	sub, plain := dialRaw(t, mAddr), dialRaw(t, mAddr)
	sub.expect("[$subscribe $ch :1]", "SUBSCRIBE", "ch")
	plain.expect("+PONG", "PING")
	m.expect(":1", "CLIENT", "KILL", "TYPE", "pubsub")
	if _, err := sub.read(); err == nil {
		t.Fatal("the subscriber survived CLIENT KILL TYPE pubsub")
	}
	m.expect(":1", "CLIENT", "KILL", "TYPE", "normal") // skips the caller
	if _, err := plain.read(); err == nil {
		t.Fatal("the plain client survived CLIENT KILL TYPE normal")
	}
	if maxAge {
		young := dialRaw(t, mAddr)
		young.expect("+PONG", "PING")
		m.expect(":0", "CLIENT", "KILL", "MAXAGE", "3600", "SKIPME", "no")
		m.expect(":1", "CLIENT", "KILL", "MAXAGE", "0")
	}

	host, port, _ := net.SplitHostPort(mAddr)
	r := dialRaw(t, start("--replicaof", host, port))
	online := func() bool {
		return infoField(t, r, "replication", "master_link_status") == "up" &&
			strings.Contains(infoField(t, m, "replication", "slave0"), "state=online")
	}
	waitFor(t, "the replica online", 20*time.Second, online)
	// Something to resume from: a replica with an empty log resyncs in full.
	m.expect("+OK", "SET", "k", "v")
	waitFor(t, "the write on the replica", 10*time.Second, func() bool { return r.do("GET", "k") == "$v" })
	partial := func() string { return infoField(t, m, "stats", "sync_partial_ok") }
	r.expect(":1", "CLIENT", "KILL", "TYPE", "master")
	waitFor(t, "a partial resync after TYPE master", 20*time.Second, func() bool { return partial() == "1" && online() })
	m.expect(":1", "CLIENT", "KILL", "TYPE", "replica")
	waitFor(t, "a partial resync after TYPE replica", 20*time.Second, func() bool { return partial() == "2" && online() })
	m.expect(":0", "CLIENT", "KILL", "TYPE", "master")
	if got := infoField(t, m, "stats", "sync_full"); got != "1" {
		t.Fatalf("sync_full %s: the links did not resume", got)
	}
}

// TestClientListFilters: CLIENT LIST TYPE and ID pick clients as Redis's
// do, with Redis's errors. Against redis-server too.
func TestClientListFilters(t *testing.T) { againstBoth(t, clientListScenario) }

func clientListScenario(t *testing.T, addr string) {
	admin, sub := dialRaw(t, addr), dialRaw(t, addr)
	sub.expect("[$subscribe $ch :1]", "SUBSCRIBE", "ch")
	ids := func(args ...string) string {
		t.Helper()
		list := admin.do(append([]string{"CLIENT", "LIST"}, args...)...)
		var out []string
		for _, l := range strings.Split(strings.TrimPrefix(list, "$"), "\n") {
			if id, ok := strings.CutPrefix(l, "id="); ok {
				out = append(out, id[:strings.IndexByte(id, ' ')])
			}
		}
		return strings.Join(out, " ")
	}
	me := strings.TrimPrefix(admin.do("CLIENT", "ID"), ":")
	// sub's id: the one other than ours, from the whole list.
	subID := strings.TrimSpace(strings.Replace(" "+ids()+" ", " "+me+" ", " ", 1))
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, me + " " + subID},
		{[]string{"TYPE", "normal"}, me},
		{[]string{"TYPE", "pubsub"}, subID},
		{[]string{"TYPE", "master"}, ""},
		{[]string{"ID", subID, "99999"}, subID},
		{[]string{"id", "0"}, ""},
	} {
		if got := ids(c.args...); got != c.want {
			t.Errorf("CLIENT LIST %v: ids %q, want %q", c.args, got, c.want)
		}
	}
	admin.expect("-ERR Unknown client type 'foo'", "CLIENT", "LIST", "TYPE", "foo")
	admin.expect("-ERR Invalid client ID", "CLIENT", "LIST", "ID", "x")
	admin.expect("-ERR syntax error", "CLIENT", "LIST", "ID")
	admin.expect("-ERR syntax error", "CLIENT", "LIST", "TYPE", "normal", "ID", "1")
	admin.expect("-ERR syntax error", "CLIENT", "LIST", "foo")
}
