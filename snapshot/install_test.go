package snapshot

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// writeDir creates dir holding files name -> content.
func writeDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readDir returns the files of dir (nil if dir does not exist).
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// names lists the entries of dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestInstallReplacesDataDirWithReceivedOne(t *testing.T) {
	parent := t.TempDir()
	dst := filepath.Join(parent, "data")
	writeDir(t, dst, map[string]string{"stale.sst": "old", "MANIFEST": "old"})
	stream := encodeTestStream(5, 0, []testFile{{name: "MANIFEST", data: []byte("new")}, {name: "000001.sst", data: []byte("sst")}})
	src, _, err := Receive(bytes.NewReader(stream), parent, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := Install(src, dst); err != nil {
		t.Fatalf("install: %v", err)
	}
	want := map[string]string{"MANIFEST": "new", "000001.sst": "sst"}
	if got := readDir(t, dst); !equalFiles(got, want) {
		t.Errorf("dst holds %v, want %v (old contents gone)", got, want)
	}
	if got := names(t, parent); len(got) != 1 || got[0] != "data" {
		t.Errorf("parent holds %v after Install, want only data", got)
	}
}

func TestInstallCreatesMissingDst(t *testing.T) {
	parent := t.TempDir()
	src, dst := filepath.Join(parent, TempPrefix+"1"), filepath.Join(parent, "data")
	writeDir(t, src, map[string]string{"f": "new"})
	if err := Install(src, dst); err != nil {
		t.Fatalf("install: %v", err)
	}
	if got := readDir(t, dst); got["f"] != "new" {
		t.Errorf("dst holds %v", got)
	}
}

func TestInstallRefusesMissingSource(t *testing.T) {
	parent := t.TempDir()
	dst := filepath.Join(parent, "data")
	writeDir(t, dst, map[string]string{"f": "old"})
	if err := Install(filepath.Join(parent, "nope"), dst); err == nil {
		t.Fatal("Install of a missing source succeeded")
	}
	if got := readDir(t, dst); got["f"] != "old" {
		t.Errorf("dst damaged by a failed Install: %v", got)
	}
}

// TestRecoverCleansCrashLeftovers sets up what a crash at each step of
// Install leaves behind and checks Recover ends with exactly one complete
// data dir and nothing else; Install from the same state must also end well.
func TestRecoverCleansCrashLeftovers(t *testing.T) {
	oldData := map[string]string{"f": "old"}
	newData := map[string]string{"f": "new"}
	cases := []struct {
		name      string
		dst, old  map[string]string // nil: absent
		temp      bool              // a Receive directory is left over
		want      map[string]string // dst after Recover
		wantAfter map[string]string // dst after Install of fresh data instead
	}{
		{"crash during receive", oldData, nil, true, oldData, newData},
		{"crash after setting dst aside", nil, oldData, true, oldData, newData},
		{"crash after swapping in", newData, oldData, false, newData, newData},
		{"clean", oldData, nil, false, oldData, newData},
	}
	for _, tc := range cases {
		setup := func(t *testing.T) (parent, dst string) {
			parent = t.TempDir()
			dst = filepath.Join(parent, "data")
			if tc.dst != nil {
				writeDir(t, dst, tc.dst)
			}
			if tc.old != nil {
				writeDir(t, dst+OldSuffix, tc.old)
			}
			if tc.temp {
				writeDir(t, filepath.Join(parent, TempPrefix+"123"), map[string]string{"partial": "x"})
			}
			return parent, dst
		}
		t.Run("recover "+tc.name, func(t *testing.T) {
			parent, dst := setup(t)
			if err := Recover(dst); err != nil {
				t.Fatalf("recover: %v", err)
			}
			if got := readDir(t, dst); !equalFiles(got, tc.want) {
				t.Errorf("dst holds %v, want %v", got, tc.want)
			}
			if got := names(t, parent); len(got) != 1 || got[0] != "data" {
				t.Errorf("parent holds %v after Recover, want only data", got)
			}
		})
		t.Run("install over "+tc.name, func(t *testing.T) {
			_, dst := setup(t)
			src := filepath.Join(t.TempDir(), "received")
			writeDir(t, src, map[string]string{"f": "new"})
			if err := Install(src, dst); err != nil {
				t.Fatalf("install: %v", err)
			}
			if got := readDir(t, dst); !equalFiles(got, tc.wantAfter) {
				t.Errorf("dst holds %v, want %v", got, tc.wantAfter)
			}
			if _, err := os.Stat(dst + OldSuffix); !errors.Is(err, iofs.ErrNotExist) {
				t.Errorf("%s survives Install: %v", dst+OldSuffix, err)
			}
		})
	}
}

func TestReceiveIntoRelativeParent(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("./data/replica", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, _, err := Receive(bytes.NewReader(smallStream(t)), "./data/replica", nil)
	if err != nil {
		t.Fatalf("receive into a relative parent: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); err != nil {
		t.Fatalf("received dir lacks CURRENT: %v", err)
	}
}
