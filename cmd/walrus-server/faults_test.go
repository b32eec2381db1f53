package main

import (
	"context"
	uvarint "encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Faults at process level: kill -9 loops under load, a torn or corrupt
// log on disk, a corrupt checkpoint stream, a full disk, and a replica
// that stops reading. WALRUS_LONG=1 runs the long variants (20 replica
// kills and 10 master kills; every byte offset of a torn entry).

func long() bool { return os.Getenv("WALRUS_LONG") != "" }

// aofWriters run goroutines that each SET c<g>:<i> = i in order, each
// followed by WAITAOF 1 1 on the same connection, and record the highest i
// that WAITAOF confirmed fsynced locally or on a replica. Writes are
// ordered in the log, so a confirmed i vouches for every write before it.
type aofWriters struct {
	prefix    string
	confirmed []atomic.Int64
	writes    atomic.Int64
	wg        sync.WaitGroup
	stop      chan struct{}
}

func startAOFWriters(n *node, g int, prefix string) *aofWriters {
	w := &aofWriters{prefix: prefix, confirmed: make([]atomic.Int64, g), stop: make(chan struct{})}
	rdb := n.rdb
	for i := range w.confirmed {
		w.confirmed[i].Store(-1)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			ctx := context.Background()
			conn := rdb.Conn()
			defer conn.Close()
			for j := int64(0); j < 1_000_000; j++ {
				select {
				case <-w.stop:
					return
				default:
				}
				var wait *redis.Cmd
				_, err := conn.Pipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, w.key(i, j), strconv.FormatInt(j, 10), 0)
					wait = p.Do(ctx, "WAITAOF", 1, 1, 100)
					return nil
				})
				if err != nil {
					return
				}
				w.writes.Add(1)
				if res, err := wait.Int64Slice(); err == nil && len(res) == 2 && (res[0] >= 1 || res[1] >= 1) {
					w.confirmed[i].Store(j)
				}
			}
		}()
	}
	return w
}

func (w *aofWriters) key(g int, j int64) string { return fmt.Sprintf("%s%d:%d", w.prefix, g, j) }

func (w *aofWriters) halt() { close(w.stop); w.wg.Wait() }

// verify checks every confirmed write on n and returns how many it checked.
func (w *aofWriters) verify(t *testing.T, n *node) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for g := range w.confirmed {
		last := w.confirmed[g].Load()
		for start := int64(0); start <= last; start += 500 {
			keys := []string{}
			for j := start; j <= min(start+499, last); j++ {
				keys = append(keys, w.key(g, j))
			}
			vals, err := n.rdb.MGet(ctx, keys...).Result()
			if err != nil {
				t.Fatalf("MGET: %v", err)
			}
			for k, v := range vals {
				if v != strconv.FormatInt(start+int64(k), 10) {
					t.Fatalf("write %s confirmed by WAITAOF is lost: got %v", keys[k], v)
				}
			}
			total += len(keys)
		}
	}
	return total
}

// randomMoment waits 0-300 ms so kills land at arbitrary points of the
// load (this is the fault's timing, not synchronisation).
func randomMoment() { time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond) }

func TestCrashLoopKeepsEveryWAITAOFConfirmedWrite(t *testing.T) {
	replicaKills, masterKills := 3, 2
	if long() {
		replicaKills, masterKills = 20, 10
	}
	m := startNode(t, "", "--appendonly", "yes", "--appendfsync", "everysec")
	r := startNode(t, "", append(replicaOf(m), "--appendfsync", "always")...)
	waitLinkUp(t, r)
	checked, digests, writes := 0, 0, int64(0)
	for round := 0; round < replicaKills; round++ {
		w := startAOFWriters(m, 3, fmt.Sprintf("rk%d:", round))
		waitFor(t, "load on the master", 30*time.Second, func() bool { return w.writes.Load() >= 30 })
		randomMoment()
		r.kill9()
		r.restart()
		waitLinkUp(t, r)
		w.halt()
		writes += w.writes.Load()
		checked += w.verify(t, m)
		waitConverged(t, m, r)
		digests++
	}
	for round := 0; round < masterKills; round++ {
		w := startAOFWriters(m, 3, fmt.Sprintf("mk%d:", round))
		waitFor(t, "load on the master", 30*time.Second, func() bool { return w.writes.Load() >= 30 })
		randomMoment()
		m.kill9()
		w.halt()
		writes += w.writes.Load()
		m.restart()
		checked += w.verify(t, m)
		waitLinkUp(t, r)
		waitConverged(t, m, r)
		checked += w.verify(t, r)
		digests++
	}
	t.Logf("crash loop: %d replica kills and %d master kills survived; %d writes, %d WAITAOF-confirmed writes checked, 0 lost; %d digest comparisons equal",
		replicaKills, masterKills, writes, checked, digests)
}

