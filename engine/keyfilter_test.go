package engine

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

// waitFilters polls until done holds, for up to 10 s.
func waitFilters(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not built within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitKeyFilter waits until e's key filter is built and returns it.
func waitKeyFilter(t *testing.T, e *Engine) *keyFilter {
	t.Helper()
	waitFilters(t, "the key filter", func() bool { f := e.keys.Load(); return f != nil && f.ready.Load() })
	return e.keys.Load()
}

// checkKeyFilterHolds fails unless e's key filter, once built, holds
// every metadata key in Pebble (the filter's invariant).
func checkKeyFilterHolds(t *testing.T, e *Engine) {
	t.Helper()
	f := e.keys.Load()
	if f == nil || !f.ready.Load() {
		return // being built: lookups read Pebble meanwhile
	}
	it, err := e.DB().NewIter(&pebble.IterOptions{LowerBound: []byte{spaceMeta}, UpperBound: []byte{spaceMeta + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if !f.mayHold(it.Key()) {
			t.Fatalf("metadata key %q is in Pebble but not in the key filter", it.Key())
		}
	}
}

// checkKnownKeys runs writes whose replies depend on keys the engine did
// not write itself (it reopened them, or installed them): each one is
// wrong if the filter calls an existing key absent.
func checkKnownKeys(t *testing.T, e *Engine, fields int) {
	t.Helper()
	s := NewSession()
	for _, st := range []step{
		{fmt.Sprintf("HSET h new%d v", fields), "(integer) 1"},
		{"HLEN h", fmt.Sprintf("(integer) %d", fields+1)},
		{"SET t x", "OK"}, // had a TTL: SET drops it and its expiry entry
		{"TTL t", "(integer) -1"},
		{"SET p x NX", "(nil)"},
		{"SET p2 x NX", "OK"},
		{"DBSIZE", "(integer) 104"},
	} {
		if got := do(t, e, s, st.cmd); got != st.want {
			t.Errorf("%s = %s, want %s", st.cmd, got, st.want)
		}
	}
	for i := range 100 {
		if got := do(t, e, s, fmt.Sprintf("SETNX k%d y", i)); got != "(integer) 0" {
			t.Fatalf("SETNX k%d = %s: the key was there", i, got)
		}
	}
}

// fillKnown writes the keys checkKnownKeys expects: a hash of fields
// fields, a key with a TTL, p, and k0..k99.
func fillKnown(t *testing.T, e *Engine, fields int) {
	t.Helper()
	s := NewSession()
	for i := range fields {
		do(t, e, s, fmt.Sprintf("HSET h f%d v", i))
	}
	do(t, e, s, "SET t v EX 1000")
	do(t, e, s, "SET p v")
	for i := range 100 {
		do(t, e, s, fmt.Sprintf("SET k%d v", i))
	}
}

// TestKeyFilterKnowsTheStoreItOpened: keys that reach Pebble without
// this process writing them (a restart, a full sync's checkpoint) are in
// the filter once it is ready, and absent keys mostly are not.
func TestKeyFilterKnowsTheStoreItOpened(t *testing.T) {
	dir := t.TempDir()
	first := testEngine(t, Options{Dir: dir})
	fillKnown(t, first, 3)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	reopened := testEngine(t, Options{Dir: dir})
	f := waitKeyFilter(t, reopened)
	checkKnownKeys(t, reopened, 3)
	misses := 0
	for i := range 10000 {
		if !f.mayHold(metaKey(nil, 0, fmt.Appendf(nil, "absent:%d", i))) {
			misses++
		}
	}
	if misses < 9500 {
		t.Errorf("the filter ruled out %d of 10000 absent keys; a working one rules out about 99%%", misses)
	}

	// A replica's full sync: the installed checkpoint replaces keys the
	// engine had written itself.
	saved := t.TempDir()
	if err := reopened.Save(saved); err != nil {
		t.Fatal(err)
	}
	replica := testEngine(t, Options{})
	fillKnown(t, replica, 7)
	do(t, replica, NewSession(), "SET only-here v")
	if err := replica.Install(filepath.Join(saved, "dump"), reopened.AppliedIndex(), renameInto); err != nil {
		t.Fatal(err)
	}
	waitKeyFilter(t, replica)
	if got := do(t, replica, NewSession(), "SETNX only-here v"); got != "(integer) 1" {
		t.Errorf("SETNX of a key the checkpoint replaced = %s, want 1", got)
	}
	do(t, replica, NewSession(), "DEL only-here")
	if got := do(t, replica, NewSession(), "SETNX p2 v"); got != "(integer) 0" {
		t.Errorf("SETNX of a key only the checkpoint had = %s, want 0", got)
	}
	do(t, replica, NewSession(), "DEL p2")
	checkKnownKeys(t, replica, 4) // the checkpoint's hash, and the HSET above
}

// TestKeyFilterOutgrowsItself: past its capacity the filter is replaced
// by a larger one, built while writes go on and the old one still
// answers, and loses no key.
func TestKeyFilterOutgrowsItself(t *testing.T) {
	e := testEngine(t, Options{InMemory: true, filterMinKeys: 1000})
	first := waitKeyFilter(t, e)
	s := NewSession()
	const keys = 20000
	for i := 0; i < keys; i += 100 {
		cmd := []byte("MSET")
		for j := i; j < i+100; j++ {
			cmd = fmt.Appendf(cmd, " key:%d v", j)
		}
		do(t, e, s, string(cmd))
		if !e.keys.Load().ready.Load() {
			t.Fatalf("after %d keys lookups have no filter: it is being rebuilt", i+100)
		}
	}
	waitFilters(t, "the replacement filter", func() bool { return e.nextKeys.Load() == nil })
	f := e.keys.Load()
	if f == first || f.capacity <= first.capacity {
		t.Fatalf("after %d keys the filter is still sized for %d", keys, first.capacity)
	}
	for i := range keys {
		if !f.mayHold(metaKey(nil, 0, fmt.Appendf(nil, "key:%d", i))) {
			t.Fatalf("key:%d is missing from the filter", i)
		}
	}
	for i := 0; i < keys; i += 97 {
		if got := do(t, e, s, fmt.Sprintf("SET key:%d w NX", i)); got != "(nil)" {
			t.Fatalf("SET key:%d NX = %s: the key was there", i, got)
		}
	}
	if got := do(t, e, s, "DBSIZE"); got != fmt.Sprintf("(integer) %d", keys) {
		t.Errorf("DBSIZE = %s, want %d", got, keys)
	}
}

// TestKeyFilterWaitsForPromotion: a replica installs a full sync's
// checkpoint without building its filter (its lookups read Pebble);
// promoted, it builds it.
func TestKeyFilterWaitsForPromotion(t *testing.T) {
	master := testEngine(t, Options{})
	fillKnown(t, master, 2)
	saved := t.TempDir()
	if err := master.Save(saved); err != nil {
		t.Fatal(err)
	}
	replica := testEngine(t, Options{})
	replica.SetReplica(true)
	if err := replica.Install(filepath.Join(saved, "dump"), master.AppliedIndex(), renameInto); err != nil {
		t.Fatal(err)
	}
	if f := replica.keys.Load(); f.building.Load() || f.ready.Load() {
		t.Fatal("a replica built its key filter after a full sync")
	}
	if got := do(t, replica, NewSession(), "SETNX k7 v"); got != "(integer) 0" {
		t.Errorf("SETNX k7 on the replica = %s: the key was there", got)
	}
	if err := replica.Apply(master.AppliedIndex()+1, [][]byte{encodeCommand(nil, args("SET k8 w PREV string")...)}); err != nil {
		t.Fatal(err)
	}
	if n := replica.keys.Load().added.Load(); n != 0 {
		t.Errorf("a replica's filter took %d keys before its builder started", n)
	}
	replica.SetReplica(false)
	waitKeyFilter(t, replica)
	checkKeyFilterHolds(t, replica)
	checkKnownKeys(t, replica, 2)
}

// A replica's filter takes no keys until its builder starts (at
// promotion), so a group that was committing then added nothing: the
// builder must wait for it before reading Pebble. The hooks hold that
// race open: the group stops just before its Pebble commit until the
// builder has read a chunk (which it must not do first) or 200 ms pass.
func TestKeyFilterOfAPromotedReplicaHoldsWhatItApplied(t *testing.T) {
	var armed, promoted atomic.Bool
	committing, chunkRead := make(chan struct{}), make(chan struct{})
	readOnce := sync.OnceFunc(func() { close(chunkRead) })
	replica := testEngine(t, Options{
		beforeCommit: func() {
			if armed.CompareAndSwap(true, false) {
				close(committing)
				select {
				case <-chunkRead:
				case <-time.After(200 * time.Millisecond):
				}
			}
		},
		chunkRead: func() {
			if promoted.Load() {
				readOnce()
			}
		},
	})
	waitKeyFilter(t, replica) // the build it started at open is done
	master := testEngine(t, Options{})
	fillKnown(t, master, 2)
	saved := t.TempDir()
	if err := master.Save(saved); err != nil {
		t.Fatal(err)
	}
	replica.SetReplica(true)
	if err := replica.Install(filepath.Join(saved, "dump"), master.AppliedIndex(), renameInto); err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := range 8 {
		batch = append(batch, encodeCommand(nil, args(fmt.Sprintf("SET new%d v PREV none", i))...))
	}
	armed.Store(true)
	done := make(chan error, 1)
	go func() { done <- replica.Apply(master.AppliedIndex()+1, batch) }()
	<-committing
	promoted.Store(true)
	replica.SetReplica(false) // the group is between its filter and its commit
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitKeyFilter(t, replica)
	checkKeyFilterHolds(t, replica)
	if got := do(t, replica, NewSession(), "SETNX new3 v"); got != "(integer) 0" {
		t.Fatalf("SETNX new3 = %s after promotion: the filter lost the key", got)
	}
}
