package server

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestObjectFreqAgainstRedis: under an LFU maxmemory-policy OBJECT FREQ
// gives a key's access counter and OBJECT IDLETIME is refused, and under
// an LRU one the other way round, with Redis's replies. With
// lfu-log-factor 0 every use adds one to the counter, so the counts are
// exact: a new key starts at 5, the commands that count as a use are
// Redis's, an overwritten key keeps its counter, and RESTORE sets it.
func TestObjectFreqAgainstRedis(t *testing.T) {
	steps := [][]string{
		{"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"},
		{"CONFIG", "SET", "lfu-log-factor", "0"},
		{"SET", "k", "v"}, {"OBJECT", "FREQ", "k"},
		{"GET", "k"}, {"OBJECT", "FREQ", "k"},
		{"TYPE", "k"}, {"EXISTS", "k"}, {"TTL", "k"}, {"OBJECT", "ENCODING", "k"}, {"OBJECT", "FREQ", "k"},
		{"SET", "k", "w"}, {"OBJECT", "FREQ", "k"},
		{"APPEND", "k", "x"}, {"MGET", "k", "k"}, {"OBJECT", "FREQ", "k"},
		{"OBJECT", "IDLETIME", "k"},
		{"OBJECT", "FREQ", "nosuchkey"},
		{"SET", "n", "123456"}, {"INCR", "n"}, {"INCRBY", "n", "2"}, {"OBJECT", "FREQ", "n"},
		{"HSET", "h", "f", "v"}, {"HGET", "h", "f"}, {"HSET", "h", "g", "w"}, {"OBJECT", "FREQ", "h"},
		{"RPUSH", "l", "a", "b"}, {"LPOP", "l"}, {"LRANGE", "l", "0", "-1"}, {"OBJECT", "FREQ", "l"},
		{"RESTORE", "r", "0", "DUMP:k", "FREQ", "100"}, {"OBJECT", "FREQ", "r"},
		{"GET", "r"}, {"OBJECT", "FREQ", "r"},
		{"RESTORE", "r", "0", "DUMP:k", "REPLACE"}, {"OBJECT", "FREQ", "r"},
		{"RESTORE", "r", "0", "DUMP:k", "REPLACE", "IDLETIME", "100"}, {"OBJECT", "FREQ", "r"},
		{"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"},
		{"OBJECT", "FREQ", "k"},
		{"CONFIG", "SET", "maxmemory-policy", "volatile-lfu"},
		{"OBJECT", "FREQ", "k"},
	}
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		c.do("SET", "src", "payload")
		dump := bulk(t, c.do("DUMP", "src"))
		var out []string
		for _, s := range steps {
			args := append([]string(nil), s...)
			for i, a := range args {
				if a == "DUMP:k" {
					args[i] = dump
				}
			}
			out = append(out, strings.Join(s, " ")+" -> "+c.do(args...))
		}
		return out
	}
	want := run(redisServer(t))
	got := run(startServer(t).Addr().String())
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("walrus %s\n  redis %s", got[i], want[i])
		}
	}
}

// TestHotkeysOfRedisCli: `redis-cli --hotkeys`, which reads OBJECT FREQ
// of every key, finds walrus's most used key under an LFU policy.
func TestHotkeysOfRedisCli(t *testing.T) {
	cli := redisCLI(t)
	s := startServer(t, "--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0")
	c := dialRaw(t, s.Addr().String())
	for _, k := range []string{"cold", "warm", "hot"} {
		c.do("SET", k, "v")
	}
	for range 20 {
		c.do("GET", "hot")
	}
	for range 5 {
		c.do("GET", "warm")
	}
	host, port, err := net.SplitHostPort(s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cli, "-h", host, "-p", port, "--hotkeys").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --hotkeys: %v\n%s", err, out)
	}
	for _, want := range []string{"hot key found with counter: 25\tkeyname: \"hot\"", "hot key found with counter: 10\tkeyname: \"warm\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("redis-cli --hotkeys printed no %q:\n%s", want, out)
		}
	}
}

// TestRestoreIdleAndFreqReachReplicas: RESTORE's IDLETIME and FREQ travel
// with the entry, so a replica's copy of the key is as idle, or as
// frequently used, as the master's, as Redis replicates the command.
func TestRestoreIdleAndFreqReachReplicas(t *testing.T) {
	_, _, mc, rc := masterAndReplica(t)
	mc.do("SET", "src", "v")
	payload := bulk(t, mc.do("DUMP", "src"))
	mc.expect("+OK", "RESTORE", "idle", "0", payload, "IDLETIME", "1000")
	waitConverged(t, mc, rc)
	if n, _ := strconv.Atoi(strings.TrimPrefix(rc.do("OBJECT", "IDLETIME", "idle"), ":")); n < 999 || n > 1001 {
		t.Errorf("replica: OBJECT IDLETIME %d after RESTORE ... IDLETIME 1000 on the master", n)
	}
	for _, c := range []*rawConn{mc, rc} {
		c.expect("+OK", "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	}
	mc.expect("+OK", "RESTORE", "freq", "0", payload, "FREQ", "42")
	waitConverged(t, mc, rc)
	rc.expect(":42", "OBJECT", "FREQ", "freq")
}
