package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestObjectIdletimeAgainstRedis: OBJECT IDLETIME counts from a key's
// last use, and the commands that count as a use are Redis's: reads and
// writes do, TYPE, EXISTS, the TTL family, OBJECT and MEMORY USAGE do
// not, nor do the commands that walk the keyspace. Each command runs on
// a key of its own that has been idle for two seconds; right after, a
// used key is idle 0 or 1 seconds, an unused one 2 or more.
func TestObjectIdletimeAgainstRedis(t *testing.T) {
	steps := [][2][]string{ // setup, then the command; "K" is the key
		{{"SET", "K", "v"}, {"GET", "K"}},
		{{"SET", "K", "v"}, {"MGET", "K"}},
		{{"SET", "K", "v"}, {"TYPE", "K"}},
		{{"SET", "K", "v"}, {"EXISTS", "K"}},
		{{"SET", "K", "v", "EX", "100"}, {"TTL", "K"}},
		{{"SET", "K", "v", "EX", "100"}, {"PTTL", "K"}},
		{{"SET", "K", "v", "EX", "100"}, {"EXPIRETIME", "K"}},
		{{"SET", "K", "v"}, {"OBJECT", "ENCODING", "K"}},
		{{"SET", "K", "v"}, {"MEMORY", "USAGE", "K"}},
		{{"SET", "K", "v"}, {"DUMP", "K"}},
		{{"SET", "K", "v"}, {"TOUCH", "K"}},
		{{"SET", "K", "v"}, {"STRLEN", "K"}},
		{{"SET", "K", "v"}, {"APPEND", "K", "x"}},
		{{"SET", "K", "v"}, {"SET", "K", "w"}},
		{{"SET", "K", "v"}, {"EXPIRE", "K", "100"}},
		{{"SET", "K", "v", "EX", "100"}, {"PERSIST", "K"}},
		{{"SET", "K", "v"}, {"GETEX", "K"}},
		{{"SET", "K", "100000"}, {"INCR", "K"}}, // under 10000 Redis shares integer objects, and their idle times
		{{"SET", "K", "v"}, {"COPY", "K", "K:copy"}},
		{{"SET", "K", "v"}, {"KEYS", "K"}},
		{{"SET", "K", "v"}, {"SCAN", "0", "MATCH", "K", "COUNT", "1000"}},
		{{"HSET", "K", "f", "v"}, {"HGET", "K", "f"}},
		{{"HSET", "K", "f", "v"}, {"HSCAN", "K", "0"}},
		{{"RPUSH", "K", "a", "b"}, {"LRANGE", "K", "0", "-1"}},
		{{"RPUSH", "K", "a", "b"}, {"LPOP", "K"}},
		{{"SADD", "K", "a"}, {"SISMEMBER", "K", "a"}},
		{{"ZADD", "K", "1", "a"}, {"ZSCORE", "K", "a"}},
		{{"XADD", "K", "1-1", "f", "v"}, {"XLEN", "K"}},
		{{"PFADD", "K", "a"}, {"PFCOUNT", "K"}},
		{{"SET", "K", "v"}, {"SORT", "nosuchlist", "BY", "K"}},
	}
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		key := func(i int, args []string) []string {
			out := make([]string, len(args))
			for j, a := range args {
				out[j] = strings.ReplaceAll(a, "K", "k"+strconv.Itoa(i))
			}
			return out
		}
		for i, s := range steps {
			c.do(key(i, s[0])...)
		}
		idle := func(k string) int {
			n, _ := strconv.Atoi(strings.TrimPrefix(c.do("OBJECT", "IDLETIME", k), ":"))
			return n
		}
		waitFor(t, "keys idle for 2 s", 10*time.Second, func() bool { return idle("k0") >= 2 })
		for i, s := range steps {
			c.do(key(i, s[1])...)
		}
		var out []string
		for i, s := range steps {
			used := "used"
			if n := idle("k" + strconv.Itoa(i)); n >= 2 {
				used = "not used"
			}
			out = append(out, strings.Join(s[1], " ")+": "+used)
		}
		return out
	}
	want := run(redisServer(t))
	got := run(startServer(t).Addr().String())
	// RESTORE ... IDLETIME sets a key's idle time.
	for _, addr := range []string{redisServer(t), startServer(t).Addr().String()} {
		c := dialRaw(t, addr)
		c.do("SET", "k", "v")
		c.expect("+OK", "RESTORE", "r", "0", bulk(t, c.do("DUMP", "k")), "IDLETIME", "1000")
		if n, _ := strconv.Atoi(strings.TrimPrefix(c.do("OBJECT", "IDLETIME", "r"), ":")); n < 999 || n > 1001 {
			t.Errorf("%s: OBJECT IDLETIME %d after RESTORE ... IDLETIME 1000", addr, n)
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("walrus %s; redis %s", got[i], want[i])
		}
	}
}
