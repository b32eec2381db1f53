package server

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/engine"
)

// expectNext reads r's next reply, a push or a reply, and checks its
// rendering and its shape (see rawConn.readShape).
func expectNext(t *testing.T, r *rawConn, want, wantShape string) {
	t.Helper()
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	got, shape, err := r.readShape()
	if err != nil {
		t.Fatalf("waiting for %s: %v", want, err)
	}
	if got != want || shape != wantShape {
		t.Fatalf("got %s %s\nwant %s %s", shape, got, wantShape, want)
	}
}

// expectQuiet checks that nothing is waiting on r: a PING's PONG is the
// next thing it reads.
func expectQuiet(t *testing.T, r *rawConn) {
	t.Helper()
	r.send("PING")
	expectNext(t, r, "+PONG", "+")
}

// trackingClient dials addr in RESP3 and turns tracking on with opts.
func trackingClient(t *testing.T, addr string, opts ...string) *rawConn {
	t.Helper()
	c := dialRaw(t, addr)
	c.do("HELLO", "3")
	c.expect("+OK", append([]string{"CLIENT", "TRACKING", "on"}, opts...)...)
	return c
}

// TestClientTrackingErrors: CLIENT TRACKING's option checks, CACHING,
// GETREDIR and TRACKINGINFO, reply for reply with Redis.
func TestClientTrackingErrors(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		r := dialRaw(t, addr)
		for _, st := range []struct {
			cmd  []string
			want string
		}{
			{[]string{"CLIENT", "TRACKING"}, "-ERR wrong number of arguments for 'client|tracking' command"},
			{[]string{"CLIENT", "TRACKING", "x"}, "-ERR syntax error"},
			{[]string{"CLIENT", "TRACKING", "on", "prefix", "a"}, "-ERR PREFIX option requires BCAST mode to be enabled"},
			{[]string{"CLIENT", "TRACKING", "on", "optin", "optout"}, "-ERR You can't specify both OPTIN mode and OPTOUT mode"},
			{[]string{"CLIENT", "TRACKING", "on", "bcast", "optin"}, "-ERR OPTIN and OPTOUT are not compatible with BCAST"},
			{[]string{"CLIENT", "TRACKING", "on", "redirect", "99999"}, "-ERR The client ID you want redirect to does not exist"},
			{[]string{"CLIENT", "TRACKING", "on", "redirect", "x"}, "-ERR value is not an integer or out of range"},
			{[]string{"CLIENT", "TRACKING", "on", "bogus"}, "-ERR syntax error"},
			{[]string{"CLIENT", "TRACKING", "on", "prefix"}, "-ERR syntax error"},
			{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "ab"}, "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap."},
			{[]string{"CLIENT", "CACHING", "yes"}, "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"},
			{[]string{"CLIENT", "GETREDIR"}, ":-1"},
			{[]string{"CLIENT", "TRACKINGINFO"}, "[$flags [$off] $redirect :-1 $prefixes []]"},
			{[]string{"CLIENT", "TRACKING", "off"}, "+OK"},
			{[]string{"CLIENT", "TRACKING", "on", "optin"}, "+OK"},
			{[]string{"CLIENT", "CACHING", "no"}, "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."},
			{[]string{"CLIENT", "CACHING", "maybe"}, "-ERR syntax error"},
			{[]string{"CLIENT", "CACHING", "yes"}, "+OK"},
			{[]string{"CLIENT", "TRACKING", "on", "optout"}, "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."},
			{[]string{"CLIENT", "TRACKING", "on", "bcast"}, "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."},
			// CACHING YES lasts over CLIENT commands, until another runs.
			{[]string{"CLIENT", "TRACKINGINFO"}, "[$flags [$on $optin $caching-yes] $redirect :0 $prefixes []]"},
			{[]string{"GET", "k"}, "(nil)"},
			{[]string{"CLIENT", "TRACKINGINFO"}, "[$flags [$on $optin] $redirect :0 $prefixes []]"},
			{[]string{"CLIENT", "GETREDIR"}, ":0"},
			{[]string{"CLIENT", "TRACKING", "off"}, "+OK"},
			{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "noloop"}, "+OK"},
			{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "ba"}, "-ERR Prefix 'ba' overlaps with an existing prefix 'b'. Prefixes for a single client must not overlap."},
			{[]string{"CLIENT", "TRACKING", "on", "bcast", "prefix", "c"}, "+OK"},
			{[]string{"CLIENT", "TRACKINGINFO"}, "[$flags [$on $bcast] $redirect :0 $prefixes [$b $c]]"},
			{[]string{"CLIENT", "TRACKING", "off"}, "+OK"},
			{[]string{"CLIENT", "TRACKING", "on", "bcast"}, "+OK"},
			{[]string{"CLIENT", "TRACKINGINFO"}, "[$flags [$on $bcast] $redirect :0 $prefixes [$]]"},
		} {
			if got := r.do(st.cmd...); got != st.want {
				t.Fatalf("%v: %q, want %q", st.cmd, got, st.want)
			}
		}
		if got := infoField(t, r, "clients", "tracking_clients"); got != "1" {
			t.Fatalf("tracking_clients %q", got)
		}
		r.do("CLIENT", "TRACKING", "off")
		if got := infoField(t, r, "clients", "tracking_clients"); got != "0" {
			t.Fatalf("tracking_clients after off %q", got)
		}
	})
}

