package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
)

func TestCheckpointRoundTripsThroughReceive(t *testing.T) {
	for _, fc := range fsCases {
		t.Run(fc.name, func(t *testing.T) {
			fs, dir := fc.fs(t)
			db := openTestDB(t, fs, dir, 0)
			value := bytes.Repeat([]byte("x"), 100)
			for i := uint64(1); i <= 500; i++ {
				if err := writeBatch(db, i, 4, value); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			want := dumpLive(t, db)
			m := newTestManager(t, db, fs, dir, time.Minute)

			cp, err := m.Acquire()
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			defer cp.Release()
			if cp.Index() != 500 {
				t.Fatalf("checkpoint index = %d, want 500 (Acquire must flush first)", cp.Index())
			}
			stream := streamOf(t, cp)

			var lastRead, lastTotal int64 = -1, -1
			parent := t.TempDir()
			got, index, err := Receive(bytes.NewReader(stream), parent, func(read, total int64) {
				lastRead, lastTotal = read, total
			})
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			if index != cp.Index() {
				t.Errorf("received index %d, checkpoint index %d", index, cp.Index())
			}
			if lastRead != cp.Size() || lastTotal != cp.Size() {
				t.Errorf("final progress (%d, %d), want (%d, %d)", lastRead, lastTotal, cp.Size(), cp.Size())
			}
			if readBack, err := readAppliedIndex(vfs.Default, got); err != nil || readBack != index {
				t.Errorf("applied_index of the received dir = %d, %v; want %d", readBack, err, index)
			}
			if kv := dumpDB(t, vfs.Default, got); !maps.Equal(kv, want) {
				t.Errorf("received %d keys, live DB has %d, or values differ", len(kv), len(want))
			}
		})
	}
}

func TestAcquireSharesFreshCheckpointAndLastReleaseDeletesIt(t *testing.T) {
	for _, fc := range fsCases {
		t.Run(fc.name, func(t *testing.T) {
			fs, dir := fc.fs(t)
			db := openTestDB(t, fs, dir, 0)
			if err := writeBatch(db, 7, 10, []byte("v")); err != nil {
				t.Fatal(err)
			}
			m := newTestManager(t, db, fs, dir, time.Hour)

			a, err := m.Acquire()
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.Acquire()
			if err != nil {
				t.Fatal(err)
			}
			if a.Dir() != b.Dir() || m.Created() != 1 {
				t.Fatalf("two Acquires: dirs %s, %s, Created %d; want one shared checkpoint", a.Dir(), b.Dir(), m.Created())
			}
			if idx, ok := m.MinIndex(); !ok || idx != 7 {
				t.Errorf("MinIndex = %d, %v; want 7, true", idx, ok)
			}

			a.Release()
			a.Release() // a second Release of one handle must not drop b's reference
			if _, err := fs.Stat(b.Dir()); err != nil {
				t.Fatalf("checkpoint removed while still held: %v", err)
			}
			if _, err := b.WriteTo(&bytes.Buffer{}); err != nil {
				t.Fatalf("stream the still-held checkpoint: %v", err)
			}
			if _, err := a.WriteTo(&bytes.Buffer{}); !errors.Is(err, ErrReleased) {
				t.Errorf("WriteTo on a released handle: %v, want ErrReleased", err)
			}

			b.Release()
			if _, err := fs.Stat(b.Dir()); !errors.Is(err, iofs.ErrNotExist) {
				t.Fatalf("checkpoint dir after last Release: stat err %v, want not-exist", err)
			}
			if _, ok := m.MinIndex(); ok {
				t.Errorf("MinIndex reports a checkpoint after all were released")
			}

			c, err := m.Acquire()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			if m.Created() != 2 || c.Dir() == a.Dir() {
				t.Errorf("Acquire after all released: Created %d, dir %s; want a new checkpoint", m.Created(), c.Dir())
			}
		})
	}
}

func TestAcquireTakesNewCheckpointAfterMaxAge(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	if err := writeBatch(db, 1, 1, []byte("v")); err != nil {
		t.Fatal(err)
	}
	const maxAge = 20 * time.Millisecond
	m := newTestManager(t, db, fs, "/db", maxAge)

	old, err := m.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer old.Release()
	for deadline := time.Now().Add(5 * time.Second); time.Since(old.CreatedAt()) <= maxAge; {
		if time.Now().After(deadline) {
			t.Fatal("clock did not pass MaxAge")
		}
		time.Sleep(time.Millisecond)
	}
	if err := writeBatch(db, 2, 1, []byte("v")); err != nil {
		t.Fatal(err)
	}
	fresh, err := m.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Release()

	if fresh.Dir() == old.Dir() || m.Created() != 2 {
		t.Fatalf("Acquire after MaxAge reused %s (Created %d); want a new checkpoint", fresh.Dir(), m.Created())
	}
	if old.Index() != 1 || fresh.Index() != 2 {
		t.Errorf("indexes old %d fresh %d, want 1 and 2", old.Index(), fresh.Index())
	}
	if _, err := fs.Stat(old.Dir()); err != nil {
		t.Errorf("the stale checkpoint was removed while still held: %v", err)
	}
	if idx, _ := m.MinIndex(); idx != 1 {
		t.Errorf("MinIndex = %d, want 1 (the oldest held checkpoint)", idx)
	}
}

func TestNewManagerRemovesStaleCheckpoints(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	stale := "/db/checkpoints/000003"
	if err := fs.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Create(stale + "/000001.sst")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	newTestManager(t, db, fs, "/db", time.Minute)
	names, err := fs.List("/db/checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Errorf("checkpoint dir after NewManager holds %v, want nothing", names)
	}
}

func TestCloseRemovesHeldCheckpointsAndRefusesAcquire(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	m, err := NewManagerWithOptions(Source{DB: db, FS: fs, Dir: "/db/checkpoints", ReadIndex: readAppliedIndex},
		ManagerOptions{Logger: discardLogger})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := m.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := fs.Stat(cp.Dir()); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("checkpoint survives Close: stat err %v", err)
	}
	if _, err := m.Acquire(); !errors.Is(err, ErrClosed) {
		t.Errorf("Acquire after Close: %v, want ErrClosed", err)
	}
	if _, err := cp.WriteTo(&bytes.Buffer{}); !errors.Is(err, ErrReleased) {
		t.Errorf("WriteTo after Close: %v, want ErrReleased", err)
	}
	cp.Release() // harmless after Close
}

