package engine

import (
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/walrus-kv/walrus/wal"
)

// The engine benchmarks drive the committer the way the server does:
// several sessions, each submitting pipelines of 16 commands, with
// everysec-free logging (SyncNo) so the figures are CPU, not the disk.
// ns/op is per command. Run with:
//
//	go test ./engine -run '^$' -bench . -benchtime 200000x

const benchPipeline = 16

// benchPipelines runs b.N commands, built by next, as pipelines of
// benchPipeline from parallel sessions.
func benchPipelines(b *testing.B, e *Engine, next func(r *rand.Rand, i int) [][]byte) {
	b.Helper()
	b.SetParallelism(4) // 4 sessions per core, like a server under load
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := NewSession()
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		var out []byte
		cmds := make([][][]byte, 0, benchPipeline)
		i := 0
		for pb.Next() {
			cmds = append(cmds, next(r, i))
			i++
			if len(cmds) == benchPipeline {
				out = e.Exec(s, cmds, out[:0])
				cmds = cmds[:0]
			}
		}
		if len(cmds) > 0 {
			e.Exec(s, cmds, out[:0])
		}
	})
}

func benchEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := Open(Options{Dir: b.TempDir(), Fsync: wal.SyncNo})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e
}

func BenchmarkSetRandom10k(b *testing.B) {
	e := benchEngine(b)
	val := make([]byte, 100)
	benchPipelines(b, e, func(r *rand.Rand, _ int) [][]byte {
		return [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(r.IntN(10_000))), val}
	})
}

func BenchmarkSetSameKey(b *testing.B) {
	e := benchEngine(b)
	val := []byte("xxx")
	benchPipelines(b, e, func(*rand.Rand, int) [][]byte {
		return [][]byte{[]byte("SET"), []byte("key:__rand_int__"), val}
	})
}

// BenchmarkLPush is redis-benchmark's lpush: every push to one list.
func BenchmarkLPush(b *testing.B) {
	e := benchEngine(b)
	val := []byte("xxx")
	benchPipelines(b, e, func(*rand.Rand, int) [][]byte {
		return [][]byte{[]byte("LPUSH"), []byte("mylist"), val}
	})
}

// BenchmarkXAdd appends to one stream, with a field and a 100-byte
// value: every entry sizes its node (streamnode.go).
func BenchmarkXAdd(b *testing.B) {
	e := benchEngine(b)
	val := make([]byte, 100)
	benchPipelines(b, e, func(*rand.Rand, int) [][]byte {
		return [][]byte{[]byte("XADD"), []byte("mystream"), []byte("*"), []byte("field"), val}
	})
}

// BenchmarkLPop pops a list filled with b.N elements first.
func BenchmarkLPop(b *testing.B) {
	e := benchEngine(b)
	s := NewSession()
	val := []byte("xxx")
	for filled := 0; filled < b.N; {
		cmd := [][]byte{[]byte("RPUSH"), []byte("mylist")}
		for j := 0; j < 1000 && filled < b.N; j++ {
			cmd = append(cmd, val)
			filled++
		}
		e.Exec(s, [][][]byte{cmd}, nil)
	}
	benchPipelines(b, e, func(*rand.Rand, int) [][]byte {
		return [][]byte{[]byte("LPOP"), []byte("mylist")}
	})
}