// TestClientTrackingInvalidates: the invalidations of the default mode,
// NOLOOP, OPTIN, BCAST, flushes and RESP2 redirection, message for
// message with Redis.
func TestClientTrackingInvalidates(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		w := dialRaw(t, addr) // the writer
		// Default mode, RESP3: each key read, once, invalidated by the
		// first change; the keys of a client's own writes too.
		a := trackingClient(t, addr)
		a.do("GET", "k1")
		a.do("MGET", "k2", "k3")
		a.do("EXISTS", "k4")
		w.expect("+OK", "MSET", "k1", "1", "k2", "2", "k3", "3", "k9", "9")
		for _, k := range []string{"k1", "k2", "k3"} {
			expectNext(t, a, "[$invalidate [$"+k+"]]", ">($*($))")
		}
		w.expect("+OK", "MSET", "k1", "1", "k2", "2") // forgotten once invalidated
		w.expect("+OK", "SET", "k4", "x")
		expectNext(t, a, "[$invalidate [$k4]]", ">($*($))")
		a.do("GET", "k5")
		a.send("SET", "k5", "mine")
		expectNext(t, a, "+OK", "+") // its own write: the reply, then the push
		expectNext(t, a, "[$invalidate [$k5]]", ">($*($))")
		expectQuiet(t, a)

		// FLUSHALL: a null invalidation to every tracking client, the
		// flusher too, after its reply.
		a.do("GET", "k6")
		a.send("FLUSHALL")
		expectNext(t, a, "+OK", "+")
		expectNext(t, a, "[$invalidate (nil)]", ">($_)")
		w.expect("+OK", "SET", "k6", "after") // the table was emptied
		expectQuiet(t, a)

		// NOLOOP: not told of its own writes.
		n := trackingClient(t, addr, "NOLOOP")
		n.do("GET", "n1")
		n.expect("+OK", "SET", "n1", "x")
		expectQuiet(t, n)

		// OPTIN: only the keys of the command after CLIENT CACHING YES.
		o := trackingClient(t, addr, "OPTIN")
		o.do("GET", "o1")
		o.expect("+OK", "CLIENT", "CACHING", "yes")
		o.do("GET", "o2")
		o.do("GET", "o3")
		w.expect("+OK", "MSET", "o1", "1", "o2", "2", "o3", "3")
		expectNext(t, o, "[$invalidate [$o2]]", ">($*($))")
		expectQuiet(t, o)

		// BCAST: every change under a prefix, one message per prefix.
		b := trackingClient(t, addr, "BCAST", "PREFIX", "p:", "PREFIX", "q")
		w.expect("+OK", "MSET", "p:1", "a", "q2", "b", "zz", "c")
		expectNext(t, b, "[$invalidate [$p:1]]", ">($*($))")
		expectNext(t, b, "[$invalidate [$q2]]", ">($*($))")
		w.expect(":1", "DEL", "p:1")
		expectNext(t, b, "[$invalidate [$p:1]]", ">($*($))")

		// RESP2: invalidations go to a subscribed connection as messages
		// on __redis__:invalidate.
		sub := dialRaw(t, addr)
		id := strings.TrimPrefix(sub.do("CLIENT", "ID"), ":")
		sub.expect("[$subscribe $x :1]", "SUBSCRIBE", "x")
		r2 := dialRaw(t, addr)
		r2.expect("+OK", "CLIENT", "TRACKING", "on", "REDIRECT", id)
		r2.expect(":"+id, "CLIENT", "GETREDIR")
		r2.do("GET", "z")
		w.expect("+OK", "SET", "z", "1")
		expectNext(t, sub, "[$message $__redis__:invalidate [$z]]", "*($$*($))")
		r2.do("GET", "z")
		w.expect("+OK", "FLUSHDB")
		expectNext(t, sub, "[$message $__redis__:invalidate (nil)]", "*($$$nil)")

		// A RESP3 client whose redirection is gone is told so.
		gone := dialRaw(t, addr)
		goneID := strings.TrimPrefix(gone.do("CLIENT", "ID"), ":")
		e := trackingClient(t, addr, "REDIRECT", goneID)
		e.do("GET", "e1")
		gone.c.Close()
		waitFor(t, "the redirection's target to go", 10*time.Second, func() bool {
			return !strings.Contains(w.do("CLIENT", "LIST"), "id="+goneID+" ")
		})
		w.expect("+OK", "SET", "e1", "x")
		expectNext(t, e, "[$tracking-redir-broken :"+goneID+"]", ">($:)")
		e.expect("[$flags [$on $broken_redirect] $redirect :"+goneID+" $prefixes []]", "CLIENT", "TRACKINGINFO")
		if info := e.do("CLIENT", "INFO"); !strings.Contains(info, " flags=tR ") || !strings.Contains(info, " redir="+goneID+" ") {
			t.Fatalf("CLIENT INFO of a broken redirection: %s", info)
		}
		expectNext(t, b, "[$invalidate (nil)]", ">($_)") // FLUSHDB reached BCAST too
		if info := b.do("CLIENT", "INFO"); !strings.Contains(info, " flags=tB ") || !strings.Contains(info, " redir=0 ") {
			t.Fatalf("CLIENT INFO of BCAST tracking: %s", info)
		}
		// A RESP2 subscriber may not run CLIENT INFO; the error names the
		// subcommand.
		sub.expect("-ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", "CLIENT", "INFO")
		if list := w.do("CLIENT", "LIST"); !strings.Contains(list, "id="+id+" ") || !strings.Contains(list, " flags=P ") {
			t.Fatalf("CLIENT LIST without a subscriber's P flag: %s", list)
		}
	})
}

