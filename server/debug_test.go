package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDebugPopulate: DEBUG POPULATE's keys, values, sizes, errors and
// kept keys, reply for reply with Redis; on walrus its keys replicate.
func TestDebugPopulate(t *testing.T) {
	scenario := func(t *testing.T, addr string) {
		r := dialRaw(t, addr)
		for _, st := range []struct {
			cmd  []string
			want string
		}{
			{[]string{"SET", "key:0", "mine"}, "+OK"},
			{[]string{"DEBUG", "POPULATE", "10"}, "+OK"},
			{[]string{"DBSIZE"}, ":10"},
			{[]string{"GET", "key:0"}, "$mine"},
			{[]string{"GET", "key:9"}, "$value:9"},
			{[]string{"DEBUG", "POPULATE", "3", "p", "10"}, "+OK"},
			{[]string{"GET", "p:2"}, "$value:2\x00\x00\x00"},
			{[]string{"DEBUG", "POPULATE", "2", "q", "3"}, "+OK"},
			{[]string{"GET", "q:1"}, "$val"},
			{[]string{"DEBUG", "POPULATE", "0"}, "+OK"},
			{[]string{"DEBUG", "POPULATE", "-1"}, "-ERR value is out of range, must be positive"},
			{[]string{"DEBUG", "POPULATE", "x"}, "-ERR value is out of range, must be positive"},
			{[]string{"DEBUG", "POPULATE", "1", "p", "-5"}, "-ERR value is out of range, must be positive"},
			{[]string{"DEBUG", "POPULATE", "1", strings.Repeat("l", 200)}, "+OK"},
			{[]string{"STRLEN", strings.Repeat("l", 127)}, ":7"},
			{[]string{"DBSIZE"}, ":16"},
		} {
			if got := r.do(st.cmd...); got != st.want {
				t.Fatalf("%.60v: %q, want %q", st.cmd, got, st.want)
			}
		}
	}
	t.Run("walrus", func(t *testing.T) { scenario(t, startServer(t).Addr().String()) })
	t.Run("redis", func(t *testing.T) { scenario(t, redisServer(t, "--enable-debug-command", "yes")) })
	t.Run("replicated", func(t *testing.T) {
		_, rs, mc, rc := masterAndReplica(t)
		mc.expect("+OK", "DEBUG", "POPULATE", "2000")
		waitFor(t, "the replica to hold the keys", 10*time.Second, func() bool { return rc.do("DBSIZE") == ":2000" })
		if got, want := rc.do("DEBUG", "DIGEST"), mc.do("DEBUG", "DIGEST"); got != want {
			t.Fatalf("replica %s digest %s, master's %s", rs.Addr(), got, want)
		}
	})
}

// TestDebugObject: DEBUG OBJECT's fields beside Redis's (all but the
// value's address and the LRU clock, which name no shared thing), and a
// lookup that counts as neither hit nor miss.
func TestDebugObject(t *testing.T) {
	scenario := func(t *testing.T, addr string) {
		r := dialRaw(t, addr)
		r.expect("-ERR no such key", "DEBUG", "OBJECT", "nokey")
		r.expect("+OK", "SET", "s", "val1")
		r.expect("+OK", "SET", "n", "12345")
		r.expect("+OK", "SET", "long", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN") // LZF leaves it as is
		r.expect(":1", "HSET", "h", "f", "v")
		hits := infoField(t, r, "stats", "keyspace_hits")
		for _, c := range []struct{ key, want string }{
			{"s", "refcount:1 encoding:embstr serializedlength:5 lru_seconds_idle:0"},
			{"n", "refcount:1 encoding:int serializedlength:3 lru_seconds_idle:0"},
			{"long", "refcount:1 encoding:raw serializedlength:51 lru_seconds_idle:0"},
			{"h", "refcount:1 encoding:listpack lru_seconds_idle:0"},
		} {
			line := r.do("DEBUG", "OBJECT", c.key)
			if !strings.HasPrefix(line, "+Value at:") {
				t.Fatalf("DEBUG OBJECT %s = %q", c.key, line)
			}
			var kept []string
			for _, f := range strings.Fields(line)[2:] {
				if strings.HasPrefix(f, "lru:") || c.key == "h" && strings.HasPrefix(f, "serializedlength:") {
					continue // a clock; a listpack's bytes
				}
				kept = append(kept, f)
			}
			if got := strings.Join(kept, " "); got != c.want {
				t.Errorf("DEBUG OBJECT %s: %q, want %q (from %q)", c.key, got, c.want, line)
			}
		}
		if got := infoField(t, r, "stats", "keyspace_hits"); got != hits {
			t.Errorf("keyspace_hits %s after DEBUG OBJECT, %s before", got, hits)
		}
	}
	t.Run("walrus", func(t *testing.T) { scenario(t, startServer(t).Addr().String()) })
	t.Run("redis", func(t *testing.T) { scenario(t, redisServer(t, "--enable-debug-command", "yes")) })
}

// TestDebugErrorLogAndActiveExpire: DEBUG ERROR, LOG, SET-ACTIVE-EXPIRE
// and an unknown subcommand, against both servers (Redis with its DEBUG
// command enabled, as walrus's is).
func TestDebugErrorLogAndActiveExpire(t *testing.T) {
	for name, addr := range map[string]func() string{
		"walrus": func() string { return startServer(t).Addr().String() },
		"redis":  func() string { return redisServer(t, "--enable-debug-command", "yes") },
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, addr())
			c.expect("-foo  bar", "DEBUG", "ERROR", "foo\r\nbar") // each of CR and LF a space
			c.expect("+OK", "DEBUG", "LOG", "hello from a test")
			c.expect("-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP.", "DEBUG", "NOSUCH")
			if got := c.do("DEBUG", "HELP"); !strings.HasPrefix(got, "[+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:") {
				t.Errorf("DEBUG HELP = %.80q", got)
			}
			c.expect("+OK", "DEBUG", "SET-ACTIVE-EXPIRE", "0")
			c.expect("+OK", "SET", "k", "v", "PX", "50")
			time.Sleep(500 * time.Millisecond) // an absence: nothing may expire the key
			c.expect(":1", "DBSIZE")
			c.expect("+OK", "DEBUG", "SET-ACTIVE-EXPIRE", "1")
			waitFor(t, "the key expired by active expiry", 10*time.Second, func() bool { return c.do("DBSIZE") == ":0" })
		})
	}
}

