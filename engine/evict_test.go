package engine

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// evictClock is an engine on a clock the test moves.
func evictClock(t *testing.T) (*Engine, *atomic.Int64) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC).UnixMilli())
	e := testEngine(t, Options{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	return e, &clock
}

// existing reports which of the keys prefix0..prefix(n-1) exist.
func existing(t *testing.T, e *Engine, s *Session, prefix string, n int) (in []int) {
	t.Helper()
	for i := range n {
		if do(t, e, s, fmt.Sprintf("EXISTS %s%d", prefix, i)) == "(integer) 1" {
			in = append(in, i)
		}
	}
	return in
}

func evict(t *testing.T, e *Engine, policy string, samples, n int) int {
	t.Helper()
	got, err := e.Evict(policy, samples, n)
	if err != nil {
		t.Fatalf("Evict(%s, %d): %v", policy, n, err)
	}
	return got
}

// TestEvictTakesWhatThePolicyRanksFirst: allkeys-lru evicts keys idle
// for long before recently used ones, allkeys-lfu rarely used keys before
// often used ones, volatile-ttl the keys that expire soonest and never a
// key without a TTL; each eviction is counted, and a key's elements go
// with it.
func TestEvictTakesWhatThePolicyRanksFirst(t *testing.T) {
	e, clock := evictClock(t)
	s := NewSession()
	for i := range 100 {
		do(t, e, s, fmt.Sprintf("HSET cold%d f v", i))
	}
	clock.Add(100_000)
	for i := range 20 {
		do(t, e, s, fmt.Sprintf("SET hot%d v", i))
	}
	if got := evict(t, e, "allkeys-lru", 10, 50); got != 50 {
		t.Fatalf("allkeys-lru evicted %d keys, want 50", got)
	}
	if hot := existing(t, e, s, "hot", 20); len(hot) != 20 {
		t.Errorf("allkeys-lru evicted recently used keys: %d of 20 left", len(hot))
	}
	cold := existing(t, e, s, "cold", 100)
	if len(cold) != 50 {
		t.Errorf("allkeys-lru: %d of 100 idle keys left, want 50", len(cold))
	}
	if got := e.EvictedKeys(); got != 50 {
		t.Errorf("EvictedKeys %d, want 50", got)
	}
	// The evicted hashes' fields went with them: a new hash of the same
	// name has only its own.
	for i := range 100 {
		do(t, e, s, fmt.Sprintf("HSET cold%d g v", i))
	}
	left := map[int]bool{}
	for _, i := range cold {
		left[i] = true
	}
	for i := range 100 {
		want := "(integer) 1"
		if left[i] {
			want = "(integer) 2"
		}
		if got := do(t, e, s, fmt.Sprintf("HLEN cold%d", i)); got != want {
			t.Errorf("HLEN cold%d: %s, want %s", i, got, want)
		}
	}
	do(t, e, s, "FLUSHALL")

	e.SetAccessPolicy(true, 0, 0) // every use counts one, no decay
	for i := range 100 {
		do(t, e, s, fmt.Sprintf("SET rare%d v", i))
	}
	for i := range 20 {
		do(t, e, s, fmt.Sprintf("SET often%d v", i))
		for range 10 {
			do(t, e, s, fmt.Sprintf("GET often%d", i))
		}
	}
	if got := evict(t, e, "allkeys-lfu", 10, 50); got != 50 {
		t.Fatalf("allkeys-lfu evicted %d keys, want 50", got)
	}
	if often := existing(t, e, s, "often", 20); len(often) != 20 {
		t.Errorf("allkeys-lfu evicted often used keys: %d of 20 left", len(often))
	}
	do(t, e, s, "FLUSHALL")
	e.SetAccessPolicy(false, 10, 1)

	for i := range 30 {
		do(t, e, s, fmt.Sprintf("SET ttl%d v EX %d", i, 1000+i))
		do(t, e, s, fmt.Sprintf("SET keep%d v", i))
	}
	if got := evict(t, e, "volatile-ttl", 5, 10); got != 10 {
		t.Fatalf("volatile-ttl evicted %d keys, want 10", got)
	}
	if left := existing(t, e, s, "ttl", 30); len(left) != 20 || left[0] != 10 {
		t.Errorf("volatile-ttl left %v, want ttl10 to ttl29", left)
	}
	// Only keys with a TTL: 20 are left, and then none.
	if got := evict(t, e, "volatile-lru", 5, 100); got != 20 {
		t.Errorf("volatile-lru evicted %d keys, want the 20 with a TTL", got)
	}
	if keep := existing(t, e, s, "keep", 30); len(keep) != 30 {
		t.Errorf("volatile policies evicted keys without a TTL: %d of 30 left", len(keep))
	}
	if got := evict(t, e, "volatile-random", 5, 1); got != 0 {
		t.Errorf("volatile-random evicted %d keys with no key having a TTL", got)
	}
	if got := e.EvictedKeys(); got != 130 {
		t.Errorf("EvictedKeys %d, want 130", got)
	}
	e.ResetKeyspaceStats()
	if got := e.EvictedKeys(); got != 0 {
		t.Errorf("EvictedKeys after a reset: %d", got)
	}
}

// TestEvictRandomEmptiesEveryDatabase: *-random takes keys from every
// database; asked for more than there are, it evicts them all and says
// how many. Nothing is evicted on a replica or while expiry is held.
func TestEvictRandomEmptiesEveryDatabase(t *testing.T) {
	e, _ := evictClock(t)
	s := NewSession()
	for i := range 10 {
		do(t, e, s, fmt.Sprintf("SET a%d v", i))
	}
	do(t, e, s, "SELECT 3")
	for i := range 10 {
		do(t, e, s, fmt.Sprintf("RPUSH b%d x y", i))
	}
	e.HoldExpiry(true)
	if got := evict(t, e, "allkeys-random", 5, 100); got != 0 {
		t.Errorf("evicted %d keys while expiry is held", got)
	}
	e.HoldExpiry(false)
	e.SetReplica(true)
	if got := evict(t, e, "allkeys-random", 5, 100); got != 0 {
		t.Errorf("a replica evicted %d keys", got)
	}
	e.SetReplica(false)
	if got := evict(t, e, "allkeys-random", 5, 100); got != 20 {
		t.Errorf("allkeys-random evicted %d keys, want all 20", got)
	}
	for _, db := range []string{"0", "3"} {
		do(t, e, s, "SELECT "+db)
		if got := do(t, e, s, "DBSIZE"); got != "(integer) 0" {
			t.Errorf("db %s: DBSIZE %s after evicting everything", db, got)
		}
	}
	if got := evict(t, e, "noeviction", 5, 1); got != 0 {
		t.Errorf("noeviction evicted %d", got)
	}
}

// TestEvictAfterSwapDB: candidates ranked before SWAPDB are not evicted
// from the database that now holds other keys under their names.
func TestEvictAfterSwapDB(t *testing.T) {
	e, clock := evictClock(t)
	s := NewSession()
	do(t, e, s, "SET x idle")
	do(t, e, s, "SET w idle")
	clock.Add(50_000)
	do(t, e, s, "SELECT 1")
	for i := range 10 {
		do(t, e, s, fmt.Sprintf("SET y%d v", i))
	}
	clock.Add(50_000)
	do(t, e, s, "SET x hot")
	do(t, e, s, "SET w hot")
	// db 0's x and w are the idlest: one goes, the other stays a candidate.
	if got := evict(t, e, "allkeys-lru", 16, 1); got != 1 {
		t.Fatalf("evicted %d", got)
	}
	do(t, e, s, "SWAPDB 0 1")
	do(t, e, s, "GET x") // db 1 now: the one of x and w left is used
	do(t, e, s, "GET w")
	do(t, e, s, "SELECT 0") // now the hot x and w, and the y keys
	if got := evict(t, e, "allkeys-lru", 16, 1); got != 1 {
		t.Fatalf("evicted %d", got)
	}
	if got := do(t, e, s, "EXISTS x w"); got != "(integer) 2" {
		t.Errorf("EXISTS x w after SWAPDB and an eviction: %s; a y key was idler", got)
	}
	if got := do(t, e, s, "DBSIZE"); got != "(integer) 11" {
		t.Errorf("DBSIZE %s, want 11", got)
	}
}