// TestClientTrackingTableLimit: past tracking-table-max-keys the server
// forgets keys and tells their readers they changed (which keys is
// Redis's random pick, so only how many is compared).
func TestClientTrackingTableLimit(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		a := dialRaw(t, addr)
		a.do("HELLO", "3")
		a.expect("+OK", "CONFIG", "SET", "tracking-table-max-keys", "2")
		a.expect("+OK", "CLIENT", "TRACKING", "on")
		a.expect("[(nil) (nil) (nil)]", "MGET", "t1", "t2", "t3")
		a.c.SetDeadline(time.Now().Add(10 * time.Second))
		got, shape, err := a.readShape()
		if err != nil || shape != ">($*($))" || !strings.HasPrefix(got, "[$invalidate [$t") {
			t.Fatalf("eviction: %s %s %v", shape, got, err)
		}
		expectQuiet(t, a)
		if keys := infoField(t, a, "stats", "tracking_total_keys"); keys != "2" {
			t.Fatalf("tracking_total_keys %q, want 2", keys)
		}
	})
}

// TestClientTrackingOnReplica: a client tracking keys on a replica hears
// of the master's writes to them as the replica applies them.
func TestClientTrackingOnReplica(t *testing.T) {
	_, rs, mc, _ := masterAndReplica(t)
	r := trackingClient(t, rs.Addr().String())
	r.expect("(nil)", "GET", "cached")
	mc.expect("+OK", "SET", "cached", "v")
	expectNext(t, r, "[$invalidate [$cached]]", ">($*($))")
}

