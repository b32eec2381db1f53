package server

import (
	"math/rand/v2"
	"strconv"
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

// Stream commands on a master reach its replica with the same entries,
// groups, pending entries, delivery times and counts and consumers' seen
// times: XINFO STREAM FULL, which shows them all, answers the same on
// both, as does DEBUG DIGEST.
func TestStreamsReplicateExactly(t *testing.T) {
	m, _, mc, rc := masterAndReplica(t)
	if got := mc.do("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"); got != "+OK" {
		t.Fatalf("XGROUP CREATE: %s", got)
	}
	blocked := dialRaw(t, m.Addr().String())
	blocked.send("XREADGROUP", "GROUP", "g", "c0", "BLOCK", "0", "STREAMS", "s", ">")
	mc.waitBlocked("1")
	if got := mc.do("XADD", "s", "*", "f", "1"); strings.HasPrefix(got, "-") {
		t.Fatalf("XADD: %s", got)
	}
	if got, err := blocked.read(); err != nil || !strings.HasPrefix(got, "[[$s [[$") {
		t.Fatalf("woken XREADGROUP: %q (%v)", got, err)
	}
	for i := 0; i < 300; i++ {
		mc.do("XADD", "s", "MAXLEN", "~", "150", "*", "f", strconv.Itoa(i))
	}
	for _, cmd := range [][]string{
		{"XREADGROUP", "GROUP", "g", "c1", "COUNT", "20", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g", "c2", "COUNT", "5", "NOACK", "STREAMS", "s", ">"},
		{"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"},
		{"XAUTOCLAIM", "s", "g", "c3", "0", "0", "COUNT", "4"},
		{"XCLAIM", "s", "g", "c4", "0", "0-1", "FORCE"},
		{"XGROUP", "CREATE", "s", "h", "0", "ENTRIESREAD", "0"},
		{"XREADGROUP", "GROUP", "h", "c1", "COUNT", "3", "STREAMS", "s", ">"},
		{"XGROUP", "CREATECONSUMER", "s", "h", "idle"},
		{"XTRIM", "s", "MINID", "~", "0-1"},
		{"XADD", "t", "1-1", "a", "b"},
		{"XDEL", "t", "1-1"},
		{"XSETID", "t", "5-5", "ENTRIESADDED", "9", "MAXDELETEDID", "2-2"},
	} {
		if got := mc.do(cmd...); strings.HasPrefix(got, "-") {
			t.Fatalf("%v: %s", cmd, got)
		}
	}
	pending := mc.do("XPENDING", "s", "g", "-", "+", "1")
	_, id, _ := strings.Cut(pending, "[[$")
	id, _, _ = strings.Cut(id, " ")
	if got := mc.do("XCLAIM", "s", "g", "c5", "0", id, "IDLE", "5000", "RETRYCOUNT", "7"); !strings.HasPrefix(got, "[[$") {
		t.Fatalf("XCLAIM %s: %s", id, got)
	}
	waitConverged(t, mc, rc)
	for _, key := range []string{"s", "t"} {
		want := mc.do("XINFO", "STREAM", key, "FULL", "COUNT", "0")
		if got := rc.do("XINFO", "STREAM", key, "FULL", "COUNT", "0"); got != want {
			t.Fatalf("XINFO STREAM %s FULL\nreplica: %s\nmaster:  %s", key, got, want)
		}
	}
	if got := rc.do("XINFO", "STREAM", "s"); !strings.Contains(got, "$groups :2") {
		t.Fatalf("replica's stream: %s", got)
	}
}

// XREAD BLOCK on a replica is served by the master's XADD once the
// replica applies it, as in Redis.
func TestXReadBlockOnReplicaWakesOnTheMastersWrite(t *testing.T) {
	_, r, mc, rc := masterAndReplica(t)
	reader := dialRaw(t, r.Addr().String())
	reader.send("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
	rc.waitBlocked("1")
	if got := mc.do("XADD", "s", "1-1", "f", "v"); got != "$1-1" {
		t.Fatalf("XADD on the master: %s", got)
	}
	if got, err := reader.read(); err != nil || got != "[[$s [[$1-1 [$f $v]]]]]" {
		t.Fatalf("XREAD on the replica: %q (%v)", got, err)
	}
	if got := rc.do("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"); !strings.HasPrefix(got, "-READONLY") {
		t.Fatalf("XREADGROUP on the replica: %s", got)
	}
}

// XREAD without BLOCK that finds nothing is a call in INFO commandstats
// (only a blocking wait's retries are not).
func TestXReadWithoutBlockCountsItsNullReply(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	for i := 0; i < 3; i++ {
		if got := c.do("XREAD", "STREAMS", "nokey", "0"); got != "(nil-array)" {
			t.Fatalf("XREAD: %s", got)
		}
	}
	if got := c.do("XREAD", "BLOCK", "10", "STREAMS", "nokey", "0"); got != "(nil-array)" {
		t.Fatalf("XREAD BLOCK: %s", got)
	}
	if got := infoField(t, c, "commandstats", "cmdstat_xread"); !strings.HasPrefix(got, "calls=4,") {
		t.Fatalf("cmdstat_xread: %s, want 4 calls", got)
	}
}

// TestStreamNodesMatchRedis: walrus closes a stream's nodes where Redis
// closes its listpacks (at 100 entries, or when the listpack's bytes and
// the new entry's reach 4096), so approximate trims remove what Redis's
// remove. The entries take every size Redis encodes differently: values
// and field names that are integers, strings around the 64- and
// 4096-byte encodings and the 128-byte back-length, fields that are or
// are not their node's first entry's, and IDs whose differences from
// their node's first ID take every integer width, negative ones too.
// XINFO STREAM gives the node count (radix-tree-keys); while no entry
// has been deleted inside a node, DUMP must also be Redis's byte for
// byte (Redis's payload uncompressed), each node's listpack included.
func TestStreamNodesMatchRedis(t *testing.T) {
	r := dialRaw(t, redisServer(t))
	w := dialRaw(t, startServer(t).Addr().String())
	r.expect("+OK", "CONFIG", "SET", "rdbcompression", "no")
	seed, n := diffParams(3000, 600)
	t.Logf("seed %d, %d commands (-diff.seed, -diff.n)", seed, n)
	rng := rand.New(rand.NewPCG(seed, 0))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	value := func() string {
		switch rng.IntN(6) {
		case 0:
			return pick("0", "7", "127", "128", "-1", "4095", "4096", "-4096", "-4097", "32767", "-32769", "70000", "-9000000", "3000000000", "9223372036854775807", "007", "+1", "-0", "")
		case 1:
			size := []int{62, 63, 64, 65, 120, 124, 125, 126, 127, 128, 300, 1000, 4094, 4095, 4096, 5000}[rng.IntN(16)]
			return strings.Repeat("x", size)
		case 2, 3:
			return strings.Repeat("y", 10+rng.IntN(50)) // nodes fill to 4096 bytes within 100 entries
		}
		return "v" + strconv.Itoa(rng.IntN(1000))
	}
	// Entries are deleted inside nodes of "d" only: Redis keeps their
	// bytes, so DUMP is compared on "s".
	last := map[string][2]uint64{"s": {1, 0}, "d": {1, 0}}
	dumps := 0
	both := func(args ...string) string {
		t.Helper()
		want := r.do(args...)
		w.expect(want, args...)
		return want
	}
	for i := 0; i < n; i++ {
		k := pick("s", "d")
		ms, seq := last[k][0], last[k][1]
		switch rng.IntN(25) {
		case 0:
			both("XTRIM", k, "MAXLEN", "~", strconv.Itoa(rng.IntN(400)))
			continue
		case 1:
			both("XTRIM", k, "MINID", "~", strconv.FormatUint(rng.Uint64N(ms+1), 10))
			continue
		case 2:
			if k == "d" {
				both("XDEL", k, strconv.FormatUint(ms, 10)+"-"+strconv.FormatUint(seq, 10))
			}
			continue
		case 3, 4:
			info := func(c *rawConn) string {
				return raxNodes.ReplaceAllString(c.do("XINFO", "STREAM", k), "$$radix-tree-nodes :N")
			}
			want := info(r)
			if got := info(w); got != want {
				t.Fatalf("seed %d, command %d: XINFO STREAM %s:\n%.500s\nwant\n%.500s", seed, i, k, got, want)
			}
			if k == "d" || strings.HasPrefix(want, "-") {
				continue
			}
			if wd, rd := bulk(t, w.do("DUMP", k)), bulk(t, r.do("DUMP", k)); wd != rd {
				t.Fatalf("seed %d, command %d: DUMP differs from Redis's:\n%q\nwant\n%q", seed, i, wd, rd)
			}
			dumps++
			continue
		}
		switch rng.IntN(6) {
		case 0:
			seq++
		default:
			ms += []uint64{1, 100, 5000, 40000, 9000000, 3000000000}[rng.IntN(6)]
			seq = []uint64{0, 0, 3, 300, 70000}[rng.IntN(5)]
		}
		last[k] = [2]uint64{ms, seq}
		c := []string{"XADD", k, strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq, 10)}
		for f := 1 + rng.IntN(3); f > 0; f-- {
			c = append(c, pick("a", "a", "b", "name", "12", "-7"), value())
		}
		both(c...)
	}
	t.Logf("%d DUMPs equal to Redis's", dumps)
}