func TestNewManagerRejectsIncompleteSource(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	full := Source{DB: db, FS: fs, Dir: "/db/cp", ReadIndex: readAppliedIndex}
	for name, mutate := range map[string]func(*Source){
		"no DB":        func(s *Source) { s.DB = nil },
		"no FS":        func(s *Source) { s.FS = nil },
		"no Dir":       func(s *Source) { s.Dir = "" },
		"no ReadIndex": func(s *Source) { s.ReadIndex = nil },
	} {
		src := full
		mutate(&src)
		if _, err := NewManager(src, discardLogger); err == nil {
			t.Errorf("%s: NewManager succeeded", name)
		}
	}
}

// TestCheckpointsAreConsistentAtTheirIndexUnderConcurrentWrites proves the
// package's invariant: with a writer committing {keys..., applied_index=i}
// batches throughout, every received checkpoint holds every key of batches
// <= its index and none above.
func TestCheckpointsAreConsistentAtTheirIndexUnderConcurrentWrites(t *testing.T) {
	for _, fc := range fsCases {
		t.Run(fc.name, func(t *testing.T) {
			fs, dir := fc.fs(t)
			// A small memtable so flushes and compactions run during the test.
			db := openTestDB(t, fs, dir, 256<<10)
			m := newTestManager(t, db, fs, dir, time.Nanosecond)
			const keysPerBatch, maxBatches = 8, 200_000

			var written atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var writeErr error
			wg.Add(1)
			go func() { // owned by this test: stopped and waited for below
				defer wg.Done()
				value := bytes.Repeat([]byte("w"), 64)
				for i := uint64(1); i <= maxBatches; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := writeBatch(db, i, keysPerBatch, value); err != nil {
						writeErr = err
						return
					}
					written.Store(i)
				}
			}()
			stopWriter := sync.OnceFunc(func() { close(stop); wg.Wait() })
			t.Cleanup(stopWriter)

			var prev uint64
			for n := 0; n < 5; n++ {
				// Let the writer move on before each checkpoint.
				target := written.Load() + 200
				for deadline := time.Now().Add(10 * time.Second); written.Load() < target; {
					if time.Now().After(deadline) {
						t.Fatalf("writer stuck at %d", written.Load())
					}
					time.Sleep(time.Millisecond)
				}
				cp, err := m.Acquire()
				if err != nil {
					t.Fatal(err)
				}
				live := written.Load()
				stream := streamOf(t, cp)
				cp.Release()
				got, index, err := Receive(bytes.NewReader(stream), t.TempDir(), nil)
				if err != nil {
					t.Fatalf("receive: %v", err)
				}
				if index == 0 || index < prev {
					t.Fatalf("checkpoint %d at index %d after one at %d", n, index, prev)
				}
				prev = index
				t.Logf("checkpoint %d: index %d, writer at %d when Acquire returned", n, index, live)
				checkConsistentAt(t, dumpDB(t, vfs.Default, got), index, keysPerBatch)
			}
			stopWriter()
			if writeErr != nil {
				t.Fatalf("writer: %v", writeErr)
			}
			if m.Created() != 5 {
				t.Errorf("Created = %d, want 5 (MaxAge 1ns never shares)", m.Created())
			}
		})
	}
}