// TestObjectEncodingFollowsRedisThresholds: OBJECT ENCODING by Redis's
// thresholds, against both servers: by default integer sets are intsets
// up to 512 members, hashes listpacks up to 512 entries and sorted sets
// up to 128, of at most 64 bytes each; CONFIG SET moves them.
func TestObjectEncodingFollowsRedisThresholds(t *testing.T) {
	long := strings.Repeat("x", 65)
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		var ints, many []string
		for i := range 513 {
			ints = append(ints, strconv.Itoa(i-3))
			many = append(many, strconv.Itoa(i), "m"+strconv.Itoa(i)) // a hash's field and value, a sorted set's score and member
		}
		for _, tc := range []struct {
			setup []string
			want  string
		}{
			{[]string{"SADD", "s1", "1", "-2", "300"}, "intset"},
			{append([]string{"SADD", "s2"}, ints[:512]...), "intset"},
			{append([]string{"SADD", "s3"}, ints...), "hashtable"},
			{[]string{"SADD", "s4", "1", "a"}, "hashtable"},
			{[]string{"SADD", "s5", "01"}, "hashtable"}, // not an integer as Redis reads one
			{[]string{"HSET", "h1", "f", strings.Repeat("x", 64)}, "listpack"},
			{[]string{"HSET", "h2", "f", long}, "hashtable"},
			{[]string{"HSET", "h3", long, "v"}, "hashtable"},
			{append([]string{"HSET", "h4"}, many[:1024]...), "listpack"},
			{append([]string{"HSET", "h5"}, many...), "hashtable"},
			{append([]string{"ZADD", "z3"}, many[:256]...), "listpack"},
			{append([]string{"ZADD", "z4"}, many[:258]...), "skiplist"},
			{[]string{"ZADD", "z1", "1", "a"}, "listpack"},
			{[]string{"ZADD", "z2", "1", long}, "skiplist"},
			{[]string{"RPUSH", "l1", "a"}, "quicklist"},
			{[]string{"CONFIG", "SET", "zset-max-listpack-entries", "1"}, ""},
			{[]string{"ZADD", "z5", "1", "a", "2", "b"}, "skiplist"},
			{[]string{"CONFIG", "SET", "set-max-intset-entries", "2"}, ""},
			{[]string{"SADD", "s6", "1", "2", "3"}, "hashtable"},
		} {
			if tc.want == "" {
				c.expect("+OK", tc.setup...)
				continue
			}
			c.do(tc.setup...)
			if got := c.do("OBJECT", "ENCODING", tc.setup[1]); got != "$"+tc.want {
				t.Errorf("%s %s ...: OBJECT ENCODING %s, want %s", tc.setup[0], tc.setup[1], got, tc.want)
			}
		}
	})
}
