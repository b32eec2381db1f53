package server

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/walrus-kv/walrus/server/config"
)

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

// TestMaxmemorySizesCachesAndGoMemoryLimit: a master with its dataset in
// memory and maxmemory set at start sizes its block and row caches to an
// eighth of the limit (the row cache counts in used_memory), and again at
// each CONFIG SET maxmemory, sets Go's memory limit to maxmemory while
// the limit is acted on, and lifts it when the limit goes and when the
// server stops.
func TestMaxmemorySizesCachesAndGoMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: walrus leaves Go's memory limit alone (test skipped)")
	}
	for _, tc := range []struct {
		persistent bool
		maxmemory  int64
		want       int64
	}{{false, 0, 0}, {true, 1 << 30, 0}, {false, 400 << 20, 50 << 20}, {false, 100 << 20, 32 << 20}, {false, 4 << 30, 128 << 20}} {
		if got := cacheBytes(tc.persistent, tc.maxmemory); got != tc.want {
			t.Errorf("cacheBytes(persistent %v, maxmemory %d) = %d, want %d", tc.persistent, tc.maxmemory, got, tc.want)
		}
	}

	cfg, err := config.Load("", []string{"--port", strconv.Itoa(freePort(t)), "--dir", t.TempDir(), "--save", "", "--appendonly", "no", "--maxmemory", "200mb"})
	if err != nil {
		t.Fatal(err)
	}
	s, stop := runServer(t, cfg)
	c := dialRaw(t, s.Addr().String())
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("Go's memory limit %d while maxmemory is 200mb", got)
	}
	c.expect("+OK", "SET", "k", "v")
	c.expect("$v", "GET", "k")
	rows, err := strconv.ParseInt(infoField(t, c, "memory", "walrus_row_cache_bytes"), 10, 64)
	if err != nil || rows <= 0 || rows > 32<<20 {
		t.Errorf("walrus_row_cache_bytes %d (%v): want some, at most 32 MiB", rows, err)
	}
	if got := infoField(t, c, "memory", "walrus_key_filter_bytes"); got != "2097152" {
		t.Errorf("walrus_key_filter_bytes %s: want 2097152, the filter of a new store", got)
	}
	caches := func(when string, want int64) {
		t.Helper()
		if block, rows := s.eng.CacheBytes(); block != want || rows != want {
			t.Errorf("%s: block cache %d, row cache %d; want %d each", when, block, rows, want)
		}
	}
	caches("maxmemory 200mb at start", 32<<20)
	c.expect("+OK", "CONFIG", "SET", "maxmemory", "0")
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("Go's memory limit %d after CONFIG SET maxmemory 0", got)
	}
	caches("CONFIG SET maxmemory 0", 128<<20)
	c.expect("+OK", "CONFIG", "SET", "maxmemory", "300mb")
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("Go's memory limit %d after CONFIG SET maxmemory 300mb", got)
	}
	caches("CONFIG SET maxmemory 300mb", 300<<20/8)
	c.expect("$v", "GET", "k") // from the store: the row cache started over
	stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("Go's memory limit %d after the server stopped", got)
	}
}
