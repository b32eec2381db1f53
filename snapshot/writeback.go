package snapshot

import "os"

// writebackStep is how many bytes of a received file may be dirty in the
// page cache before the receiver asks the kernel to start writing them
// out, as Pebble does for its own tables (BytesPerSync, 512 KiB). Without
// it the kernel's work of writing a whole table (2 MiB) out came in one
// piece, inside the fsync at the file's end, on a core the master's
// clients share; now it comes in steps as the file grows, and the fsync
// mostly waits for the device.
const writebackStep = 512 << 10

// writebackFile writes to f and starts the writeback of every
// writebackStep bytes it has written. Starting writeback is advice: the
// fsync after the last write is what makes the file durable and what
// reports an error.
type writebackFile struct {
	f              *os.File
	start          func(f *os.File, off, n int64) // startWriteback
	written, begun int64                          // bytes written; bytes whose writeback was started
}

func newWritebackFile(f *os.File) *writebackFile {
	return &writebackFile{f: f, start: startWriteback}
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.begun >= writebackStep {
		w.start(w.f, w.begun, w.written-w.begun)
		w.begun = w.written
	}
	return n, err
}