// checkConsistentAt asserts kv holds exactly the keys of batches 1..index.
func checkConsistentAt(t *testing.T, kv map[string]string, index uint64, perBatch int) {
	t.Helper()
	count := 0
	for k := range kv {
		if k == appliedKey {
			continue
		}
		parts := strings.Split(k, "/")
		if len(parts) != 3 || parts[0] != "k" {
			t.Fatalf("unexpected key %q", k)
		}
		batch, err := strconv.ParseUint(parts[1], 10, 64)
		if err != nil {
			t.Fatalf("key %q: %v", k, err)
		}
		if batch > index {
			t.Fatalf("checkpoint at index %d holds key %q of a later batch", index, k)
		}
		count++
	}
	if want := int(index) * perBatch; count != want {
		t.Fatalf("checkpoint at index %d holds %d keys, want %d (missing keys of batches <= index)", index, count, want)
	}
	if _, ok := kv[fmt.Sprintf("k/%08d/%d", index, perBatch-1)]; !ok {
		t.Fatalf("checkpoint at index %d misses the last key of its own batch", index)
	}
}

func TestConcurrentFullSyncsShareOneCheckpoint(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	if err := writeBatch(db, 11, 50, []byte("v")); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, db, fs, "/db", time.Hour)

	const replicas = 4
	type result struct {
		dir   string
		index uint64
		err   error
	}
	results := make([]result, replicas)
	var wg, acquired sync.WaitGroup
	acquired.Add(replicas)
	for i := range replicas {
		wg.Add(1)
		go func() { // one full sync; waited for below
			defer wg.Done()
			cp, err := m.Acquire()
			// All syncs overlap: nobody releases before everyone has acquired.
			acquired.Done()
			acquired.Wait()
			if err != nil {
				results[i].err = err
				return
			}
			defer cp.Release()
			var buf bytes.Buffer
			if _, err := cp.WriteTo(&buf); err != nil {
				results[i].err = err
				return
			}
			_, index, err := Receive(&buf, t.TempDir(), nil)
			results[i] = result{dir: cp.Dir(), index: index, err: err}
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.index != 11 || r.dir != results[0].dir {
			t.Errorf("replica %d: dir %s index %d err %v; want %s, 11, nil", i, r.dir, r.index, r.err, results[0].dir)
		}
	}
	if m.Created() != 1 {
		t.Errorf("Created = %d for %d overlapping full syncs, want 1", m.Created(), replicas)
	}
}

