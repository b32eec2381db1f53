package server

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/walrus-kv/walrus/engine"
)

// TestMigrate moves keys between two servers of a kind, with MIGRATE's
// options and errors, against both.
func TestMigrate(t *testing.T) { againstBothStarting(t, migrateScenario) }

func migrateScenario(t *testing.T, start startFunc) {
	srcAddr, dstAddr := start(), start()
	src, dst := dialRaw(t, srcAddr), dialRaw(t, dstAddr)
	host, port, _ := net.SplitHostPort(dstAddr)
	migrate := func(key string, extra ...string) string {
		return src.do(append([]string{"MIGRATE", host, port, key, "0", "5000"}, extra...)...)
	}

	src.do("SET", "a", "1")
	src.do("RPUSH", "l", "x", "y")
	src.do("SET", "t", "v", "PX", "100000")
	src.do("HSET", "h", "f", "v")
	if got := migrate("a"); got != "+OK" {
		t.Fatalf("MIGRATE a = %q", got)
	}
	src.expect(":0", "EXISTS", "a")
	dst.expect("$1", "GET", "a")
	if got := migrate("", "KEYS", "l", "t", "h", "gone"); got != "+OK" {
		t.Fatalf("MIGRATE KEYS = %q", got)
	}
	src.expect(":0", "EXISTS", "l", "t", "h")
	dst.expect("[$x $y]", "LRANGE", "l", "0", "-1")
	dst.expect("[$f $v]", "HGETALL", "h")
	if ttl, _ := strconv.Atoi(strings.TrimPrefix(dst.do("PTTL", "t"), ":")); ttl <= 90000 || ttl > 100000 {
		t.Errorf("PTTL of a migrated key with 100000 ms to live = %d", ttl)
	}
	src.expect("+NOKEY", "MIGRATE", host, port, "gone", "0", "5000")

	// COPY keeps the key; the target refuses to overwrite without REPLACE.
	src.do("SET", "c", "1")
	src.expect("+OK", "MIGRATE", host, port, "c", "0", "5000", "COPY")
	src.expect("$1", "GET", "c")
	dst.expect("$1", "GET", "c")
	src.do("SET", "c", "2")
	src.expect("-ERR Target instance replied with error: BUSYKEY Target key name already exists.", "MIGRATE", host, port, "c", "0", "5000")
	src.expect("$2", "GET", "c")
	src.expect("+OK", "MIGRATE", host, port, "c", "0", "5000", "REPLACE")
	src.expect(":0", "EXISTS", "c")
	dst.expect("$2", "GET", "c")

	// Another database on the target.
	src.do("SET", "d", "in3")
	src.expect("+OK", "MIGRATE", host, port, "d", "3", "5000")
	dst.expect(":0", "EXISTS", "d")
	dst.do("SELECT", "3")
	dst.expect("$in3", "GET", "d")
	dst.do("SELECT", "0")

	src.expect("-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string", "MIGRATE", host, port, "a", "0", "5000", "KEYS", "a")
	src.expect("-ERR syntax error", "MIGRATE", host, port, "a", "0", "5000", "BOGUS")
	src.expect("-ERR syntax error", "MIGRATE", host, port, "a", "0", "5000", "AUTH")
	src.expect("-ERR value is not an integer or out of range", "MIGRATE", host, port, "a", "x", "5000")
	src.expect("[$k1 $k2]", "COMMAND", "GETKEYS", "MIGRATE", host, port, "", "0", "5000", "COPY", "KEYS", "k1", "k2")
	src.expect("[$k]", "COMMAND", "GETKEYS", "MIGRATE", host, port, "k", "0", "5000")

	// A target that needs a password.
	lockedAddr := start("--requirepass", "secret")
	lhost, lport, _ := net.SplitHostPort(lockedAddr)
	src.do("SET", "p", "1")
	src.expect("-ERR Target instance replied with error: NOAUTH Authentication required.", "MIGRATE", lhost, lport, "p", "0", "5000")
	src.expect("-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.", "MIGRATE", lhost, lport, "p", "0", "5000", "AUTH", "nope")
	src.expect("+OK", "MIGRATE", lhost, lport, "p", "0", "5000", "AUTH", "secret")
	src.expect(":0", "EXISTS", "p")
	src.do("SET", "p", "2")
	src.expect("+OK", "MIGRATE", lhost, lport, "p", "0", "5000", "REPLACE", "AUTH2", "default", "secret")

	// Nobody listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	src.do("SET", "p", "3")
	// Redis finds the refusal when it writes, walrus when it connects.
	if got := src.do("MIGRATE", "127.0.0.1", closedPort, "p", "0", "1000"); !strings.HasPrefix(got, "-IOERR error or timeout ") {
		t.Errorf("MIGRATE to a closed port = %q", got)
	}
	src.expect(":1", "EXISTS", "p")
}

// TestMigrateBetweenWalrusAndRedis moves keys of each type from walrus to
// redis-server and back.
func TestMigrateBetweenWalrusAndRedis(t *testing.T) {
	w, r := startServer(t).Addr().String(), redisServer(t)
	wc, rc := dialRaw(t, w), dialRaw(t, r)
	wc.do("SET", "s", "v")
	wc.do("RPUSH", "l", "a", "b")
	wc.do("SADD", "st", "m")
	wc.do("HSET", "h", "f", "v")
	wc.do("ZADD", "z", "1.5", "m")
	rhost, rport, _ := net.SplitHostPort(r)
	wc.expect("+OK", "MIGRATE", rhost, rport, "", "0", "5000", "KEYS", "s", "l", "st", "h", "z")
	wc.expect(":0", "DBSIZE")
	rc.expect(":5", "DBSIZE")
	whost, wport, _ := net.SplitHostPort(w)
	rc.expect("+OK", "MIGRATE", whost, wport, "", "0", "5000", "KEYS", "s", "l", "st", "h", "z")
	rc.expect(":0", "DBSIZE")
	wc.expect("$v", "GET", "s")
	wc.expect("[$a $b]", "LRANGE", "l", "0", "-1")
	wc.expect("[$m]", "SMEMBERS", "st")
	wc.expect("[$f $v]", "HGETALL", "h")
	wc.expect("[$m $1.5]", "ZRANGE", "z", "0", "-1", "WITHSCORES")
}

// TestMigrateKeepsAKeyThatChanged: the key's deletion after the target
// took it checks that the key still holds what was sent, since other
// clients run meanwhile; one that changed stays, and MIGRATE says so.
func TestMigrateKeepsAKeyThatChanged(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	cl := &client{sess: engine.NewSession()}
	for _, k := range []string{"same", "value", "expiry", "gone"} {
		c.do("SET", k, "v")
	}
	var items []migrateItem
	for _, k := range []string{"same", "value", "expiry", "gone"} {
		it, ok, msg := s.migrateRead(cl, []byte(k))
		if !ok || msg != "" {
			t.Fatalf("read %s: %v %q", k, ok, msg)
		}
		items = append(items, it)
	}
	c.do("SET", "value", "v2")
	c.do("PEXPIRE", "expiry", "100000")
	c.do("DEL", "gone")
	if msg := s.migrateDelete(cl, items); msg != "ERR MIGRATE copied keys that changed here meanwhile and kept them here: value expiry gone" {
		t.Fatalf("migrateDelete = %q", msg)
	}
	c.expect(":0", "EXISTS", "same")
	c.expect("$v2", "GET", "value")
	c.expect("$v", "GET", "expiry")
}
