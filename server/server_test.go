package server

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestGoRedisClientDrivesStringsAndKeys(t *testing.T) {
	s := startServer(t)
	c := goRedis(t, s)
	ctx := context.Background()
	if err := c.Set(ctx, "key1", "val1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "key1").Result(); err != nil || v != "val1" {
		t.Fatalf("GET key1 = %q, %v", v, err)
	}
	if _, err := c.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: %v, want redis.Nil", err)
	}
	if n, err := c.Incr(ctx, "n").Result(); err != nil || n != 1 {
		t.Fatalf("INCR = %d, %v", n, err)
	}
	pipe := c.Pipeline()
	for i := 0; i < 100; i++ {
		pipe.Set(ctx, "p"+string(rune('a'+i%26))+string(rune('0'+i/26)), i, 0)
	}
	get := pipe.Get(ctx, "pa0")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if get.Val() != "0" {
		t.Fatalf("pipelined read after write = %q, want 0", get.Val())
	}
	if n, _ := c.DBSize(ctx).Result(); n != 102 {
		t.Fatalf("DBSIZE %d, want 102", n)
	}
	// MULTI/EXEC through go-redis.
	res, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "t", "1", 0)
		p.Incr(ctx, "t")
		return nil
	})
	if err != nil || len(res) != 2 || res[1].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("transaction: %v %v", res, err)
	}
}

func TestRequirePassDemandsAuth(t *testing.T) {
	s := startServer(t, "--requirepass", "s3cret")
	r := dialRaw(t, s.Addr().String())
	steps := []struct{ cmd, want string }{
		{"GET k", "-NOAUTH Authentication required."},
		{"AUTH wrong", "-WRONGPASS invalid username-password pair or user is disabled."},
		{"AUTH s3cret", "+OK"},
		{"SET k v", "+OK"},
		{"AUTH default s3cret", "+OK"},
	}
	for _, st := range steps {
		if got := r.do(strings.Fields(st.cmd)...); got != st.want {
			t.Errorf("%s: %q, want %q", st.cmd, got, st.want)
		}
	}
}

// TestHelloSwitchesProtocol: HELLO 3 answers a map and switches the
// connection to RESP3; HELLO 2 and RESET switch it back; other versions
// are refused with NOPROTO and change nothing.
func TestHelloSwitchesProtocol(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		r := dialRaw(t, addr)
		for _, v := range []string{"4", "1", "0", "-3"} {
			if got := r.do("HELLO", v); got != "-NOPROTO unsupported protocol version" {
				t.Fatalf("HELLO %s: %q", v, got)
			}
		}
		expectShape := func(want string, args ...string) {
			t.Helper()
			r.send(args...)
			_, shape, err := r.readShape()
			if err != nil || shape != want {
				t.Fatalf("%v: shape %q (%v), want %q", args, shape, err, want)
			}
		}
		expectShape("*($$$$$$$$$$$*()::)", "HELLO", "2")
		expectShape("$nil", "GET", "missing")
		// A failed HELLO keeps the protocol.
		if got := r.do("HELLO", "3", "SETNAME"); got != "-ERR Syntax error in HELLO option 'SETNAME'" {
			t.Fatalf("HELLO 3 SETNAME: %q", got)
		}
		expectShape("$nil", "GET", "missing")
		r.send("HELLO", "3")
		hello, shape, err := r.readShape()
		if err != nil || shape != "%($$$$$$$$$$$*()::)" || !strings.Contains(hello, "$proto :3") {
			t.Fatalf("HELLO 3: %s %s %v", shape, hello, err)
		}
		expectShape("_", "GET", "missing")
		expectShape("+", "RESET")
		expectShape("$nil", "GET", "missing")
	})
}

func TestOversizedBulkIsRefusedAndOtherClientsUnaffected(t *testing.T) {
	s := startServer(t, "--proto-max-bulk-len", "1mb")
	other := dialRaw(t, s.Addr().String())
	bad := dialRaw(t, s.Addr().String())
	io := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n"
	bad.c.Write([]byte("*1\r\n$4\r\nPING\r\n" + io))
	if got, _ := bad.read(); got != "+PONG" {
		t.Fatalf("first reply %q, want +PONG (the request before the bad one is served)", got)
	}
	if got, _ := bad.read(); got != "-ERR Protocol error: invalid bulk length" {
		t.Fatalf("oversized bulk: %q", got)
	}
	if _, err := bad.read(); err == nil {
		t.Fatal("connection still open after a protocol error")
	}
	// A multibulk count that is not a number.
	bad2 := dialRaw(t, s.Addr().String())
	bad2.c.Write([]byte("*2x\r\n"))
	if got, _ := bad2.read(); got != "-ERR Protocol error: invalid multibulk length" {
		t.Fatalf("bad multibulk: %q", got)
	}
	if got := other.do("PING"); got != "+PONG" {
		t.Fatalf("other client: %q", got)
	}
}

