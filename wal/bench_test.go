package wal

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkAppendBatch64 appends groups of 64 entries of 40 bytes, the shape
// of a committer's group commit under pipelined SETs.
func BenchmarkAppendBatch64(b *testing.B) {
	batch := make([][]byte, 64)
	for i := range batch {
		batch[i] = bytes.Repeat([]byte{byte('a' + i%26)}, 40)
	}
	for _, p := range []SyncPolicy{SyncNo, SyncAlways} {
		b.Run(fmt.Sprintf("sync=%s", p), func(b *testing.B) {
			f, err := Open(b.TempDir(), Options{Sync: p, Logger: discardLogger()})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(64 * 40)
			b.ReportAllocs()
			b.ResetTimer()
			next := uint64(1)
			for b.Loop() {
				if err := f.Append(next, batch); err != nil {
					b.Fatal(err)
				}
				next += 64
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkRead reads 40-byte entries one at a time across several segments.
func BenchmarkRead(b *testing.B) {
	const n = 200_000 // ~9 MiB of records: three 4 MiB segments
	f, err := Open(b.TempDir(), Options{Sync: SyncNo, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = bytes.Repeat([]byte{'v'}, 40)
	}
	for i := uint64(1); i <= n; i += 1000 {
		if err := f.Append(i, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Read", func(b *testing.B) {
		b.ReportAllocs()
		i := uint64(0)
		for b.Loop() {
			if _, err := f.Read(i%n + 1); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("ReadFrom64KiB", func(b *testing.B) {
		b.ReportAllocs()
		next := uint64(1)
		for b.Loop() {
			got, err := f.ReadFrom(next, 64<<10)
			if err != nil {
				b.Fatal(err)
			}
			if next += uint64(len(got)); next > n {
				next = 1
			}
		}
	})
}

func BenchmarkRingAppendBatch64(b *testing.B) {
	batch := make([][]byte, 64)
	for i := range batch {
		batch[i] = bytes.Repeat([]byte{'r'}, 40)
	}
	r := NewRing(64 << 20)
	b.ReportAllocs()
	next := uint64(1)
	for b.Loop() {
		if err := r.Append(next, batch); err != nil {
			b.Fatal(err)
		}
		next += 64
	}
}