func TestAcquireShipsARecentCheckpointWithoutFlushing(t *testing.T) {
	fs := vfs.NewMem()
	db := openTestDB(t, fs, "/db", 0)
	value := bytes.Repeat([]byte("v"), 100)
	for i := uint64(1); i <= 100; i++ {
		if err := writeBatch(db, i, 2, value); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := uint64(101); i <= 150; i++ { // in the memtable only
		if err := writeBatch(db, i, 2, value); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		accept bool
		want   uint64 // checkpoint index
	}{
		{"accepted: what Pebble flushed, as it is", true, 100},
		{"refused: flushed first", false, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []uint64
			cp := acquireFrom(t, Source{
				DB: db, FS: fs, Dir: "/db/checkpoints-" + strconv.FormatBool(tc.accept), ReadIndex: readAppliedIndex,
				Recent: func(index uint64) bool { asked = append(asked, index); return tc.accept },
			})
			if len(asked) != 1 || asked[0] != 100 {
				t.Errorf("Recent asked about %v, want [100] (the flushed index)", asked)
			}
			if cp.Index() != tc.want {
				t.Fatalf("checkpoint index = %d, want %d", cp.Index(), tc.want)
			}
			got, _, err := Receive(bytes.NewReader(streamOf(t, cp)), t.TempDir(), nil)
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			kv := dumpDB(t, vfs.Default, got)
			if want := 2*int(tc.want) + 1; len(kv) != want { // keys plus applied_index
				t.Errorf("checkpoint holds %d keys, want %d", len(kv), want)
			}
			if names, _ := fs.List("/db/checkpoints-" + strconv.FormatBool(tc.accept)); len(names) != 1 {
				t.Errorf("checkpoint dir holds %v, want the one checkpoint (a refused one is removed)", names)
			}
		})
	}
}

func TestAcquireWithAFlushedBoundTakesOneCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flushed   uint64 // what Source.Flushed says
		threshold uint64 // Recent accepts indexes >= threshold
		want      uint64 // checkpoint index
		asked     []uint64
	}{
		{"the bound is refused: flush, then one checkpoint", 100, 120, 150, []uint64{100}},
		{"the bound is accepted: one checkpoint as it is", 90, 90, 100, []uint64{90, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			db := openTestDB(t, fs, "/db", 0)
			value := bytes.Repeat([]byte("v"), 100)
			for i := uint64(1); i <= 150; i++ {
				if err := writeBatch(db, i, 2, value); err != nil {
					t.Fatal(err)
				}
				if i == 100 {
					if err := db.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			var asked []uint64
			reads := 0
			cp := acquireFrom(t, Source{
				DB: db, FS: fs, Dir: "/db/checkpoints",
				ReadIndex: func(fs vfs.FS, dir string) (uint64, error) { reads++; return readAppliedIndex(fs, dir) },
				Recent:    func(index uint64) bool { asked = append(asked, index); return index >= tc.threshold },
				Flushed:   func() uint64 { return tc.flushed },
			})
			if cp.Index() != tc.want {
				t.Errorf("checkpoint index = %d, want %d", cp.Index(), tc.want)
			}
			if reads != 1 {
				t.Errorf("%d checkpoints read, want 1 (none taken and thrown away)", reads)
			}
			if !slices.Equal(asked, tc.asked) {
				t.Errorf("Recent asked about %v, want %v", asked, tc.asked)
			}
		})
	}
}

// acquireFrom makes a Manager of src and acquires one checkpoint; both are
// let go when the test ends.
func acquireFrom(t *testing.T, src Source) *Checkpoint {
	t.Helper()
	m, err := NewManagerWithOptions(src, ManagerOptions{MaxAge: time.Minute, Logger: discardLogger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	cp, err := m.Acquire()
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	t.Cleanup(cp.Release)
	return cp
}