// BenchmarkApplyOverwriteCold is a replica catching up right after it
// installed a checkpoint: SETs over keys the checkpoint holds, applied on
// a freshly opened engine (cold caches), with the PREV the master names
// and without it (the replay reads each key first).
func BenchmarkApplyOverwriteCold(b *testing.B) {
	const keys = 200_000
	val := string(make([]byte, 100))
	entry := func(i int, prev string) []byte {
		key := "key:" + strconv.Itoa(i)
		args := []string{"SET", key, val}
		if prev != "" {
			args = append(args, "PREV", prev)
		}
		var e []byte
		e = append(e, "*"+strconv.Itoa(len(args))+"\r\n"...)
		for _, a := range args {
			e = append(e, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
		}
		return e
	}
	for _, prev := range []string{"", "string"} {
		name := "read"
		if prev != "" {
			name = "prev"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			e, err := Open(Options{Dir: dir, Fsync: wal.SyncNo})
			if err != nil {
				b.Fatal(err)
			}
			next := e.AppliedIndex() + 1
			for i := 0; i < keys; i += 1000 {
				batch := make([][]byte, 0, 1000)
				for j := i; j < i+1000; j++ {
					batch = append(batch, entry(j, "none"))
				}
				if err := e.Apply(next, batch); err != nil {
					b.Fatal(err)
				}
				next += uint64(len(batch))
			}
			if err := e.db.Flush(); err != nil {
				b.Fatal(err)
			}
			e.Close()
			if e, err = Open(Options{Dir: dir, Fsync: wal.SyncNo}); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			r := rand.New(rand.NewPCG(1, 2))
			batch := make([][]byte, 0, 128)
			next = e.AppliedIndex() + 1
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch = append(batch, entry(r.IntN(keys), prev))
				if len(batch) == cap(batch) || i == b.N-1 {
					if err := e.Apply(next, batch); err != nil {
						b.Fatal(err)
					}
					next += uint64(len(batch))
					batch = batch[:0]
				}
			}
		})
	}
}

// BenchmarkApplyRandom10k is a replica's side of BenchmarkSetRandom10k:
// entries applied at their indexes in batches of 128.
func BenchmarkApplyRandom10k(b *testing.B) {
	e := benchEngine(b)
	r := rand.New(rand.NewPCG(1, 2))
	val := string(make([]byte, 100))
	batch := make([][]byte, 0, 128)
	next := e.AppliedIndex() + 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := "key:" + strconv.Itoa(r.IntN(10_000))
		batch = append(batch, []byte("*3\r\n$3\r\nSET\r\n$"+strconv.Itoa(len(key))+"\r\n"+key+"\r\n$100\r\n"+val+"\r\n"))
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := e.Apply(next, batch); err != nil {
				b.Fatal(err)
			}
			next += uint64(len(batch))
			batch = batch[:0]
		}
	}
}

// BenchmarkEvict evicts keys under allkeys-lru from an in-memory store of
// 200,000 keys (100-byte values) at rest: its tables flushed and
// compacted, as maxmemory finds a master's. b.N must stay under 200,000.
func BenchmarkEvict(b *testing.B) {
	const keys = 200_000
	if b.N >= keys {
		b.Skip("b.N must be under the 200,000 keys")
	}
	e, err := Open(Options{InMemory: true, Fsync: wal.SyncNo})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	s := NewSession()
	val := make([]byte, 100)
	for i := 0; i < keys; i += 1000 {
		var cmds [][][]byte
		for j := i; j < i+1000; j++ {
			cmds = append(cmds, [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(j)), val})
		}
		e.Exec(s, cmds, nil)
	}
	if err := e.Reclaim(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if n, err := e.Evict("allkeys-lru", 5, b.N); err != nil || n != b.N {
		b.Fatalf("evicted %d of %d: %v", n, b.N, err)
	}
}

// BenchmarkWriteRDB writes an RDB file of 100,000 strings of 100 bytes
// (what a Redis replica's full resync and SAVE write); ns/op is per key.
func BenchmarkWriteRDB(b *testing.B) {
	e := benchEngine(b)
	s := NewSession()
	value := []byte(strings.Repeat("v", 100))
	const keys = 100000
	for i := 0; i < keys; i += 1000 {
		cmd := [][]byte{[]byte("MSET")}
		for j := i; j < i+1000; j++ {
			cmd = append(cmd, []byte("key:"+strconv.Itoa(j)), value)
		}
		e.Exec(s, [][][]byte{cmd}, nil)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n += keys {
		if err := e.WriteRDB(io.Discard, nil, RDBOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