// TestClientTrackingScriptReads: the keys a script's commands read are
// tracked for the client that ran it, its writes invalidate, as in Redis.
func TestClientTrackingScriptReads(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		w := dialRaw(t, addr)
		a := trackingClient(t, addr)
		a.expect("(nil)", "EVAL", "return redis.call('GET', KEYS[1])", "1", "sk1")
		a.expect("(nil)", "EVAL_RO", "return redis.call('GET', KEYS[1])", "1", "sk2")
		w.expect("+OK", "MSET", "sk1", "1", "sk2", "2", "sk3", "3")
		expectNext(t, a, "[$invalidate [$sk1]]", ">($*($))")
		expectNext(t, a, "[$invalidate [$sk2]]", ">($*($))")
		expectQuiet(t, a)
	})
}

// TestClientTrackingInTransaction: CLIENT TRACKING ON inside MULTI
// tracks the reads queued after it, as in Redis.
func TestClientTrackingInTransaction(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		w := dialRaw(t, addr)
		a := dialRaw(t, addr)
		a.do("HELLO", "3")
		a.expect("+OK", "MULTI")
		a.expect("+QUEUED", "CLIENT", "TRACKING", "on")
		a.expect("+QUEUED", "GET", "mk")
		a.expect("[+OK (nil)]", "EXEC")
		w.expect("+OK", "SET", "mk", "1")
		expectNext(t, a, "[$invalidate [$mk]]", ">($*($))")
		expectQuiet(t, a)
	})
}

// TestClientTrackingRefusedInTransaction: a transaction whose CLIENT
// TRACKING ON is refused tracks nothing; the reads queued around it leave
// no key in the table.
func TestClientTrackingRefusedInTransaction(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		w := dialRaw(t, addr)
		a := dialRaw(t, addr)
		a.do("HELLO", "3")
		a.expect("+OK", "MULTI")
		a.expect("+QUEUED", "GET", "rk")
		a.expect("+QUEUED", "CLIENT", "TRACKING", "on", "REDIRECT", "999999")
		a.expect("+QUEUED", "GET", "rk")
		a.expect("[(nil) -ERR The client ID you want redirect to does not exist (nil)]", "EXEC")
		if got := infoField(t, w, "stats", "tracking_total_keys"); got != "0" {
			t.Errorf("tracking_total_keys %s after a transaction that did not turn tracking on", got)
		}
		w.expect("+OK", "SET", "rk", "1")
		expectQuiet(t, a)
	})
}

// TestClientTrackingWhileBlocked: a tracking client blocked in BLPOP
// hears of a change at once, as in Redis, not when its pop returns.
func TestClientTrackingWhileBlocked(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		w := dialRaw(t, addr)
		a := trackingClient(t, addr)
		a.do("GET", "bk")
		a.send("BLPOP", "blist", "0")
		w.waitBlocked("1")
		w.expect("+OK", "SET", "bk", "x")
		expectNext(t, a, "[$invalidate [$bk]]", ">($*($))")
		w.expect(":1", "RPUSH", "blist", "v")
		expectNext(t, a, "[$blist $v]", "*($$)")
	})
}

// BenchmarkTrackingTableMemory: the heap a default-mode tracking table
// takes per remembered key (one reader each), and the time to remember
// one. go test ./server -run XXX -bench TrackingTableMemory -benchtime 1000000x
func BenchmarkTrackingTableMemory(b *testing.B) {
	var t tracker
	cl := &client{}
	cl.track.on = true
	eng := engine.Lookup([]byte("GET"))
	get := &command{Spec: eng.Spec, eng: eng}
	keys := make([][][]byte, b.N)
	for i := range keys {
		keys[i] = [][]byte{[]byte("GET"), []byte(fmt.Sprintf("key:%012d", i))}
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	t.mu.Lock()
	for _, args := range keys {
		t.rememberLocked(cl, get, args)
	}
	t.mu.Unlock()
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keys) // measure the table alone
	if len(t.keys) != b.N {
		b.Fatalf("%d keys remembered, want %d", len(t.keys), b.N)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "B/key")
}

