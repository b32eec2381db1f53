package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// OldSuffix names the data directory set aside during Install (dst+OldSuffix).
const OldSuffix = ".old"

// Install atomically replaces the directory dst with src, a directory
// returned by Receive on the same filesystem. Steps, each rename made durable
// by an fsync of the parent before the next step:
//
//  1. finish an interrupted earlier Install (as Recover does for dst+".old");
//  2. rename dst to dst+".old" (if dst exists);
//  3. rename src to dst;
//  4. remove dst+".old".
//
// A crash after step 2 and before step 3 leaves only dst+".old" (the old,
// complete data): Recover renames it back. A crash after step 3 leaves dst
// complete (the new data) and maybe dst+".old": Recover removes it. The
// received directory left by a crash before step 3 is removed by Recover.
func Install(src, dst string) error {
	src, dst = filepath.Clean(src), filepath.Clean(dst)
	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("install %s: %w", src, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("install %s: not a directory", src)
	}
	if err := finishInstall(dst); err != nil {
		return err
	}
	parent, old := filepath.Dir(dst), dst+OldSuffix

	switch _, err := os.Lstat(dst); {
	case err == nil:
		if err := os.Rename(dst, old); err != nil {
			return fmt.Errorf("install: set aside %s: %w", dst, err)
		}
		if err := syncDir(parent); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("install: %w", err)
	}

	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("install: rename %s to %s: %w", src, dst, err)
	}
	if err := syncDir(parent); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	if srcParent := filepath.Dir(src); srcParent != parent {
		if err := syncDir(srcParent); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("install: remove old data %s: %w", old, err)
	}
	return nil
}

// Recover repairs what a crash may have left around the data directory dst:
// it completes or rolls back an interrupted Install (see Install) and removes
// leftover Receive directories (TempPrefix) beside dst. Call it at start-up,
// before opening dst and before any Receive into dst's parent.
func Recover(dst string) error {
	dst = filepath.Clean(dst)
	if err := finishInstall(dst); err != nil {
		return err
	}
	parent := filepath.Dir(dst)
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("recover %s: %w", dst, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix) {
			p := filepath.Join(parent, e.Name())
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("recover: remove partial snapshot %s: %w", p, err)
			}
		}
	}
	return nil
}

// finishInstall resolves a leftover dst+OldSuffix: rolled back into dst when
// dst is missing (crash between the two renames), removed otherwise.
func finishInstall(dst string) error {
	old := dst + OldSuffix
	if _, err := os.Lstat(old); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("recover %s: %w", old, err)
	}
	switch _, err := os.Lstat(dst); {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Rename(old, dst); err != nil {
			return fmt.Errorf("recover: restore %s to %s: %w", old, dst, err)
		}
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return fmt.Errorf("recover: %w", err)
		}
	case err != nil:
		return fmt.Errorf("recover %s: %w", dst, err)
	default:
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("recover: remove old data %s: %w", old, err)
		}
	}
	return nil
}
