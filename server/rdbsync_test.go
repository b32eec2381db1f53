package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRedisCliRDBOfWalrus: `redis-cli --rdb` takes an RDB file of walrus's
// dataset (SYNC), and redis-server started on that file holds what
// walrus holds: every type, several databases, TTLs, function libraries.
func TestRedisCliRDBOfWalrus(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("WALRUS_CI") != "" {
			t.Fatal("redis-cli is required in CI but not installed")
		}
		t.Skip("redis-cli not installed: test skipped (apt-get install redis-tools to run it)")
	}
	s := startServer(t)
	w := dialRaw(t, s.Addr().String())
	keys := fillEncodings(w)
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
	if ttl, _ := strconv.Atoi(strings.TrimPrefix(r.do("PTTL", "ttl"), ":")); ttl <= 0 || ttl > 100000 {
		t.Errorf("PTTL in redis of a key with 100000 ms to live = %d", ttl)
	}
	r.expect(":1", "FCALL", "f1", "1", "counter")
	r.do("SELECT", "2")
	r.expect("[$a $b]", "LRANGE", "db2list", "0", "-1")
}
