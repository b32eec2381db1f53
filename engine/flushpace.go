package engine

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// A Pebble flush takes at most about a third of a CPU: it writes its
// tables in bursts of flushBurst (wall time, so a flush that waits for a
// CPU takes less) and sleeps flushPause after each. A pause of twice the
// burst's wall time did worse: a flush descheduled during a burst then
// slept twice as long again.
//
// A flush is one goroutine turning a memtable into an sstable (walking the
// skiplist, building and compressing blocks and the bloom filter) without
// a pause: about 28 ms of a CPU for the 3 s of writes that a full sync's
// checkpoint flushes in the full-sync benchmark. On a small machine that
// is a core taken from the clients, and their requests wait behind it:
// the first 50 ms of a full sync had a p99 three times the usual. Paced,
// the flush takes about three times as long and leaves the clients most
// of the machine; short bursts keep each wait behind it short.
//
// Nothing waits on a flush but the caller that asked for it (a checkpoint,
// SAVE) and, once two memtables are full, writers. So while Pebble stalls
// writes, and on Close, a flush runs at full speed. Compactions are not
// paced: under a heavy write load L0 must drain as fast as it fills, or
// writes stall.
const (
	flushBurst = 500 * time.Microsecond
	flushPause = 2 * flushBurst
)

// flushPacer is the vfs.FS Pebble writes through. It hands out sstables
// that pace their writes once Pebble names them a flush's output
// (EventListener.TableCreated, which runs on the flushing goroutine after
// the file is created and before anything is written to it).
type flushPacer struct {
	vfs.FS
	burst   time.Duration // work between two pauses; tests set it to 0
	closing atomic.Bool   // the flush on Close: nothing else is served
	stalls  atomic.Int32  // writers Pebble is holding back
	paused  atomic.Int64  // pauses taken (tests)

	mu    sync.Mutex
	named map[string]*pacedFile // sstables created whose reason is not known yet
}

func newFlushPacer(fs vfs.FS) *flushPacer {
	return &flushPacer{FS: fs, burst: flushBurst, named: map[string]*pacedFile{}}
}

func (p *flushPacer) Create(name string) (vfs.File, error) {
	f, err := p.FS.Create(name)
	if err != nil || !strings.HasSuffix(name, ".sst") {
		return f, err
	}
	pf := &pacedFile{File: f, p: p, name: name}
	p.mu.Lock()
	p.named[name] = pf
	p.mu.Unlock()
	return pf, nil
}

// tableCreated is Pebble's EventListener.TableCreated: a flush's table is
// paced from now on, any other is left alone.
func (p *flushPacer) tableCreated(info pebble.TableCreateInfo) {
	p.mu.Lock()
	f := p.named[info.Path]
	delete(p.named, info.Path)
	p.mu.Unlock()
	if f != nil && info.Reason == "flushing" {
		f.since = time.Now()
		f.paced.Store(true)
	}
}

// The events of Pebble's that bracket a write stall, once for each
// writer held back.
func (p *flushPacer) writeStallBegin(pebble.WriteStallBeginInfo) { p.stalls.Add(1) }
func (p *flushPacer) writeStallEnd()                             { p.stalls.Add(-1) }

func (p *flushPacer) listener() *pebble.EventListener {
	return &pebble.EventListener{
		TableCreated:    p.tableCreated,
		WriteStallBegin: p.writeStallBegin,
		WriteStallEnd:   p.writeStallEnd,
	}
}

// pacedFile is an sstable Pebble writes; a flush's pauses in Write.
type pacedFile struct {
	vfs.File
	p     *flushPacer
	name  string
	paced atomic.Bool
	since time.Time // when the current burst began; the writer's own
}

func (f *pacedFile) Write(b []byte) (int, error) {
	n, err := f.File.Write(b)
	if f.paced.Load() && !f.p.closing.Load() && f.p.stalls.Load() == 0 {
		if time.Since(f.since) >= f.p.burst {
			time.Sleep(flushPause)
			f.p.paused.Add(1)
			f.since = time.Now()
		}
	}
	return n, err
}

func (f *pacedFile) Close() error {
	f.p.mu.Lock()
	if f.p.named[f.name] == f {
		delete(f.p.named, f.name)
	}
	f.p.mu.Unlock()
	return f.File.Close()
}
