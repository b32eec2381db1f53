package server

import (
	"strings"
	"testing"
)

// streamBlockingScenario runs blocked XREAD and XREADGROUP clients
// against the server at addr, woken by other clients' writes, and
// returns every reply in order.
func streamBlockingScenario(t *testing.T, addr string) []string {
	a, b, ctl := dialRaw(t, addr), dialRaw(t, addr), dialRaw(t, addr)
	ctl.do("FLUSHALL")
	var out []string
	log := func(s string) { out = append(out, s) }
	read := func(c *rawConn) {
		t.Helper()
		s, err := c.read()
		if err != nil {
			t.Fatal(err)
		}
		log(s)
	}

	// "$" is the stream's last ID when the wait starts.
	log(ctl.do("XADD", "k", "1-0", "f", "v"))
	a.send("XREAD", "BLOCK", "0", "STREAMS", "k", "$")
	ctl.waitBlocked("1")
	log(ctl.do("XADD", "k", "2-0", "f", "w"))
	read(a)

	// A timeout answers a null array.
	log(a.do("XREAD", "BLOCK", "50", "STREAMS", "k", "$"))
	log(a.do("XREADGROUP", "GROUP", "nog", "c", "BLOCK", "50", "STREAMS", "k", ">"))

	// A waiter for later IDs does not hold up one for earlier IDs.
	a.send("XREAD", "BLOCK", "0", "STREAMS", "k", "10-0")
	ctl.waitBlocked("1")
	b.send("XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "k", "2-0")
	ctl.waitBlocked("2")
	log(ctl.do("XADD", "k", "5-0", "f", "x"))
	read(b)
	ctl.waitBlocked("1")
	log(ctl.do("XADD", "k", "11-0", "f", "y"))
	read(a)

	// XREADGROUP ">" is served what arrives, and owns it.
	log(ctl.do("XGROUP", "CREATE", "k", "g", "$"))
	a.send("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "BLOCK", "0", "STREAMS", "k", ">")
	ctl.waitBlocked("1")
	log(ctl.do("XADD", "k", "12-0", "f", "z"))
	read(a)
	log(ctl.do("XPENDING", "k", "g"))
	log(ctl.do("XINFO", "GROUPS", "k"))

	// A history read never blocks.
	log(a.do("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "k", "0"))

	// The group destroyed, or the key deleted, under a waiting XREADGROUP.
	a.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "k", ">")
	ctl.waitBlocked("1")
	log(ctl.do("XGROUP", "DESTROY", "k", "g"))
	read(a)
	log(ctl.do("XGROUP", "CREATE", "k", "g", "$"))
	a.send("XREADGROUP", "GROUP", "g", "c1", "BLOCK", "0", "STREAMS", "k", ">")
	ctl.waitBlocked("1")
	log(ctl.do("DEL", "k"))
	read(a)

	// XREAD outlives its key and is served by the stream made anew.
	a.send("XREAD", "BLOCK", "0", "STREAMS", "k", "$")
	ctl.waitBlocked("1")
	log(ctl.do("SET", "k", "string"))
	log(ctl.do("DEL", "k"))
	log(ctl.do("XADD", "k", "1-0", "f", "again"))
	read(a)

	// Several keys: the one written serves.
	a.send("XREAD", "BLOCK", "0", "STREAMS", "k1", "k2", "$", "$")
	ctl.waitBlocked("1")
	log(ctl.do("XADD", "k2", "3-0", "f", "v"))
	read(a)

	// Inside a transaction nothing blocks.
	for _, cmd := range [][]string{{"MULTI"}, {"XREAD", "BLOCK", "0", "STREAMS", "k", "$"}, {"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "k", ">"}, {"EXEC"}} {
		log(a.do(cmd...))
	}
	log(infoField(t, ctl, "clients", "blocked_clients"))
	return out
}

// Blocked XREAD and XREADGROUP clients are woken, time out, and are
// refused as Redis's are: the same scenario answers the same replies.
func TestStreamBlockingMatchesRedis(t *testing.T) {
	redisAddr := redisServer(t)
	s := startServer(t)
	got := streamBlockingScenario(t, s.Addr().String())
	want := streamBlockingScenario(t, redisAddr)
	if len(got) != len(want) {
		t.Fatalf("walrus gave %d replies, redis %d:\n%q\n%q", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("reply %d differs\nwalrus: %s\nredis:  %s\nall walrus: %q", i, got[i], want[i], got)
		}
	}
	// What a woken XREADGROUP delivered travels as XCLAIM, not as the read.
	w := s.eng.WAL()
	var logged strings.Builder
	for i := w.FirstIndex(); i <= w.LastIndex(); i++ {
		entry, err := w.Read(i)
		if err != nil {
			t.Fatal(err)
		}
		logged.Write(entry)
	}
	if l := logged.String(); !strings.Contains(l, "XCLAIM") || strings.Contains(l, "XREADGROUP") {
		t.Fatalf("log %q: want XCLAIM effects and no XREADGROUP", l)
	}
}
