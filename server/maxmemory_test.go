package server

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMaxmemoryAgainstRedis: over maxmemory (1 byte, so always over),
// walrus with persistence off refuses what Redis refuses under
// noeviction, reply for reply: denyoom commands and subcommands,
// anything queued in MULTI, an EXEC whose queue would grow the dataset,
// FCALL of a function that may write, a script's first write; and lets
// the rest run: reads, deletions, allow-oom and no-writes functions, a
// script's writes after one that cannot grow the dataset.
func TestMaxmemoryAgainstRedis(t *testing.T) {
	lib := "#!lua name=lib\n" +
		"redis.register_function('w', function(keys) return redis.call('SET', keys[1], 'w') end)\n" +
		"redis.register_function{function_name='r', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n" +
		"redis.register_function{function_name='o', callback=function(keys) return redis.call('SET', keys[1], 'o') end, flags={'allow-oom'}}"
	steps := [][]string{
		{"SET", "k", "v"}, {"RPUSH", "l", "b", "a"}, {"SADD", "s", "m"}, {"XADD", "x", "1-1", "f", "v"},
		{"FUNCTION", "LOAD", lib},
		{"CONFIG", "SET", "maxmemory", "1"},
		{"SET", "k", "v2"}, {"APPEND", "k", "x"}, {"INCR", "n"}, {"RPUSH", "l", "c"}, {"LSET", "l", "0", "z"},
		{"SADD", "s", "m2"}, {"ZADD", "z", "1", "m"}, {"HSET", "h", "f", "v"}, {"PFADD", "p", "a"},
		{"XADD", "x", "2-1", "f", "v"}, {"XGROUP", "CREATE", "x", "g", "0"}, {"SORT", "l", "ALPHA"},
		{"SETRANGE", "k", "0", "x"}, {"COPY", "k", "k2"}, {"FUNCTION", "LOAD", "REPLACE", lib},
		{"GET", "k"}, {"LRANGE", "l", "0", "-1"}, {"LPOP", "l"}, {"SREM", "s", "m"}, {"DEL", "s"},
		{"EXPIRE", "k", "100"}, {"PERSIST", "k"}, {"XDEL", "x", "1-1"}, {"XTRIM", "x", "MAXLEN", "0"},
		{"PING"}, {"PUBLISH", "c", "m"}, {"SELECT", "0"}, {"DBSIZE"},
		{"MULTI"}, {"GET", "k"}, {"PING"}, {"EXEC"},
		{"MULTI"}, {"SET", "k", "v"}, {"DISCARD"},
		{"EVAL", "return redis.call('SET', KEYS[1], 'e')", "1", "k"},
		{"EVAL", "return redis.pcall('SET', KEYS[1], 'e')", "1", "k"},
		{"EVAL", "return redis.call('GET', KEYS[1])", "1", "k"},
		{"EVAL", "redis.call('DEL', KEYS[1]) return redis.call('SET', KEYS[1], 'e')", "1", "k"},
		{"FCALL", "w", "1", "k"}, {"FCALL_RO", "w", "1", "k"}, {"FCALL", "r", "1", "k"}, {"FCALL", "o", "1", "k"},
		{"FCALL", "nosuch", "0"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"SET", "k", "v3"}, {"MULTI"}, {"SET", "k", "v4"}, {"GET", "k"},
	}
	run := func(addr string) []string {
		c, other := dialRaw(t, addr), dialRaw(t, addr)
		var out []string
		for _, s := range steps {
			out = append(out, c.do(s...))
		}
		// An EXEC whose queue holds a write that may grow the dataset,
		// over the limit by the time it comes.
		other.expect("+OK", "CONFIG", "SET", "maxmemory", "1")
		out = append(out, c.do("EXEC"))
		c.do("MULTI")
		c.do("DEL", "k")
		out = append(out, c.do("EXEC"))
		other.expect("+OK", "CONFIG", "SET", "maxmemory", "0")
		return out
	}
	want := run(redisServer(t))
	w := startServer(t, "--save", "", "--appendonly", "no")
	got := run(w.Addr().String())
	for i := range want {
		if got[i] != want[i] {
			name := "EXEC"
			if i < len(steps) {
				name = strings.Join(steps[i], " ")
			}
			t.Errorf("%.60q: walrus %q, redis %q", name, got[i], want[i])
		}
	}
	if !strings.Contains(want[6], "OOM") || !strings.Contains(want[len(want)-2], "EXECABORT") {
		t.Fatalf("Redis did not refuse: %q, %q", want[6], want[len(want)-2])
	}
}

