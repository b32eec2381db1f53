package snapshot

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback starts writing the dirty pages of f in [off, off+n) to
// disk and returns without waiting for them (sync_file_range(2) with
// SYNC_FILE_RANGE_WRITE alone). Errors are ignored: see writebackFile.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