// TestClientTrackingRandomOps drives three connections with random
// tracking, caching, protocol, pub/sub, read and write commands, without
// waiting for replies (pushes interleave), while a drainer reads each
// one. The server must stay up and consistent: afterwards every client
// turns tracking off and the table's counters return to zero.
func TestClientTrackingRandomOps(t *testing.T) {
	s := startServer(t)
	addr := s.Addr().String()
	seed, n := diffParams(3000, 500)
	g := &gen{r: rand.New(rand.NewPCG(seed, 1))}
	var conns []*rawConn
	var ids []string
	var drained sync.WaitGroup
	for i := 0; i < 3; i++ {
		c := dialRaw(t, addr)
		ids = append(ids, strings.TrimPrefix(c.do("CLIENT", "ID"), ":"))
		conns = append(conns, c)
	}
	for _, c := range conns {
		drained.Add(1)
		go func(c *rawConn) {
			defer drained.Done()
			for {
				c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, _, err := c.readShape(); err != nil {
					return
				}
			}
		}(c)
	}
	key := func() string { return "t" + g.int(0, 5) }
	for i := 0; i < n; i++ {
		c := conns[g.r.IntN(len(conns))]
		var cmd []string
		switch g.r.IntN(14) {
		case 0:
			cmd = []string{"HELLO", g.pick("2", "3")}
		case 1:
			cmd = []string{"CLIENT", "TRACKING", g.pick("on", "off")}
			for _, o := range [][]string{{"BCAST"}, {"PREFIX", "t"}, {"OPTIN"}, {"OPTOUT"}, {"NOLOOP"}, {"REDIRECT", ids[g.r.IntN(len(ids))]}} {
				if g.r.IntN(4) == 0 {
					cmd = append(cmd, o...)
				}
			}
		case 2:
			cmd = []string{"CLIENT", "CACHING", g.pick("yes", "no")}
		case 3:
			cmd = []string{g.pick("SUBSCRIBE", "UNSUBSCRIBE"), "ch"}
		case 4:
			cmd = []string{"MGET", key(), key()}
		case 5:
			cmd = []string{"FLUSHALL"}
		case 6:
			cmd = []string{"EVAL", "return redis.call('GET', KEYS[1])", "1", key()}
		case 7:
			cmd = []string{"MULTI"}
		case 8:
			cmd = []string{"EXEC"}
		case 9:
			cmd = []string{"CLIENT", "TRACKINGINFO"}
		case 10:
			cmd = []string{"DEL", key()}
		case 11:
			cmd = []string{"SET", key(), g.val()}
		default:
			cmd = []string{"GET", key()}
		}
		c.send(cmd...)
	}
	ctl := dialRaw(t, addr)
	for i, c := range conns {
		c.send("RESET")
		c.send("CLIENT", "SETNAME", "done"+itoa(i)) // it has run everything before
	}
	waitFor(t, "every client to run its commands", 60*time.Second, func() bool {
		list := ctl.do("CLIENT", "LIST")
		return strings.Contains(list, "name=done0 ") && strings.Contains(list, "name=done1 ") && strings.Contains(list, "name=done2 ")
	})
	if got := infoField(t, ctl, "clients", "tracking_clients"); got != "0" {
		t.Fatalf("tracking_clients %s after RESET (seed %d)", got, seed)
	}
	for _, f := range []string{"tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"} {
		if got := infoField(t, ctl, "stats", f); got != "0" {
			t.Fatalf("%s %s after every client stopped tracking (seed %d)", f, got, seed)
		}
	}
	ctl.expect("+PONG", "PING")
	for _, c := range conns {
		c.c.Close()
	}
	drained.Wait()
}