// logRecords returns the byte offset and size of every record in a
// segment file: uvarint(4+len) | crc32c | payload (see the wal package).
func logRecords(t *testing.T, path string) (offs, sizes []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(b); {
		n, k := uvarint.Uvarint(b[off:])
		if k <= 0 || off+k+int(n) > len(b) {
			t.Fatalf("%s: bad record at %d", path, off)
		}
		offs, sizes = append(offs, off), append(sizes, k+int(n))
		off += k + int(n)
	}
	return offs, sizes
}

var segmentName = regexp.MustCompile(`^\d{20}$`)

// segments lists a data dir's log segment files, oldest first.
func segments(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if segmentName.MatchString(e.Name()) {
			out = append(out, filepath.Join(dir, "wal", e.Name()))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no log segments in %s", dir)
	}
	return out
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// crashedWithEntries starts a node, writes count keys t:<i> one entry
// each, and kills it: Pebble never flushed, so a restart replays the log.
func crashedWithEntries(t *testing.T, count int) string {
	t.Helper()
	n := startNode(t, "", "--appendfsync", "always")
	ctx := context.Background()
	for i := 0; i < count; i++ {
		if err := n.rdb.Set(ctx, "t:"+strconv.Itoa(i), "v:"+strconv.Itoa(i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n.kill9()
	return n.dir
}

func TestTornLastEntryIsCutAtStartupAtEveryOffset(t *testing.T) {
	const count = 50
	base := crashedWithEntries(t, count)
	segs := segments(t, base)
	last := segs[len(segs)-1]
	offs, sizes := logRecords(t, last)
	start, size := offs[len(offs)-1], sizes[len(sizes)-1]
	cuts := []int{0, 1, size / 2, size - 1}
	if long() {
		cuts = cuts[:0]
		for c := 0; c < size; c++ {
			cuts = append(cuts, c)
		}
	}
	for _, c := range cuts {
		dir := t.TempDir()
		copyTree(t, base, dir)
		seg := filepath.Join(dir, "wal", filepath.Base(last))
		if err := os.Truncate(seg, int64(start+c)); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, dir)
		ctx := context.Background()
		if got := n.rdb.DBSize(ctx).Val(); got != count-1 {
			t.Fatalf("cut %d bytes into the last entry: DBSIZE %d, want %d (every earlier entry kept)", c, got, count-1)
		}
		if v := n.rdb.Get(ctx, "t:"+strconv.Itoa(count-2)).Val(); v != "v:"+strconv.Itoa(count-2) {
			t.Fatalf("cut %d: the entry before the torn one reads %q", c, v)
		}
		if c > 0 { // a cut at the record boundary is a clean end, nothing to repair
			if b, _ := os.ReadFile(n.log); !strings.Contains(string(b), "cut torn tail") {
				t.Fatalf("cut %d: no torn-tail line in the log", c)
			}
		}
		if err := n.rdb.Set(ctx, "after", "repair", 0).Err(); err != nil {
			t.Fatalf("cut %d: write after repair: %v", c, err)
		}
		n.kill9()
	}
	t.Logf("torn last entry (%d bytes): %d cut offsets repaired, %d earlier entries kept each time", size, len(cuts), count-1)
}

// exitOf launches n expecting it to fail, and returns its log.
func exitOf(t *testing.T, n *node) string {
	t.Helper()
	n.launch()
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("walrus-server exited 0, want a refusal to start")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("walrus-server kept running on a corrupt log")
	}
	b, _ := os.ReadFile(n.log)
	return string(b)
}

func TestCorruptOlderLogEntryRefusesStartNamingTheFile(t *testing.T) {
	dir := crashedWithEntries(t, 50)
	seg := segments(t, dir)[0]
	offs, sizes := logRecords(t, seg)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	at := offs[10] + sizes[10] - 2 // inside the payload of the 11th entry
	b[at] ^= 0x20
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, port: freePort(t), dir: dir}
	out := exitOf(t, n)
	if !strings.Contains(out, seg) || !strings.Contains(out, "corrupt") {
		t.Fatalf("the refusal does not name the file %s as corrupt:\n%s", seg, out)
	}
	if !strings.Contains(out, "offset "+strconv.Itoa(offs[10])) {
		t.Errorf("the refusal does not give the record's offset %d:\n%s", offs[10], out)
	}
}

func TestReplicaRejectsCorruptCheckpointAndKeepsItsData(t *testing.T) {
	m := startNode(t, "")
	fill(t, m, "m:", 100_000)
	lp := startProxy(t, m.addr())
	lp.add("corrupt", "corrupt", "downstream", map[string]any{"skip": 64 << 10})
	r := startNode(t, "", "--repl-timeout", "5")
	fill(t, r, "own:", 1000)
	before := r.digest()
	r.must("REPLICAOF", "127.0.0.1", strconv.Itoa(lp.port))
	rejected := func() int {
		b, _ := os.ReadFile(r.log)
		return strings.Count(string(b), "receive checkpoint")
	}
	waitFor(t, "two corrupt checkpoints rejected", 60*time.Second, func() bool { return rejected() >= 2 })
	if got := r.digest(); got != before {
		t.Fatalf("replica data changed by a corrupt checkpoint: digest %s, before %s", got, before)
	}
	if got := r.rdb.DBSize(context.Background()).Val(); got != 1000 {
		t.Fatalf("replica DBSIZE %d after rejecting corrupt checkpoints, want its own 1000", got)
	}
	lp.remove("corrupt")
	waitLinkUp(t, r)
	waitConverged(t, m, r)
}

// tinyDisk mounts a tmpfs of size bytes and returns its path. It skips
// where mounting is not allowed (it needs root).
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func TestFullDiskRefusesWritesKeepsReadsAndRecovers(t *testing.T) {
	disk := tinyDisk(t, "32m")
	weight := filepath.Join(disk, "ballast")
	if err := os.WriteFile(weight, make([]byte, 24<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(disk, "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, dir, "--appendfsync", "always")
	ctx := context.Background()
	val := strings.Repeat("d", 8<<10)
	acked := -1
	var refusal error
	for i := 0; i < 4000; i++ {
		if refusal = n.rdb.Set(ctx, "d:"+strconv.Itoa(i), val, 0).Err(); refusal != nil {
			break
		}
		acked = i
	}
	if refusal == nil {
		t.Fatal("the disk never filled up")
	}
	if !strings.HasPrefix(refusal.Error(), "MISCONF Errors writing to the AOF file") {
		t.Fatalf("write on a full disk: %v, want Redis's MISCONF error", refusal)
	}
	if v := n.rdb.Get(ctx, "d:0").Val(); v != val {
		t.Fatal("reads stopped on a full disk")
	}
	if got := n.info("persistence", "aof_last_write_status"); got != "err" {
		t.Fatalf("aof_last_write_status %q on a full disk, want err", got)
	}
	if err := os.Remove(weight); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes accepted once space returned", 30*time.Second, func() bool {
		return n.rdb.Set(ctx, "after", "space", 0).Err() == nil
	})
	if got := n.info("persistence", "aof_last_write_status"); got != "ok" {
		t.Fatalf("aof_last_write_status %q after recovery, want ok", got)
	}
	check := func(when string) {
		for i := 0; i <= acked; i++ {
			if v := n.rdb.Get(ctx, "d:"+strconv.Itoa(i)).Val(); v != val {
				t.Fatalf("%s: acknowledged write d:%d lost", when, i)
			}
		}
	}
	check("after recovery")
	n.kill9()
	n.restart()
	check("after kill -9 and restart")
	t.Logf("full disk: %d writes acknowledged before the refusal, all kept; writes resumed when space returned", acked+1)
}

func TestReplicaThatStopsReadingCannotGrowMasterMemory(t *testing.T) {
	m := startNode(t, "", "--save", "", "--appendonly", "no", "--client-output-buffer-limit", "replica 8mb 0 0")
	c, err := net.Dial("tcp", m.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A replica that handshakes and then never reads a byte.
	io.WriteString(c, "*1\r\n$4\r\nPING\r\n*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\n1\r\n*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
	waitFor(t, "the silent replica to be attached", 30*time.Second, func() bool { return m.info("replication", "connected_slaves") == "1" })
	ctx := context.Background()
	val := strings.Repeat("o", 32<<10)
	var peak int64
	const writes = 5000 // 160 MiB through the log
	for i := 0; i < writes; i++ {
		if err := m.rdb.Set(ctx, "o:"+strconv.Itoa(i%16), val, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if i%250 == 0 {
			peak = max(peak, int64(atoi(m.info("memory", "used_memory"))))
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(m.log)
			t.Logf("master log:\n%s", b)
		}
	})
	waitFor(t, "the master to drop the replica", 30*time.Second, func() bool { return m.info("replication", "connected_slaves") == "0" })
	if b, _ := os.ReadFile(m.log); !strings.Contains(string(b), "overcoming of output buffer limits") {
		t.Fatal("no output-buffer-limit line in the master's log")
	}
	if peak > 100<<20 {
		t.Fatalf("master used_memory peaked at %d MiB with an 8 MiB replica limit after 160 MiB of writes", peak>>20)
	}
	t.Logf("silent replica dropped; master used_memory peak %d MiB for 160 MiB written", peak>>20)
}
