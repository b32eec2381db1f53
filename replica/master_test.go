package replica

import (
	"sync"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/engine"
	"github.com/walrus-kv/walrus/wal"
)

func TestPsyncDecision(t *testing.T) {
	const id, id2 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	cases := []struct {
		name        string
		replid, off string
		second      uint64
		first, last uint64
		want        bool
	}{
		{"same history, index held", id, "50", 0, 10, 100, true},
		{"same history, caught up", id, "101", 0, 10, 100, true},
		{"same history, ahead of us", id, "102", 0, 10, 100, false},
		{"same history, truncated away", id, "9", 0, 10, 100, false},
		{"previous history below the switch", id2, "80", 90, 10, 100, true},
		{"previous history at the switch", id2, "90", 90, 10, 100, true},
		{"previous history past the switch", id2, "91", 90, 10, 100, false},
		{"unknown history", "cccccccccccccccccccccccccccccccccccccccc", "50", 90, 10, 100, false},
		{"first sync", "?", "-1", 0, 1, 0, false},
		{"zero id never matches", noID, "50", 90, 10, 100, false},
		{"garbage offset", id, "x", 0, 10, 100, false},
	}
	for _, c := range cases {
		i2 := id2
		if c.replid == noID {
			i2 = noID
		}
		if _, got := canContinue(c.replid, c.off, id, i2, c.second, c.first, c.last); got != c.want {
			t.Errorf("%s: continue=%v, want %v", c.name, got, c.want)
		}
	}
}

// TestCheckpointIsTakenWithoutTheMastersLock: taking a checkpoint flushes
// Pebble, which may take long on a large memtable; the master's lock is on
// the path of PUBLISH, of min-replicas-to-write checks and of INFO, so
// those must not wait for it.
func TestCheckpointIsTakenWithoutTheMastersLock(t *testing.T) {
	_, _, m := testMaster(t, MasterOptions{})
	var inside func()

	served := make(chan struct{})
	var once sync.Once // the hook runs at each look at the index
	m.testHookCheckpoint = func() { once.Do(inside) }
	inside = func() {
		// Inside the checkpoint: everything below takes m.mu.
		go func() {
			m.Peers()
			m.GoodReplicas(time.Second)
			m.Publish([]byte("ch"), []byte("msg"), false)
			m.Checkpoints()
			close(served)
		}()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Error("Peers, GoodReplicas, Publish and Checkpoints waited for a checkpoint being taken")
		}
	}
	ck, err := m.acquire()
	if err != nil {
		t.Fatal(err)
	}
	ck.Release()
	<-served
	if got := m.Checkpoints(); got != 1 {
		t.Errorf("Checkpoints() = %d after one acquire, want 1", got)
	}
}

// testMaster opens an engine and a Master over it, closed when the test
// ends.
func testMaster(t *testing.T, opts MasterOptions) (*engine.Engine, *IDs, *Master) {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), Fsync: wal.SyncNo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	ids, err := LoadIDs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := NewMaster(eng, ids, opts)
	t.Cleanup(m.Close)
	return eng, ids, m
}

// TestSetShareWindowKeepsTheNextCheckpoint: with no share window a
// checkpoint lives only while streamed, so each full sync takes its own;
// after SetShareWindow the next one waits that long for more replicas.
func TestSetShareWindowKeepsTheNextCheckpoint(t *testing.T) {
	_, _, m := testMaster(t, MasterOptions{})
	sync := func() {
		t.Helper()
		ck, err := m.acquire()
		if err != nil {
			t.Fatal(err)
		}
		ck.Release()
	}
	sync()
	sync()
	if got := m.Checkpoints(); got != 2 {
		t.Fatalf("Checkpoints() = %d after two syncs with no share window, want 2", got)
	}
	m.SetShareWindow(time.Minute)
	sync()
	sync()
	if got := m.Checkpoints(); got != 3 {
		t.Fatalf("Checkpoints() = %d after two more syncs within a share window, want 3", got)
	}
}
