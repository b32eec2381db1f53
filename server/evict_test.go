package server

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEvictionKeepsRecentlyUsedKeys: a master with persistence off under
// allkeys-lru and a maxmemory its keys exceed evicts keys idle for
// seconds, never the ones just written, until used_memory is under the
// limit; writes go on being accepted; each eviction is counted in INFO,
// announced as an "evicted" keyspace event, and reaches the replica as a
// DEL, so the replica ends with the master's dataset (its own maxmemory
// ignored, as a Redis replica's is).
func TestEvictionKeepsRecentlyUsedKeys(t *testing.T) {
	m := startServer(t, "--save", "", "--appendonly", "no", "--maxmemory-samples", "10")
	host, p, _ := strings.Cut(m.Addr().String(), ":")
	r := startServer(t, "--save", "", "--appendonly", "no", "--maxmemory", "1", "--maxmemory-policy", "allkeys-random", "--replicaof", host, p)
	mc, rc := dialRaw(t, m.Addr().String()), dialRaw(t, r.Addr().String())

	const cold, hot = 27000, 3000
	fillRandom(t, mc, "cold:", cold, 1)
	// The access clock counts seconds, as Redis's LRU clock does.
	waitFor(t, "cold keys idle", 10*time.Second, func() bool {
		n, _ := strconv.Atoi(strings.TrimPrefix(mc.do("OBJECT", "IDLETIME", "cold:0"), ":"))
		return n >= 2
	})
	fillRandom(t, mc, "hot:", hot, 2)
	used, tables := settledMemory(t, mc)
	waitFor(t, "link up", 20*time.Second, func() bool { return infoField(t, rc, "replication", "master_link_status") == "up" })

	sub := dialRaw(t, m.Addr().String())
	mc.expect("+OK", "CONFIG", "SET", "notify-keyspace-events", "Ee")
	sub.do("SUBSCRIBE", "__keyevent@0__:evicted")

	limit := used - tables/2
	mc.expect("+OK", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	mc.expect("+OK", "CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	waitFor(t, "used_memory under maxmemory", 30*time.Second, func() bool {
		n, err := strconv.ParseInt(infoField(t, mc, "memory", "used_memory"), 10, 64)
		return err == nil && n <= limit
	})
	if got := mc.do("SET", "after", "v"); got != "+OK" {
		t.Fatalf("SET under allkeys-lru at the limit: %q", got)
	}

	evicted, err := strconv.Atoi(infoField(t, mc, "stats", "evicted_keys"))
	if err != nil || evicted == 0 || evicted >= cold {
		t.Fatalf("evicted_keys %d (%v); want some of the %d idle keys", evicted, err, cold)
	}
	if got, want := mc.do("DBSIZE"), ":"+strconv.Itoa(cold+hot+1-evicted); got != want {
		t.Errorf("DBSIZE %s, want %s (%d keys less %d evicted)", got, want, cold+hot+1, evicted)
	}
	hotKeys := []string{"EXISTS"}
	for i := range hot {
		hotKeys = append(hotKeys, "hot:"+strconv.Itoa(i))
	}
	if got := mc.do(hotKeys...); got != ":"+strconv.Itoa(hot) {
		t.Errorf("EXISTS of the %d recently written keys: %s", hot, got)
	}
	msg, err := sub.read() // the first event
	if err != nil || !strings.Contains(msg, "__keyevent@0__:evicted") || !strings.Contains(msg, "cold:") {
		t.Errorf("the first evicted event: %q (%v)", msg, err)
	}

	waitConverged(t, mc, rc)
	if got := infoField(t, rc, "stats", "evicted_keys"); got != "0" {
		t.Errorf("the replica evicted %s keys of its own", got)
	}
}

// TestEvictionAgainstRedis: under maxmemory 1 (always over), volatile-ttl
// evicts the keys with a TTL and then refuses writes with Redis's OOM
// error, allkeys-random then evicts the rest; reply for reply as Redis,
// evicted_keys included.
func TestEvictionAgainstRedis(t *testing.T) {
	steps := [][]string{
		{"SET", "a", "1"}, {"SET", "b", "2", "EX", "100"}, {"HSET", "c", "f", "v"}, {"EXPIRE", "c", "200"},
		{"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"},
		{"CONFIG", "SET", "maxmemory", "1"},
		{"SET", "d", "4"}, {"EXISTS", "a", "b", "c"}, {"GET", "a"}, {"DEL", "nosuch"},
		{"CONFIG", "SET", "maxmemory-policy", "allkeys-random"},
		{"SET", "d", "4"}, {"DBSIZE"}, {"GET", "a"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"SET", "d", "4"}, {"GET", "d"},
	}
	run := func(addr string) []string {
		c := dialRaw(t, addr)
		c.expect("+OK", "CONFIG", "RESETSTAT")
		var out []string
		for _, s := range steps {
			out = append(out, c.do(s...))
			if s[0] == "SET" || s[0] == "GET" {
				out = append(out, "evicted_keys:"+infoField(t, c, "stats", "evicted_keys"))
			}
		}
		return out
	}
	want := run(redisServer(t))
	got := run(startServer(t, "--save", "", "--appendonly", "no").Addr().String())
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d: walrus %q, redis %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(strings.Join(want, " "), "OOM") {
		t.Fatalf("Redis refused nothing: %q", want)
	}
}
