package engine

import (
	"fmt"
	"testing"

	"github.com/VictoriaMetrics/fastcache"
)

func TestRowCacheRefusesAStaleFill(t *testing.T) {
	rc := newRowCache(1 << 20)
	k := []byte("kkey")
	_, st, gen := rc.get(k)
	if st != rowUnknown {
		t.Fatal("empty cache knows a key")
	}
	// A reader read v1 from Pebble; meanwhile the committer wrote v2.
	rc.write(string(k), []byte("v2"))
	rc.fill(k, []byte("v1"), true, gen)
	if v, st, _ := rc.get(k); st != rowPresent || string(v) != "v2" {
		t.Fatalf("cache holds %q (%v), want the committer's v2", v, st)
	}
	rc.write(string(k), nil)
	if _, st, _ := rc.get(k); st != rowAbsent {
		t.Fatal("a deleted row is not known absent")
	}
	// A stale "absent" fill loses to a later write too.
	_, _, gen = rc.get(k)
	rc.write(string(k), []byte("v3"))
	rc.fill(k, nil, false, gen)
	if v, st, _ := rc.get(k); st != rowPresent || string(v) != "v3" {
		t.Fatalf("cache holds %q (%v), want v3", v, st)
	}
}

func TestRowCacheStaysWithinItsBound(t *testing.T) {
	const bound = 32 << 20 // fastcache's smallest size
	rc := newRowCache(bound)
	val := make([]byte, maxCachedRow)
	const rows = 3 * bound / maxCachedRow // three times what fits
	for i := 0; i < rows; i++ {
		rc.write(fmt.Sprintf("key%d", i), val)
	}
	var st fastcache.Stats
	rc.c.Load().UpdateStats(&st)
	if st.BytesSize > bound || st.MaxBytesSize > bound {
		t.Fatalf("cache holds %d bytes (max %d), bound %d", st.BytesSize, st.MaxBytesSize, bound)
	}
	if _, s, _ := rc.get([]byte("key0")); s != rowUnknown {
		t.Fatal("the oldest row was not evicted")
	}
	if v, s, _ := rc.get([]byte(fmt.Sprintf("key%d", rows-1))); s != rowPresent || len(v) != maxCachedRow {
		t.Fatal("the newest row is not cached")
	}
	// Larger values are not cached, and replace what was.
	rc.write("key0", []byte("small"))
	rc.write("key0", make([]byte, maxCachedRow+1))
	if _, s, _ := rc.get([]byte("key0")); s != rowUnknown {
		t.Fatal("a row over maxCachedRow left its old value cached")
	}
}

func TestReadsSeeWritesThroughTheRowCache(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	runSteps(t, e, s, []step{
		{"SET k v1", "OK"},
		{"GET k", "v1"}, // fills the cache
		{"SET k v2", "OK"},
		{"GET k", "v2"},
		{"FLUSHDB", "OK"},
		{"GET k", "(nil)"},
		{"SET k v3", "OK"},
		{"SWAPDB 0 1", "OK"},
		{"GET k", "(nil)"},
		{"SELECT 1", "OK"},
		{"GET k", "v3"},
	})
}

// A replica's applied writes update the rows its readers cached and add
// no others.
func TestReplicaCachesWhatItsReadersRead(t *testing.T) {
	replica := testEngine(t, Options{})
	replica.SetReplica(true)
	next := uint64(1)
	apply := func(line string) {
		t.Helper()
		if err := replica.Apply(next, [][]byte{encodeCommand(nil, args(line)...)}); err != nil {
			t.Fatal(err)
		}
		next++
	}
	cached := func(key string) rowState {
		_, st, _ := replica.rows.get(metaKey(nil, 0, []byte(key)))
		return st
	}
	apply("SET read v1 PREV none")
	apply("SET unread v1 PREV none")
	s := NewSession()
	runSteps(t, replica, s, []step{{"GET read", "v1"}}) // fills the cache
	apply("SET read v2 PREV string")
	apply("SET unread v2 PREV string")
	runSteps(t, replica, s, []step{{"GET read", "v2"}, {"GET unread", "v2"}})
	if st := cached("read"); st != rowPresent {
		t.Errorf("a row the replica's reader cached is %v after a write", st)
	}
	apply("SET fresh v PREV none")
	if st := cached("fresh"); st != rowUnknown {
		t.Errorf("a key only the master wrote is %v in the replica's cache, want not cached", st)
	}
	apply("DEL read")
	runSteps(t, replica, s, []step{{"GET read", "(nil)"}, {"EXISTS read", "(integer) 0"}})
}
