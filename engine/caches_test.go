package engine

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSetCacheBytesResizesBothCaches: SetCacheBytes shrinks the row cache
// and the block cache at once, both stay within the new size while every
// key still reads right, the block cache grows again when the size goes
// back up, and the block cache of a checkpoint installed meanwhile keeps
// the size asked for. (Pebble charges its memtables, 32 MiB each, to the
// block cache: at 32 MiB it caches next to nothing.)
func TestSetCacheBytesResizesBothCaches(t *testing.T) {
	const small = 32 << 20
	e := testEngine(t, Options{InMemory: true, FlushInterval: time.Hour})
	s := NewSession()
	// 100,000 rows of 400 random bytes: 40 MB that does not compress,
	// more than the small size in either cache.
	const keys = 100_000
	r := rand.New(rand.NewPCG(1, 2))
	val := func(i int) string {
		b := make([]byte, 200)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return fmt.Sprintf("%d:%s", i, hex.EncodeToString(b))[:400]
	}
	want := make([]string, keys)
	for i := range want {
		want[i] = val(i)
		do(t, e, s, "SET k"+fmt.Sprint(i)+" "+want[i])
	}
	if _, err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := e.RowCacheBytes(); got <= small {
		t.Fatalf("the row cache holds %d bytes after the writes; the test wants over %d", got, small)
	}
	readAll := func(when string) {
		t.Helper()
		for i, w := range want {
			if got := do(t, e, s, "GET k"+fmt.Sprint(i)); got != w {
				t.Fatalf("%s: GET k%d = %.20q..., want %.20q...", when, i, got, w)
			}
		}
	}
	blockCache := func() int64 { return e.DB().Metrics().BlockCache.Size }

	e.SetCacheBytes(small)
	if b, rows := e.CacheBytes(); b != small || rows != small {
		t.Fatalf("CacheBytes %d, %d after SetCacheBytes(%d)", b, rows, small)
	}
	if got := e.RowCacheBytes(); got > small {
		t.Fatalf("the row cache holds %d bytes after SetCacheBytes(%d)", got, small)
	}
	readAll("at 32 MiB") // from the tables: the row cache started over
	if got := blockCache(); got > small {
		t.Fatalf("the block cache holds %d bytes after reading every key at %d", got, small)
	}
	if got := e.RowCacheBytes(); got == 0 || got > small {
		t.Fatalf("the row cache holds %d bytes after reading every key at %d", got, small)
	}

	e.SetCacheBytes(0) // the default, 128 MiB
	if b, rows := e.CacheBytes(); b != defaultCacheBytes || rows != defaultCacheBytes {
		t.Fatalf("CacheBytes %d, %d after SetCacheBytes(0)", b, rows)
	}
	e.SetCacheBytes(0) // the same again: the row cache keeps its rows
	readAll("at 128 MiB")
	if got := blockCache(); got <= small {
		t.Fatalf("the block cache holds %d bytes at 128 MiB after reading 40 MB; want over %d", got, small)
	}

	// A checkpoint installed: its block cache is made at the size asked.
	e.SetCacheBytes(small)
	saved := t.TempDir()
	if err := e.Save(saved); err != nil {
		t.Fatal(err)
	}
	if err := e.Install(filepath.Join(saved, "dump"), e.AppliedIndex(), renameInto); err != nil {
		t.Fatal(err)
	}
	readAll("installed, at 32 MiB")
	if got := blockCache(); got > small {
		t.Fatalf("the installed store's block cache holds %d bytes at %d", got, small)
	}
}

// TestReadsDuringCacheResizesSeeEveryWrite: while the caches are resized
// again and again, a client reading right after its own write reads that
// write (a write the resize dropped from the new cache while an older
// fill landed there would read stale).
func TestReadsDuringCacheResizesSeeEveryWrite(t *testing.T) {
	e := testEngine(t, Options{InMemory: true, FlushInterval: time.Hour})
	stop := make(chan struct{})
	resized := make(chan struct{})
	go func() { // owned here: stopped by stop, waited for below
		defer close(resized)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.SetCacheBytes(int64(32+32*(i%2)) << 20)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() { // owned here: ends after its writes, waited for below
			defer wg.Done()
			s := NewSession()
			for i := range 3000 {
				k := fmt.Sprintf("g%d:%d", g, i%20)
				v := fmt.Sprint(i)
				if out := string(e.Exec(s, [][][]byte{args("SET " + k + " " + v)}, nil)); out != "+OK\r\n" {
					errs <- fmt.Errorf("SET %s: %q", k, out)
					return
				}
				if out, want := string(e.Exec(s, [][][]byte{args("GET " + k)}, nil)), fmt.Sprintf("$%d\r\n%s\r\n", len(v), v); out != want {
					errs <- fmt.Errorf("GET %s right after SET %s: %q", k, v, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-resized
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
