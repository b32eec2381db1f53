package server

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestKeyspaceNotificationsAgainstRedis runs every differential family's
// random commands against walrus and redis-server with keyspace and
// keyevent notifications on (every class but expired and evicted, whose
// moments depend on each server's clock), and compares, command by
// command, the events each server published.
func TestKeyspaceNotificationsAgainstRedis(t *testing.T) {
	redisAddr := redisServer(t)
	seed, n := diffParams(2000, 300)
	walrusAddr := startServer(t).Addr().String()
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			runNotifyDifferential(t, fam, seed, n, walrusAddr, redisAddr)
		})
	}
}

func runNotifyDifferential(t *testing.T, fam family, seed uint64, n int, walrusAddr, redisAddr string) {
	type side struct {
		name     string
		cmd, sub *rawConn
	}
	sides := []*side{{name: "walrus"}, {name: "redis"}}
	for i, addr := range []string{walrusAddr, redisAddr} {
		s := sides[i]
		s.cmd, s.sub = dialRaw(t, addr), dialRaw(t, addr)
		s.cmd.do("SELECT", "0")
		s.cmd.do("FLUSHALL")
		s.cmd.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "KEg$lshztnm")
		s.sub.expect("[$psubscribe $__key*__:* :1]", "PSUBSCRIBE", "__key*__:*")
	}
	t.Cleanup(func() {
		for _, s := range sides {
			s.cmd.do("CONFIG", "SET", "notify-keyspace-events", "")
		}
	})
	// events reads what a server published up to a marker it publishes
	// after the command.
	const marker = "__keyspace@99__:marker"
	events := func(s *side) []string {
		s.cmd.do("PUBLISH", marker, "end")
		var out []string
		for {
			msg, err := s.sub.read()
			if err != nil {
				t.Fatalf("%s subscriber: %v", s.name, err)
			}
			if strings.Contains(msg, marker) {
				return out
			}
			out = append(out, msg)
		}
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0)), now: time.Now().Unix()}
	for i := 0; i < n; i++ {
		cmd := fam.next(g)
		for _, s := range sides {
			s.cmd.do(cmd...)
		}
		got, want := events(sides[0]), events(sides[1])
		if name := strings.ToUpper(cmd[0]); name == "SORT" || name == "SORT_RO" {
			// SORT's BY and GET lookups send no key misses on walrus
			// (README): compare the other events.
			got, want = withoutKeymiss(got), withoutKeymiss(want)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("seed %d (-diff.seed=%d), command %d: %s\nwalrus events:\n  %s\nredis events:\n  %s",
				seed, seed, i, quoteCmd(cmd), strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
}

// withoutKeymiss drops the key-miss events of a list of events.
func withoutKeymiss(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.Contains(e, "keymiss") {
			out = append(out, e)
		}
	}
	return out
}

// TestKeyspaceExpiredEvents: a key that expires (actively, or found
// expired when accessed) is announced as expired, on both servers.
func TestKeyspaceExpiredEvents(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c, sub := dialRaw(t, addr), dialRaw(t, addr)
		c.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "Ex")
		t.Cleanup(func() { c.do("CONFIG", "SET", "notify-keyspace-events", "") })
		c.expect("[$notify-keyspace-events $xE]", "CONFIG", "GET", "notify-keyspace-events") // Redis's order
		sub.expect("[$subscribe $__keyevent@0__:expired :1]", "SUBSCRIBE", "__keyevent@0__:expired")
		c.expect("+OK", "SET", "soon", "v", "PX", "30")
		sub.expectRead("[$message $__keyevent@0__:expired $soon]") // active expiry
		c.expect("+OK", "SET", "past", "v", "PXAT", "1000")
		c.expect("(nil)", "GET", "past")
		sub.expectRead("[$message $__keyevent@0__:expired $past]")
		c.expect("-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
			"CONFIG", "SET", "notify-keyspace-events", "KQ")
	})
}

// TestKeyspaceEventsOnReplica: a replica announces the writes it applies
// to its own subscribers, as a Redis replica does.
func TestKeyspaceEventsOnReplica(t *testing.T) {
	_, rs, mc, rc := masterAndReplica(t)
	rc.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "K$l")
	sub := dialRaw(t, rs.Addr().String())
	sub.expect("[$psubscribe $__keyspace@0__:* :1]", "PSUBSCRIBE", "__keyspace@0__:*")
	mc.do("SET", "a", "1")
	mc.do("RPUSH", "l", "x")
	mc.do("INCR", "a")
	sub.expectRead("[$pmessage $__keyspace@0__:* $__keyspace@0__:a $set]")
	sub.expectRead("[$pmessage $__keyspace@0__:* $__keyspace@0__:l $rpush]")
	sub.expectRead("[$pmessage $__keyspace@0__:* $__keyspace@0__:a $incrby]")
}
