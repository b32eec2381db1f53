package wal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// tinyDisk mounts a tmpfs of size bytes (root only) and returns its path,
// unmounted at the end of the test. It skips the test where mounting is
// not allowed.
func tinyDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// ballast fills n bytes of dir's filesystem with a file that can be
// removed to give the space back.
func ballast(t *testing.T, dir string, n int) string {
	t.Helper()
	p := filepath.Join(dir, "ballast")
	if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
		t.Fatalf("ballast: %v", err)
	}
	return p
}

func TestFileFullDiskFailsAppendsAndReopenRecoversWhenSpaceReturns(t *testing.T) {
	disk := tinyDisk(t, 256<<10)
	weight := ballast(t, disk, 160<<10)
	dir := filepath.Join(disk, "wal")
	f := openTest(t, dir, Options{SegmentSize: 16 << 10, Sync: SyncAlways})

	entry := func(i uint64) []byte { return bytes.Repeat([]byte{byte(i)}, 700) }
	var acked uint64
	var appendErr error
	for i := uint64(1); i <= 1000; i++ {
		if appendErr = f.Append(i, [][]byte{entry(i), entry(i + 1000)[:300]}); appendErr != nil {
			break
		}
		acked = i + 1
		i++
	}
	if appendErr == nil {
		t.Fatal("the disk never filled up")
	}
	if !errors.Is(appendErr, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want ENOSPC", appendErr)
	}
	// The handle stays failed: later appends are refused, reads go on.
	if err := f.Append(f.LastIndex()+1, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("append accepted after a failed append without Reopen")
	}
	if _, err := f.Read(acked); err != nil {
		t.Fatalf("read of an acknowledged entry on a failed log: %v", err)
	}
	if err := os.Remove(weight); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err != nil {
		t.Fatalf("Reopen after space returned: %v", err)
	}
	if got := f.LastIndex(); got < acked {
		t.Fatalf("LastIndex %d after Reopen, below the acknowledged %d", got, acked)
	}
	for i := uint64(1); i <= acked; i++ {
		got, err := f.Read(i)
		want := entry(i)
		if i%2 == 0 {
			want = entry(i + 999)[:300]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("entry %d after Reopen: %d bytes, %v", i, len(got), err)
		}
	}
	next := f.LastIndex() + 1
	if err := f.Append(next, [][]byte{[]byte("after")}); err != nil {
		t.Fatalf("append after Reopen: %v", err)
	}
	closeTest(t, f)
	g := openTest(t, dir, Options{})
	if got, err := g.Read(next); err != nil || string(got) != "after" {
		t.Fatalf("entry written after Reopen, read after a fresh Open: %q, %v", got, err)
	}
}

func TestFileReopenOfHealthyLogChangesNothing(t *testing.T) {
	f := openTest(t, t.TempDir(), Options{SegmentSize: tinySegment})
	for i := uint64(1); i <= 20; i++ {
		if err := f.Append(i, [][]byte{[]byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	if f.FirstIndex() != 1 || f.LastIndex() != 20 {
		t.Fatalf("after Reopen first %d last %d, want 1 20", f.FirstIndex(), f.LastIndex())
	}
	if err := f.Append(21, [][]byte{[]byte("21")}); err != nil {
		t.Fatal(err)
	}
}

func TestRingHardLimitBoundsPinnedEntriesAndReportsOverrun(t *testing.T) {
	cases := []struct {
		name     string
		hard     int64
		wantDrop bool
	}{
		{"no hard limit keeps every pinned entry", 0, false},
		{"hard limit drops pinned entries", 5000, true},
		{"hard limit below the backlog is raised to it", 10, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRing(1000)
			r.SetRetain(1) // a replica that stopped reading at index 1
			r.SetHardLimit(c.hard)
			bound := max(c.hard, 1000)
			for i := uint64(1); i <= 200; i++ {
				if err := r.Append(i, [][]byte{bytes.Repeat([]byte("v"), 100)}); err != nil {
					t.Fatal(err)
				}
				if c.hard > 0 && r.bytes > bound {
					t.Fatalf("after entry %d the ring holds %d bytes, limit %d", i, r.bytes, bound)
				}
			}
			dropped := r.FirstIndex() > 1
			if dropped != c.wantDrop {
				t.Fatalf("first index %d: dropped=%v, want %v", r.FirstIndex(), dropped, c.wantDrop)
			}
			if got := r.Overrun(); (got > 0) != c.wantDrop || (c.wantDrop && got != r.FirstIndex()-1) {
				t.Fatalf("Overrun %d with first %d", got, r.FirstIndex())
			}
			if _, err := r.Read(1); c.wantDrop && !errors.Is(err, ErrCompacted) {
				t.Fatalf("read of an overrun entry: %v, want ErrCompacted", err)
			}
		})
	}
}
