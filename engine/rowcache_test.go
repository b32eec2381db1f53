package engine

import (
	"fmt"
	"testing"
)

func TestRowCacheRefusesAStaleFill(t *testing.T) {
	rc := newRowCache(1 << 20)
	k := []byte("kkey")
	_, ok, gen := rc.get(k)
	if ok {
		t.Fatal("empty cache hit")
	}
	// A reader read v1 from Pebble; meanwhile the committer wrote v2.
	rc.write(string(k), []byte("v2"))
	rc.fill(k, []byte("v1"), gen)
	if v, ok, _ := rc.get(k); !ok || string(v) != "v2" {
		t.Fatalf("cache holds %q (%v), want the committer's v2", v, ok)
	}
	rc.write(string(k), nil)
	if _, ok, _ := rc.get(k); ok {
		t.Fatal("deleted row still cached")
	}
}

func TestRowCacheStaysWithinItsBound(t *testing.T) {
	rc := newRowCache(64 * 1024)
	for i := 0; i < 10000; i++ {
		rc.write(fmt.Sprintf("key%d", i), make([]byte, 100))
	}
	var total int64
	for i := range rc.shards {
		total += rc.shards[i].bytes
	}
	if total > 64*1024 {
		t.Fatalf("cache holds %d bytes, bound 65536", total)
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