func TestGarbageGetsProtocolErrorAndClose(t *testing.T) {
	s := startServer(t)
	r := dialRaw(t, s.Addr().String())
	r.c.Write([]byte("*1\r\nfoo\r\n"))
	got, _ := r.read()
	if !strings.HasPrefix(got, "-ERR Protocol error") {
		t.Fatalf("garbage: %q", got)
	}
	if _, err := r.read(); err == nil {
		t.Fatal("connection open after garbage")
	}
}

func TestMultiExecQueuesAndAbortsLikeRedis(t *testing.T) {
	s := startServer(t)
	r := dialRaw(t, s.Addr().String())
	steps := []struct{ cmd, want string }{
		{"EXEC", "-ERR EXEC without MULTI"},
		{"MULTI", "+OK"},
		{"MULTI", "-ERR MULTI calls can not be nested"},
		{"SET a 1", "+QUEUED"},
		{"PING", "+QUEUED"},
		{"INCR a", "+QUEUED"},
		{"EXEC", "[+OK +PONG :2]"},
		{"MULTI", "+OK"},
		{"SET a", "-ERR wrong number of arguments for 'set' command"},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors."},
		{"GET a", "$2"},
		{"MULTI", "+OK"},
		{"DISCARD", "+OK"},
		{"DISCARD", "-ERR DISCARD without MULTI"},
	}
	for _, st := range steps {
		if got := r.do(strings.Fields(st.cmd)...); got != st.want {
			t.Errorf("%s: %q, want %q", st.cmd, got, st.want)
		}
	}
}

func TestConfigGetSetAndInfoFields(t *testing.T) {
	s := startServer(t)
	r := dialRaw(t, s.Addr().String())
	if got := r.do("CONFIG", "GET", "maxclients"); got != "[$maxclients $10000]" {
		t.Fatalf("CONFIG GET maxclients: %q", got)
	}
	if got := r.do("CONFIG", "SET", "maxclients", "5000"); got != "+OK" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	if got := r.do("CONFIG", "SET", "port", "1"); !strings.Contains(got, "can't set immutable config") {
		t.Fatalf("CONFIG SET port: %q", got)
	}
	info := r.do("INFO")
	for _, f := range []string{"redis_version:7.0.15", "role:master", "connected_clients:1", "maxclients:5000", "master_repl_offset:", "aof_enabled:", "# Keyspace"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO lacks %q", f)
		}
	}
	if got := r.do("COMMAND", "INFO", "get"); !strings.HasPrefix(got, "[[$get :2 [+readonly +fast] :1 :1 :1") {
		t.Fatalf("COMMAND INFO get: %q", got)
	}
}

func TestClientSetNameListAndKill(t *testing.T) {
	s := startServer(t)
	a := dialRaw(t, s.Addr().String())
	b := dialRaw(t, s.Addr().String())
	if got := a.do("CLIENT", "SETNAME", "alpha"); got != "+OK" {
		t.Fatal(got)
	}
	if got := a.do("CLIENT", "SETNAME", "has space"); !strings.Contains(got, "cannot contain spaces") {
		t.Fatal(got)
	}
	list := b.do("CLIENT", "LIST")
	if !strings.Contains(list, "name=alpha") {
		t.Fatalf("CLIENT LIST lacks name=alpha: %q", list)
	}
	id := a.do("CLIENT", "ID")[1:]
	if got := b.do("CLIENT", "KILL", "ID", id); got != ":1" {
		t.Fatalf("CLIENT KILL ID: %q", got)
	}
	a.send("PING")
	if _, err := a.read(); err == nil {
		t.Fatal("killed client still served")
	}
}

func TestShutdownRemovesPidfileAndKeepsData(t *testing.T) {
	dir := t.TempDir()
	pid := filepath.Join(dir, "walrus.pid")
	port := freePort(t)
	args := []string{"--port", itoa(port), "--dir", dir, "--pidfile", pid}
	s := startWith(t, args)
	if _, err := os.Stat(pid); err != nil {
		t.Fatalf("pidfile missing while running: %v", err)
	}
	r := dialRaw(t, s.Addr().String())
	r.do("SET", "kept", "yes")
	r.send("SHUTDOWN")
	waitFor(t, "pidfile removal", 10*time.Second, func() bool {
		_, err := os.Stat(pid)
		return os.IsNotExist(err)
	})
	waitFor(t, "listener closed", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", s.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	s2 := startWith(t, []string{"--port", itoa(freePort(t)), "--dir", dir})
	if got := dialRaw(t, s2.Addr().String()).do("GET", "kept"); got != "$yes" {
		t.Fatalf("after restart GET kept = %q", got)
	}
}

func TestProtectedModeRefusesRemoteClientsWithoutPassword(t *testing.T) {
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}
	remote := &net.TCPAddr{IP: net.ParseIP("10.1.2.3")}
	if !isLoopback(loop) || isLoopback(remote) {
		t.Fatal("isLoopback misclassifies addresses")
	}
	if !strings.HasPrefix(errProtected, "DENIED Redis is running in protected mode") {
		t.Fatal("protected-mode text differs from Redis")
	}
}