// TestMaxmemoryFollowsTheDataset: with persistence off the dataset is in
// memory, and used_memory follows it: writes are refused while a fill
// keeps used_memory over maxmemory, and accepted again once FLUSHALL has
// freed it (walrus compacts the store and collects the garbage): the
// limit is under what the keys alone take.
func TestMaxmemoryFollowsTheDataset(t *testing.T) {
	// A limit over what the keys take, with the caches already at the
	// size the limit below gives them (32 MiB): setting it frees nothing.
	c := dialRaw(t, startServer(t, "--save", "", "--appendonly", "no", "--maxmemory", "256mb").Addr().String())
	used := func() int64 {
		n, err := strconv.ParseInt(infoField(t, c, "memory", "used_memory"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// 30,000 keys of 400 random bytes: 12 MB that does not compress.
	fillRandom(t, c, "key:", 30000, 1)
	filled, tables := settledMemory(t, c)
	limit := filled - tables/2
	c.expect("+OK", "CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	waitFor(t, "writes refused", 10*time.Second, func() bool { return strings.HasPrefix(c.do("SET", "k", "v"), "-OOM") })
	if got := infoField(t, c, "memory", "maxmemory"); got != strconv.FormatInt(limit, 10) {
		t.Fatalf("INFO maxmemory:%s, want %d", got, limit)
	}
	c.expect("+OK", "FLUSHALL")
	waitFor(t, "writes accepted after FLUSHALL", 30*time.Second, func() bool { return c.do("SET", "k", "v") == "+OK" })
	if u := used(); u > limit {
		t.Fatalf("writes accepted with used_memory %d over maxmemory %d", u, limit)
	}
}

// fillRandom sets keys prefix0 to prefix(n-1) to 400 random bytes each
// (base64 of 300: it does not compress), 1000 to a pipeline.
func fillRandom(t *testing.T, c *rawConn, prefix string, n int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	val := make([]byte, 300)
	for i := 0; i < n; i += 1000 {
		end := min(i+1000, n)
		for j := i; j < end; j++ {
			for k := range val {
				val[k] = byte(r.Uint32())
			}
			c.send("SET", prefix+strconv.Itoa(j), base64.StdEncoding.EncodeToString(val))
		}
		for j := i; j < end; j++ {
			if s, err := c.read(); s != "+OK" {
				t.Fatalf("SET %s%d: %q %v", prefix, j, s, err)
			}
		}
	}
}

// settledMemory brings an in-memory walrus to rest and returns its
// used_memory and the bytes of its store's tables: what deleting keys
// can free (the memtables' arenas and the heap's own stay). Once the
// keys are flushed and L0 compacted (walrus does it when writes pause),
// deletions wait in a memtable: walrus's compaction over the limit frees
// them at once (without it they would go at the periodic flush, every
// 10 s; the engine's TestReclaimFreesDeletedKeys checks the compaction
// itself).
func settledMemory(t *testing.T, c *rawConn) (used, tables int64) {
	t.Helper()
	c.do("BGREWRITEAOF")
	waitFor(t, "L0 compacted", 30*time.Second, func() bool { return infoField(t, c, "memory", "walrus_pebble_l0_tables") == "0" })
	c.expect("+OK", "MEMORY", "PURGE") // what is left is live
	used, err := strconv.ParseInt(infoField(t, c, "memory", "used_memory"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	tables, err = strconv.ParseInt(infoField(t, c, "memory", "walrus_pebble_disk_bytes"), 10, 64)
	if err != nil || tables < 8<<20 {
		t.Fatalf("the keys take %d bytes of tables (%v); the test wants over 8 MB", tables, err)
	}
	return used, tables
}

// TestMaxmemoryOnlyWithTheDatasetInMemory: with persistence on the
// dataset is on disk and maxmemory is not acted on; INFO still shows it.
func TestMaxmemoryOnlyWithTheDatasetInMemory(t *testing.T) {
	c := dialRaw(t, startServer(t, "--appendonly", "yes", "--maxmemory", "1", "--maxmemory-policy", "allkeys-lru").Addr().String())
	c.expect("+OK", "SET", "k", "v")
	info := c.do("INFO", "memory")
	if infoValue(info, "maxmemory") != "1" || infoValue(info, "maxmemory_policy") != "allkeys-lru" {
		t.Fatalf("INFO memory: %s", info)
	}
}
