package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cockroachdb/pebble/vfs"
)

// Install replaces the whole dataset with a checkpoint received from a
// master (a directory on the OS filesystem, consistent at index) and
// re-bases the log to continue at index+1. Readers and the committer are
// held off while it runs; a crash part-way leaves either the old or the
// new dataset (the swap is a rename; see snapshot.Install). swapIn moves
// src into place over dst on disk.
func (e *Engine) Install(src string, index uint64, swapIn func(src, dst string) error) error {
	e.swap.Lock()
	defer e.swap.Unlock()
	if e.closed.Load() {
		return ErrClosed
	}
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("close pebble: %w", err)
	}
	e.cache.Unref()
	e.installs.Add(1)
	if e.opts.InMemory {
		// Load the checkpoint into a fresh directory of the memory FS.
		old := e.dbDir
		e.dbDir = "db-" + strconv.FormatUint(e.installs.Load(), 10)
		if err := copyIn(src, e.fs, e.dbDir); err != nil {
			return err
		}
		removeAll(e.fs, old)
		os.RemoveAll(src)
	} else if err := swapIn(src, e.dbDir); err != nil {
		return fmt.Errorf("install checkpoint: %w", err)
	}
	e.rows.clear()
	e.grp.ahead = nil
	e.fnVersion.Add(1) // the checkpoint's libraries
	if err := e.openDB(); err != nil {
		return err
	}
	if got := e.applied.Load(); got != index {
		return fmt.Errorf("installed checkpoint is at index %d, the master said %d", got, index)
	}
	if err := e.wlog.Reset(index + 1); err != nil {
		return fmt.Errorf("reset log to %d: %w", index+1, err)
	}
	e.logBroken.Store(nil)
	e.startKeyBuild(e.keys.Load())
	return nil
}

// copyIn copies a flat directory from the OS filesystem into fs.
func copyIn(src string, fs vfs.FS, dst string) error {
	names, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := fs.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		if n.IsDir() {
			continue
		}
		if err := vfs.CopyAcrossFS(vfs.Default, filepath.Join(src, n.Name()), fs, fs.PathJoin(dst, n.Name())); err != nil {
			return fmt.Errorf("copy %s: %w", n.Name(), err)
		}
	}
	return nil
}

// Hold runs fn while the dataset cannot be replaced (snapshots use it
// around checkpoints of DB()).
func (e *Engine) Hold(fn func() error) error {
	e.swap.RLock()
	defer e.swap.RUnlock()
	return fn()
}

// Generation counts installed checkpoints: DB() changed when it moved.
func (e *Engine) Generation() uint64 { return e.installs.Load() }
