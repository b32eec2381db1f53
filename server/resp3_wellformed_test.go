package server

import (
	"sort"
	"strings"
	"testing"
)

// wellFormedSkipped are commands TestRepliesWellFormed leaves out: they
// stop the server, change the connection's protocol or end it, block,
// wait for replicas, dial out, hand the connection to replication, or
// reply more than once.
var wellFormedSkipped = map[string]bool{
	"shutdown": true, "replicaof": true, "slaveof": true, "psync": true, "sync": true,
	"replconf": true, "failover": true, "monitor": true, "quit": true, "reset": true,
	"hello": true, "auth": true, "debug": true, "migrate": true, "wait": true, "waitaof": true,
	"blpop": true, "brpop": true, "brpoplpush": true, "blmove": true, "blmpop": true,
	"bzpopmin": true, "bzpopmax": true, "bzmpop": true, "xread": true, "xreadgroup": true,
	"save": true, "bgsave": true, "bgrewriteaof": true, "multi": true,
	// One reply per channel: TestPubSubRESP3 reads them.
	"subscribe": true, "psubscribe": true, "ssubscribe": true,
	"unsubscribe": true, "punsubscribe": true, "sunsubscribe": true,
}

// wellFormedSubSkipped are subcommands left out for the same reasons.
var wellFormedSubSkipped = map[string]bool{
	"client|kill": true, "client|pause": true, "client|reply": true, "client|tracking": true,
	"client|unblock": true, "client|no-evict": true, "acl|setuser": true, "acl|deluser": true,
	"acl|load": true, "acl|save": true, "config|set": true, "config|rewrite": true,
	"script|kill": true, "function|kill": true, "cluster|failover": true,
}

// TestRepliesWellFormed runs every command walrus has (and every
// subcommand of the containers) with a handful of argument patterns over
// keys of every type, in RESP3 and in RESP2, and reads each reply with
// a strict parser: a map's pairs, a set's and an array's elements must
// all be there, so a PING after each command answers PONG on a
// connection still in step. It checks no values: the differential tests
// do that where Redis is the reference.
func TestRepliesWellFormed(t *testing.T) {
	s := startServer(t, "--save", "")
	addr := s.Addr().String()
	var names []string
	for name := range s.table {
		names = append(names, name)
	}
	sort.Strings(names)
	patterns := [][]string{
		nil, {"s"}, {"h"}, {"l"}, {"z"}, {"set"}, {"x"}, {"missing"},
		{"z", "0", "-1"}, {"z", "0", "-1", "WITHSCORES"}, {"h", "f", "v"}, {"h", "-2", "WITHVALUES"},
		{"z", "-2", "WITHSCORES"}, {"set", "-2"}, {"x", "-", "+"}, {"x", "g", "0"},
		{"1", "s", "h"}, {"2", "z", "set", "WITHSCORES"}, {"l", "0"}, {"s", "a", "b"},
		{"x", "FULL"}, {"z", "1", "m1"}, {"geo", "g1", "g2"}, {"geo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHCOORD", "WITHDIST"},
	}
	for _, proto := range []string{"3", "2"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			r := dialRaw(t, addr)
			setup := func() {
				r.do("FLUSHALL")
				r.do("SET", "s", "v")
				r.do("HSET", "h", "f", "v", "g", "w")
				r.do("RPUSH", "l", "a", "b")
				r.do("ZADD", "z", "1", "m1", "2.5", "m2")
				r.do("SADD", "set", "a", "b")
				r.do("XADD", "x", "1-1", "f", "v")
				r.do("XGROUP", "CREATE", "x", "g", "0")
				r.do("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">")
				r.do("GEOADD", "geo", "13.36", "38.11", "g1", "15.08", "37.50", "g2")
			}
			r.do("HELLO", proto)
			setup()
			run := func(cmd []string) {
				t.Helper()
				r.send(cmd...)
				if _, _, err := r.readShape(); err != nil {
					t.Fatalf("%s: %v", quoteCmd(cmd), err)
				}
				if got := r.do("PING"); got != "+PONG" {
					t.Fatalf("after %s the connection is out of step: PING read %q", quoteCmd(cmd), got)
				}
			}
			for _, name := range names {
				if wellFormedSkipped[name] {
					continue
				}
				var heads [][]string
				if c, ok := redisContainers[name]; ok {
					for sub := range c.subs {
						if !wellFormedSubSkipped[name+"|"+sub] {
							heads = append(heads, []string{name, sub})
						}
					}
					sort.Slice(heads, func(i, j int) bool { return heads[i][1] < heads[j][1] })
				} else {
					heads = [][]string{{name}}
				}
				for _, head := range heads {
					for _, p := range patterns {
						run(append(append([]string(nil), head...), p...))
					}
					if strings.Contains(name, "flush") || name == "swapdb" || name == "select" || name == "function" {
						r.do("SELECT", "0")
						setup()
					}
				}
			}
			for _, cmd := range [][]string{
				{"CLIENT", "TRACKING", "on"}, {"CLIENT", "TRACKINGINFO"}, {"CLIENT", "TRACKING", "off"},
			} {
				run(cmd)
			}
		})
	}
}