func TestRenameCommandHidesAndRenames(t *testing.T) {
	s := startServer(t, "--rename-command", "flushall", "", "--rename-command", "set", "put")
	r := dialRaw(t, s.Addr().String())
	if got := r.do("FLUSHALL"); !strings.HasPrefix(got, "-ERR unknown command 'FLUSHALL'") {
		t.Fatalf("disabled FLUSHALL: %q", got)
	}
	if got := r.do("PUT", "k", "v"); got != "+OK" {
		t.Fatalf("PUT: %q", got)
	}
	if got := r.do("SET", "k", "v"); !strings.HasPrefix(got, "-ERR unknown command") {
		t.Fatalf("renamed SET: %q", got)
	}
	if got := r.do("GET", "k"); got != "$v" {
		t.Fatalf("GET after PUT: %q", got)
	}
}

// Malformed requests get Redis's exact error, after the replies to the
// requests before them in the same write; compared with a real Redis.
func TestMalformedRequestsMatchRedis(t *testing.T) {
	redisAddr := redisServer(t)
	s := startServer(t)
	ping := "*1\r\n$4\r\nPING\r\n"
	cases := map[string]string{
		"count not a number": ping + "*x\r\n",
		"missing dollar":     ping + "*1\r\n+PING\r\n",
		"bulk length bad":    ping + "*1\r\n$a\r\nPING\r\n",
		"negative bulk":      ping + "*1\r\n$-1\r\n",
		"huge multibulk":     ping + "*99999999\r\n",
		"empty multibulk":    "*0\r\n" + ping,
		"two good then bad":  ping + ping + "*2\r\n$3\r\nGET\r\n:1\r\n",
	}
	readAll := func(addr, input string) []string {
		r := dialRaw(t, addr)
		r.c.Write([]byte(input))
		r.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var got []string
		for {
			v, err := r.read()
			if err != nil {
				return got
			}
			got = append(got, v)
			if strings.HasPrefix(v, "-") || len(got) > 5 {
				return got
			}
			if input == "*0\r\n"+ping && len(got) == 1 {
				return got
			}
		}
	}
	for name, input := range cases {
		w, r := readAll(s.Addr().String(), input), readAll(redisAddr, input)
		if strings.Join(w, "|") != strings.Join(r, "|") {
			t.Errorf("%s: walrus %q, redis %q", name, w, r)
		}
	}
}

