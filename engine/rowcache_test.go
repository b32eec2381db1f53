package engine

import (
	"fmt"
	"testing"
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
