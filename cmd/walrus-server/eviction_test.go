package main

import (
	"context"
	"encoding/base64"
	"math/rand/v2"
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
//
// Master and replica are separate processes, as they are in use: in one
// process the master's used_memory (the Go heap's) would count the
// replica's dataset too, and the replica's applying the evictions would
// push it up while the master evicts, so that it evicted far more than
// it needed.
func TestEvictionKeepsRecentlyUsedKeys(t *testing.T) {
	// A maxmemory over what the keys take, with the caches already at
	// the size the limit below gives them (32 MiB), so that setting that
	// limit frees nothing (TestConfigSetMaxmemoryResizesTheCaches).
	m := startNode(t, "", "--save", "", "--appendonly", "no", "--maxmemory", "256mb", "--maxmemory-samples", "10")
	r := startNode(t, "", "--save", "", "--appendonly", "no", "--maxmemory", "1", "--maxmemory-policy", "allkeys-random",
		"--replicaof", "127.0.0.1", strconv.Itoa(m.port))
	ctx := context.Background()

	const cold, hot = 27000, 3000
	fillRandom(t, m, "cold:", cold, 1)
	// The access clock counts seconds, as Redis's LRU clock does: the last
	// cold key written must be idle for two before the hot keys are
	// written, or the two kinds may share a second and tie.
	last := "cold:" + strconv.Itoa(cold-1)
	waitFor(t, "cold keys idle", 10*time.Second, func() bool { return m.rdb.ObjectIdleTime(ctx, last).Val() >= 2*time.Second })
	fillRandom(t, m, "hot:", hot, 2)

	// At rest: the keys flushed and L0 compacted (walrus does it when
	// writes pause), the garbage collected, what is left is live.
	m.must("BGREWRITEAOF")
	waitFor(t, "L0 compacted", 30*time.Second, func() bool { return m.info("memory", "walrus_pebble_l0_tables") == "0" })
	m.must("MEMORY", "PURGE")
	used, tables := int64(atoi(m.info("memory", "used_memory"))), int64(atoi(m.info("memory", "walrus_pebble_disk_bytes")))
	if tables < 8<<20 {
		t.Fatalf("the keys take %d bytes of tables; the test wants over 8 MB", tables)
	}
	waitLinkUp(t, r)

	m.must("CONFIG", "SET", "notify-keyspace-events", "Ee")
	sub := m.rdb.Subscribe(ctx, "__keyevent@0__:evicted")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}

	// Deleting keys frees at most their tables: a limit half of them
	// below used_memory needs some keys evicted, not all the idle ones.
	limit := used - tables/2
	m.must("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	m.must("CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	waitFor(t, "used_memory under maxmemory", 30*time.Second, func() bool { return int64(atoi(m.info("memory", "used_memory"))) <= limit })
	if err := m.rdb.Set(ctx, "after", "v", 0).Err(); err != nil {
		t.Fatalf("SET under allkeys-lru at the limit: %v", err)
	}

	evicted := atoi(m.info("stats", "evicted_keys"))
	if evicted == 0 || evicted >= cold {
		t.Fatalf("evicted_keys %d; want some of the %d idle keys", evicted, cold)
	}
	t.Logf("used_memory %d, tables %d, maxmemory %d: %d keys evicted", used, tables, limit, evicted)
	if got, want := m.rdb.DBSize(ctx).Val(), int64(cold+hot+1-evicted); got != want {
		t.Errorf("DBSIZE %d, want %d (%d keys less %d evicted)", got, want, cold+hot+1, evicted)
	}
	hotKeys := make([]string, hot)
	for i := range hotKeys {
		hotKeys[i] = "hot:" + strconv.Itoa(i)
	}
	if got := m.rdb.Exists(ctx, hotKeys...).Val(); got != hot {
		t.Errorf("EXISTS of the %d recently written keys: %d", hot, got)
	}
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := sub.ReceiveMessage(wait) // the first event
	if err != nil || msg.Channel != "__keyevent@0__:evicted" || !strings.HasPrefix(msg.Payload, "cold:") {
		t.Errorf("the first evicted event: %v (%v)", msg, err)
	}

	waitConverged(t, m, r)
	if got := r.info("stats", "evicted_keys"); got != "0" {
		t.Errorf("the replica evicted %s keys of its own", got)
	}
}

// fillRandom writes count keys prefix<i> with random 400-byte values, in
// pipelines of 1000: values that do not compress, so that the tables'
// size is the keys'.
func fillRandom(t *testing.T, n *node, prefix string, count int, seed uint64) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 2))
	val := make([]byte, 300)
	for i := 0; i < count; i += 1000 {
		p := n.rdb.Pipeline()
		for j := i; j < min(i+1000, count); j++ {
			for k := range val {
				val[k] = byte(r.Uint32())
			}
			p.Set(ctx, prefix+strconv.Itoa(j), base64.StdEncoding.EncodeToString(val), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("fill %s: %v", prefix, err)
		}
	}
}

// TestConfigSetMaxmemoryResizesTheCaches: a master whose row cache filled
// as it took writes with no maxmemory, given one at runtime that its
// keys fit in but its caches at their default size do not, shrinks the
// caches as it would have sized them at start, collects its garbage, and
// evicts no key, as Redis, whose used_memory is the keys, evicts none
// under a limit they fit in.
func TestConfigSetMaxmemoryResizesTheCaches(t *testing.T) {
	m := startNode(t, "", "--save", "", "--appendonly", "no")
	const keys = 150_000
	fillRandom(t, m, "k:", keys, 1)
	m.must("MEMORY", "PURGE")
	used, rows := int64(atoi(m.info("memory", "used_memory"))), int64(atoi(m.info("memory", "walrus_row_cache_bytes")))
	if rows < 48<<20 {
		t.Fatalf("the row cache holds %d bytes after the writes; the test wants over 48 MiB", rows)
	}
	// Below used_memory by less than the row cache can give back (down
	// to 32 MiB at this limit), by far more than the slack eviction allows.
	limit := used - (rows-32<<20)/2
	// Garbage the heap holds until a collection: reading every key.
	ctx := context.Background()
	for i := 0; i < keys; i += 1000 {
		p := m.rdb.Pipeline()
		for j := i; j < min(i+1000, keys); j++ {
			p.Get(ctx, "k:"+strconv.Itoa(j))
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m.must("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
	m.must("CONFIG", "SET", "maxmemory", strconv.FormatInt(limit, 10))
	waitFor(t, "used_memory under maxmemory", 30*time.Second, func() bool { return int64(atoi(m.info("memory", "used_memory"))) <= limit })
	evicted := atoi(m.info("stats", "evicted_keys"))
	t.Logf("used_memory %d with a row cache of %d; maxmemory %d: %d keys evicted, row cache %s", used, rows, limit, evicted, m.info("memory", "walrus_row_cache_bytes"))
	if got := int64(atoi(m.info("memory", "walrus_row_cache_bytes"))); got > 32<<20 {
		t.Errorf("the row cache holds %d bytes under maxmemory %d; want at most 32 MiB", got, limit)
	}
	if evicted != 0 {
		t.Errorf("%d of %d keys evicted to get under a limit the keys fit in", evicted, keys)
	}
}
