package engine

import (
	"fmt"
	"testing"

	"github.com/walrus-kv/walrus/wal"
)

func TestListCommandsFollowRedis(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	runSteps(t, e, s, []step{
		{"RPUSH l a b c", "(integer) 3"},
		{"LPUSH l z", "(integer) 4"},
		{"LINDEX l -1", "c"},
		{"LINSERT l BEFORE b x", "(integer) 5"},
		{"LINSERT l AFTER z y", "(integer) 6"},
		{"LRANGE l 0 -1", "[z y a x b c]"},
		{"LSET l 2 A", "OK"},
		{"LREM l 0 x", "(integer) 1"},
		{"LTRIM l 1 -2", "OK"},
		{"LRANGE l 0 -1", "[y A b]"},
		{"LPOS l b", "(integer) 2"},
		{"LMOVE l m RIGHT LEFT", "b"},
		{"RPOP l 5", "[A y]"},
		{"EXISTS l", "(integer) 0"},
		{"LLEN m", "(integer) 1"},
		{"BLPOP none m 0", "[m b]"},
		{"BLPOP none 0", "(nil)"},
	})
}

// The digest of a list is its sequence of values, whatever push history
// produced its element positions; replaying the log rebuilds the same data.
func TestListDigestIsLogicalAndSurvivesReplay(t *testing.T) {
	e1 := testEngine(t, Options{})
	e2 := testEngine(t, Options{})
	s1, s2 := NewSession(), NewSession()
	do(t, e1, s1, "RPUSH l a b c")
	do(t, e2, s2, "LPUSH l c")
	do(t, e2, s2, "LPUSH l b")
	do(t, e2, s2, "LPUSH l a")
	if d1, d2 := e1.Digest(), e2.Digest(); d1 != d2 {
		t.Fatalf("same list, different digests %s %s", d1, d2)
	}

	dir := t.TempDir()
	e, err := Open(Options{Dir: dir, Fsync: wal.SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession()
	for i := 0; i < 50; i++ {
		do(t, e, s, fmt.Sprintf("RPUSH l%d a%d b c", i%5, i))
		do(t, e, s, fmt.Sprintf("HSET h%d f%d v%d", i%3, i, i))
		do(t, e, s, fmt.Sprintf("SADD s%d m%d", i%4, i))
		do(t, e, s, fmt.Sprintf("ZADD z%d %d m%d", i%2, i, i))
	}
	for _, cmd := range []string{"LREM l1 0 b", "LINSERT l2 BEFORE c x", "SPOP s1 3", "HINCRBYFLOAT h1 f1 0.1", "ZPOPMAX z1 2", "SINTERSTORE dst s0 s1", "ZUNIONSTORE zu 2 z0 z1", "SORT l3 ALPHA STORE sorted", "BLMOVE l4 l0 LEFT RIGHT 0", "DEL h2"} {
		do(t, e, s, cmd)
	}
	want := e.Digest()
	e.stop()
	e.wg.Wait()
	e.wlog.Close()
	e.db.Close()
	e.cache.Unref()
	e2r, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2r.Close()
	if got := e2r.Digest(); got != want {
		t.Fatalf("digest after replaying the effects %s, want %s", got, want)
	}
}