func TestClientListReadsAnotherClientsTransaction(t *testing.T) {
	// CLIENT LIST reads every connection's transaction state while those
	// connections change it: under -race this fails if the read is not
	// synchronised, and each line must agree with itself.
	s := startServer(t)
	addr := s.Addr().String()
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := 0; i < 200; i++ {
			for _, cmd := range [][]string{{"MULTI"}, {"SET", "k", "v"}, {"EXEC"}} {
				a.send(cmd...)
				if _, err := a.read(); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	var inMulti int
	for i := 0; i < 200; i++ {
		for _, line := range strings.Split(strings.Trim(b.do("CLIENT", "LIST"), "$\n"), "\n") {
			x, q := clientField(line, "flags") == "x", clientField(line, "multi")
			if x != (q != "-1") {
				t.Fatalf("client-info with flags=%s and multi=%s: %s", clientField(line, "flags"), q, line)
			}
			if x {
				inMulti++
			}
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of 200 CLIENT LISTs caught the other connection inside MULTI", inMulti)
}

// TestKeyspaceStats: INFO's keyspace_hits, keyspace_misses and
// expired_keys count as Redis's do (reads' lookups, not writes'; keys
// deleted because their time came), against redis-server too.
func TestKeyspaceStats(t *testing.T) { againstBoth(t, keyspaceStatsScenario) }

func keyspaceStatsScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	stats := func() string {
		return infoField(t, c, "stats", "keyspace_hits") + " " + infoField(t, c, "stats", "keyspace_misses") + " " + infoField(t, c, "stats", "expired_keys")
	}
	c.do("SET", "a", "1")
	c.do("HSET", "h", "f", "v")
	c.do("INCR", "a")
	for _, cmd := range [][]string{{"GET", "a"}, {"GET", "nosuch"}, {"MGET", "a", "nosuch"}, {"EXISTS", "a"}, {"TYPE", "nosuch"}, {"HGET", "h", "f"}, {"STRLEN", "a"}} {
		c.do(cmd...)
	}
	if got := stats(); got != "5 3 0" {
		t.Fatalf("hits misses expired = %s after 5 hits and 3 misses, want 5 3 0", got)
	}
	// Reads in a transaction and in a script count too; writes do not.
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "GET", "a")
	c.expect("+QUEUED", "GET", "nosuch")
	c.expect("+QUEUED", "SET", "b", "1")
	c.expect("[$2 (nil) +OK]", "EXEC")
	c.expect(":1", "EVAL", "redis.call('get', 'a') redis.call('get', 'nosuch') redis.call('incr', 'b') return 1", "0")
	if got := stats(); got != "7 5 0" {
		t.Fatalf("hits misses expired = %s after reads in MULTI and EVAL, want 7 5 0", got)
	}
	c.do("SET", "e", "v", "PX", "1")
	waitFor(t, "active expiry", 10*time.Second, func() bool { return stats() == "7 5 1" })
	if got := c.do("CONFIG", "RESETSTAT"); got != "+OK" {
		t.Fatal(got)
	}
	if got := stats(); got != "0 0 0" {
		t.Fatalf("after CONFIG RESETSTAT: %s", got)
	}
}

// TestTrafficStats: INFO's byte counters count what clients send and
// get, to the byte, as Redis 7.0's do; the repl counters count the
// replication streams among them; instantaneous_ops_per_sec follows the
// load up and back down. Against redis-server too.
func TestTrafficStats(t *testing.T) { againstBothStarting(t, trafficScenario) }

func trafficScenario(t *testing.T, start startFunc) {
	mAddr := start()
	m := dialRaw(t, mAddr)
	m.expect("+OK", "SET", "k", "v") // 27 bytes in, 5 out
	m.expect("+PONG", "PING")        // 14 in, 7 out
	// INFO stats: 25 bytes in, counted before its own reply.
	stats := m.do("INFO", "stats")
	for field, want := range map[string]string{"total_net_input_bytes": "66", "total_net_output_bytes": "12", "total_net_repl_output_bytes": "0"} {
		if !strings.Contains(stats, "\r\n"+field+":"+want+"\r\n") {
			t.Errorf("INFO stats has no %s:%s\n%s", field, want, stats)
		}
	}

	for range 20 {
		m.send("PING")
	}
	for range 20 {
		m.expectRead("+PONG")
	}
	ops := func() string { return infoField(t, m, "stats", "instantaneous_ops_per_sec") }
	waitFor(t, "instantaneous_ops_per_sec to rise", 10*time.Second, func() bool { return ops() != "0" })
	waitFor(t, "instantaneous_ops_per_sec back to 0", 30*time.Second, func() bool {
		// The polls are commands too: one every 2 s is under one a
		// second over the 1.6 s the rate is taken over.
		time.Sleep(2 * time.Second)
		return ops() == "0"
	})

	host, port, _ := net.SplitHostPort(mAddr)
	r := dialRaw(t, start("--replicaof", host, port))
	waitFor(t, "the replica's copy", 20*time.Second, func() bool { return r.do("GET", "k") == "$v" })
	field := func(info, name string) int {
		n, err := strconv.Atoi(infoValue(info, name))
		if err != nil {
			t.Fatalf("INFO's %s: %v", name, err)
		}
		return n
	}
	info := m.do("INFO", "stats") // "$" and the bulk's text
	m.expect("+OK", "SET", "k2", "v2")
	waitFor(t, "the write on the replica", 10*time.Second, func() bool { return r.do("GET", "k2") == "$v2" })
	if got := infoField(t, r, "stats", "total_net_repl_input_bytes"); got == "0" {
		t.Error("the replica counts no replication input")
	}
	// The output grew by the INFO reply, the +OK and what streamed to the
	// replica meanwhile, which the repl counter counts too (Redis 7.0).
	// The replica may read the SET before the master's send returns and
	// counts it, so the master's counter is polled; the INFO replies read
	// while polling count in the output too.
	bulk := func(s string) int { n := len(s) - 1; return len("$"+strconv.Itoa(n)+"\r\n") + n + 2 }
	var info2 string
	var repl, polled int
	waitFor(t, "the master to count replication output for the SET", 10*time.Second, func() bool {
		if info2 != "" {
			polled += bulk(info2)
		}
		info2 = m.do("INFO", "stats")
		repl = field(info2, "total_net_repl_output_bytes") - field(info, "total_net_repl_output_bytes")
		return repl > 0
	})
	wantOut := field(info, "total_net_output_bytes") + bulk(info) + len("+OK\r\n") + polled + repl
	if got := field(info2, "total_net_output_bytes"); got != wantOut {
		t.Errorf("total_net_output_bytes = %d, want %d", got, wantOut)
	}
}
