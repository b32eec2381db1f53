package server

import (
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRedisCliRDBOfWalrus: `redis-cli --rdb` takes an RDB file of walrus's
// dataset (SYNC), and redis-server started on that file holds what
// walrus holds: every type (streams with their groups too), several
// databases, TTLs, function libraries.
func TestRedisCliRDBOfWalrus(t *testing.T) {
	cli := redisCLI(t)
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	keys := fillEncodings(w)
	fillStream(w, "stream")
	w.do("SET", "ttl", "v", "PX", "100000")
	w.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	w.do("SELECT", "2")
	w.do("RPUSH", "db2list", "a", "b")
	w.do("SELECT", "0")

	dir := t.TempDir()
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", port, "--rdb", filepath.Join(dir, "walrus.rdb")).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --rdb: %v\n%s", err, out)
	}
	r := dialRaw(t, redisServer(t, "--dir", dir, "--dbfilename", "walrus.rdb"))
	for _, k := range keys {
		if got, want := describe(t, r, k), describe(t, w, k); got != want {
			t.Errorf("%s in redis: %.200q, want %.200q", k, got, want)
		}
	}
	r.expect(w.do("DBSIZE"), "DBSIZE")
	if got, want := r.do("XINFO", "STREAM", "stream", "FULL"), w.do("XINFO", "STREAM", "stream", "FULL"); raxNodes.ReplaceAllString(got, "") != raxNodes.ReplaceAllString(want, "") {
		t.Errorf("stream in redis: %.500q, want %.500q", got, want)
	}
	if ttl, _ := strconv.Atoi(strings.TrimPrefix(r.do("PTTL", "ttl"), ":")); ttl <= 0 || ttl > 100000 {
		t.Errorf("PTTL in redis of a key with 100000 ms to live = %d", ttl)
	}
	r.expect(":1", "FCALL", "f1", "1", "counter")
	r.do("SELECT", "2")
	r.expect("[$a $b]", "LRANGE", "db2list", "0", "-1")
}

// TestRedisCliFunctionsRDBOfWalrus: `redis-cli --functions-rdb` asks
// SYNC for the function libraries alone (REPLCONF rdb-filter-only
// functions), so the file it takes holds the libraries and no key.
func TestRedisCliFunctionsRDBOfWalrus(t *testing.T) {
	cli := redisCLI(t)
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	w.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	w.expect("+OK", "SET", "counter", "41")
	w.do("SELECT", "2")
	w.do("RPUSH", "db2list", "a", "b")

	dir := t.TempDir()
	_, port, _ := strings.Cut(s.Addr().String(), ":")
	out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", port, "--functions-rdb", filepath.Join(dir, "functions.rdb")).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --functions-rdb: %v\n%s", err, out)
	}
	r := dialRaw(t, redisServer(t, "--dir", dir, "--dbfilename", "functions.rdb"))
	r.expect(":0", "DBSIZE")
	r.do("SELECT", "2")
	r.expect(":0", "DBSIZE")
	r.expect(":1", "FCALL", "f1", "1", "counter")
}

// TestReplconfRDBOptionsMatchRedis: REPLCONF's rdb-only and
// rdb-filter-only take Redis's values and give its errors.
func TestReplconfRDBOptionsMatchRedis(t *testing.T) {
	r := dialRaw(t, redisServer(t))
	w := dialRaw(t, startServer(t).Addr().String())
	for _, args := range [][]string{
		{"REPLCONF", "rdb-only", "1"},
		{"REPLCONF", "rdb-only", "0"},
		{"REPLCONF", "rdb-only", "2"},
		{"REPLCONF", "rdb-only", "x"},
		{"REPLCONF", "rdb-filter-only", "functions"},
		{"REPLCONF", "rdb-filter-only", "FUNCTIONS functions"},
		{"REPLCONF", "rdb-filter-only", ""},
		{"REPLCONF", "rdb-filter-only", "keys"},
		{"REPLCONF", "rdb-filter-only", "functions keys"},
		{"REPLCONF", "rdb-filter-only", `"functions`},
		{"REPLCONF", "rdb-filter-only"},
	} {
		if got, want := w.do(args...), r.do(args...); got != want {
			t.Errorf("%q: walrus %q, redis %q", args, got, want)
		}
	}
}

// TestSyncCutsOffAClientThatStopsReading: SYNC holds the dataset in
// place while it writes, so a client that does not read is disconnected
// after repl-timeout instead of holding it for ever.
func TestSyncCutsOffAClientThatStopsReading(t *testing.T) {
	s := startServer(t, "--repl-timeout", "1")
	c := dialRaw(t, s.Addr().String())
	value := strings.Repeat("v", 1000)
	for i := 0; i < 50; i++ { // 50 MB of RDB: more than the sockets hold
		args := []string{"MSET"}
		for j := 0; j < 1000; j++ {
			args = append(args, "k"+strconv.Itoa(i*1000+j), value)
		}
		c.expect("+OK", args...)
	}
	stalled := dialRaw(t, s.Addr().String())
	stalled.send("SYNC")
	header, err := stalled.rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(header, "$EOF:") {
		t.Fatalf("SYNC header %q, %v", header, err)
	}
	mark := strings.TrimSpace(strings.TrimPrefix(header, "$EOF:"))
	// The stall under test: three times repl-timeout without reading.
	time.Sleep(3 * time.Second)
	stalled.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	rest, _ := io.ReadAll(stalled.rd) // up to the close, or a reset
	if strings.Contains(string(rest), mark) {
		t.Fatalf("SYNC sent the whole RDB (%d bytes) to a client that stopped reading for 3 s, past repl-timeout", len(rest))
	}
	if len(rest) >= 50<<20 {
		t.Fatalf("SYNC sent %d bytes to a client that stopped reading", len(rest))
	}
	c.expect("+PONG", "PING")
}

// TestRDBStreamIsPaced: the RDB file SYNC sends (as a Redis replica's
// full resync does) keeps to repl-checkpoint-max-rate, as walrus's
// checkpoint stream does, and arrives whole.
func TestRDBStreamIsPaced(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	value := strings.Repeat("v", 1000)
	for i := 0; i < 600; i++ { // about 600 KB of RDB
		c.expect("+OK", "SET", "k"+strconv.Itoa(i), value)
	}
	c.expect("+OK", "CONFIG", "SET", "repl-checkpoint-max-rate", "200kb")
	sync := dialRaw(t, s.Addr().String())
	sync.expect("+OK", "REPLCONF", "rdb-only", "1")
	start := time.Now()
	sync.send("SYNC")
	rest, err := io.ReadAll(sync.rd)
	elapsed := time.Since(start)
	if err != nil || !strings.HasPrefix(string(rest), "$EOF:") {
		t.Fatalf("SYNC: %.60q, %v", rest, err)
	}
	header, body, _ := strings.Cut(string(rest), "\r\n")
	if mark := strings.TrimPrefix(header, "$EOF:"); !strings.HasSuffix(body, mark) || len(body) < 600_000 {
		t.Fatalf("SYNC sent %d bytes, not ending in its mark", len(body))
	}
	// The limiter starts with one step (64 KiB) in hand; the rest comes
	// at the rate: a floor, whatever the machine's speed.
	if floor := time.Duration(float64(len(body)-64<<10) / (200 << 10) * float64(time.Second)); elapsed < floor {
		t.Errorf("%d bytes at 200kb a second took %v, want at least %v", len(body), elapsed, floor)
	}
}
