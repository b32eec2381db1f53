package server

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walrus-kv/walrus/server/config"
)

// TestImportRedisRDB: walrus started on an empty dataset with a Redis
// dump.rdb in its dir holds what the Redis held: every type in every
// encoding, streams with consumer groups, several databases, TTLs,
// function libraries; keys that expired since the save are left out.
func TestImportRedisRDB(t *testing.T) {
	rdir := t.TempDir()
	r := dialRaw(t, redisServer(t, "--dir", rdir))
	keys := fillEncodings(r)
	fillStream(r, "stream")
	r.do("SET", "ttl", "v", "PX", "100000")
	r.do("SET", "soon", "v", "PX", "200")
	r.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	r.do("SELECT", "2")
	r.do("RPUSH", "db2list", "a", "b")
	r.do("SELECT", "0")
	r.expect("+OK", "SAVE")
	rdb, err := os.ReadFile(filepath.Join(rdir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "soon to expire", 5*time.Second, func() bool { return r.do("EXISTS", "soon") == ":0" })

	for _, mode := range []struct {
		name string
		args []string
	}{
		{"persistent", nil},
		{"in memory", []string{"--save", "", "--appendonly", "no"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			wdir := t.TempDir()
			if err := os.WriteFile(filepath.Join(wdir, "dump.rdb"), rdb, 0o644); err != nil {
				t.Fatal(err)
			}
			w := dialRaw(t, startServer(t, append([]string{"--dir", wdir}, mode.args...)...).Addr().String())
			for _, k := range keys {
				if got, want := describe(t, w, k), describe(t, r, k); got != want {
					t.Errorf("%s: %.200q, want %.200q", k, got, want)
				}
			}
			w.expect(r.do("DBSIZE"), "DBSIZE")
			if got, want := w.do("XINFO", "STREAM", "stream", "FULL"), r.do("XINFO", "STREAM", "stream", "FULL"); raxNodes.ReplaceAllString(got, "") != raxNodes.ReplaceAllString(want, "") {
				t.Errorf("stream: %.500q, want %.500q", got, want)
			}
			w.expect(":0", "EXISTS", "soon")
			if n := infoField(t, w, "persistence", "rdb_last_load_keys_loaded"); n != strconv.Itoa(len(keys)+3) { // and ttl, stream, db2list
				t.Errorf("rdb_last_load_keys_loaded:%s, want %d", n, len(keys)+3)
			}
			if ttl, _ := strconv.Atoi(strings.TrimPrefix(w.do("PTTL", "ttl"), ":")); ttl <= 0 || ttl > 100000 {
				t.Errorf("PTTL of an imported key = %d", ttl)
			}
			w.expect(":1", "FCALL", "f1", "1", "counter")
			w.do("SELECT", "2")
			w.expect("[$a $b]", "LRANGE", "db2list", "0", "-1")
		})
	}

	// A restart does not load it again over what was written since.
	wdir := t.TempDir()
	os.WriteFile(filepath.Join(wdir, "dump.rdb"), rdb, 0o644)
	args := []string{"--port", strconv.Itoa(freePort(t)), "--dir", wdir}
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatal(err)
	}
	s, stop := runServer(t, cfg)
	c := dialRaw(t, s.Addr().String())
	c.do("SET", "s:word", "changed")
	c.do("DEL", "l:small")
	stop()
	args[1] = strconv.Itoa(freePort(t))
	if cfg, err = config.Load("", args); err != nil {
		t.Fatal(err)
	}
	s, _ = runServer(t, cfg)
	c2 := dialRaw(t, s.Addr().String())
	c2.expect("$changed", "GET", "s:word")
	c2.expect(":0", "EXISTS", "l:small")
}

// TestImportRefusesWhatItCannotRead: a damaged RDB file, or one holding a
// value walrus cannot restore (a module's), stops the start with an
// error naming it.
func TestImportRefusesWhatItCannotRead(t *testing.T) {
	rdir := t.TempDir()
	r := dialRaw(t, redisServer(t, "--dir", rdir))
	r.do("SET", "a", "1")
	r.expect("+OK", "SAVE")
	good, err := os.ReadFile(filepath.Join(rdir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	// A value of a module's RDB type: key "m", type 7, in database 0.
	body := append([]byte("REDIS0010\xfe\x00\x07\x01m"), 0, 0xff)
	module := binary.LittleEndian.AppendUint64(body, 0) // no checksum
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-12] ^= 1

	for name, tc := range map[string]struct {
		rdb  []byte
		want string
	}{
		"checksum":  {flipped, "checksum is wrong"},
		"truncated": {good[:len(good)-12], "malformed"},
		"module":    {module, `"m"`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "dump.rdb"), tc.rdb, 0o644)
			cfg, err := config.Load("", []string{"--port", strconv.Itoa(freePort(t)), "--dir", dir})
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, discardLogger())
			if err == nil {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				s.Serve(ctx)
				t.Fatal("walrus started on an RDB file it cannot read")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestSaveWritesARedisRDB: SAVE and BGSAVE write dir/dbfilename as an RDB
// file, which redis-server loads; walrus in memory, restarted, loads it
// back, as Redis does with its dump.rdb.
func TestSaveWritesARedisRDB(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--port", strconv.Itoa(freePort(t)), "--dir", dir, "--save", "", "--appendonly", "no"}
	cfg, err := config.Load("", args)
	if err != nil {
		t.Fatal(err)
	}
	s, stop := runServer(t, cfg)
	w := dialRaw(t, s.Addr().String())
	keys := fillEncodings(w)
	fillStream(w, "stream")
	w.expect("+OK", "SAVE")
	w.do("SET", "after", "the save")
	w.expect("+Background saving started", "BGSAVE")

	r := dialRaw(t, redisServer(t, "--dir", dir, "--dbfilename", "dump.rdb"))
	for _, k := range append(keys, "stream", "after") {
		if got, want := describe(t, r, k), describe(t, w, k); got != want {
			t.Errorf("%s in redis: %.200q, want %.200q", k, got, want)
		}
	}
	want := map[string]string{}
	for _, k := range append(keys, "after") {
		want[k] = describe(t, w, k)
	}
	stop()
	args[1] = strconv.Itoa(freePort(t))
	if cfg, err = config.Load("", args); err != nil {
		t.Fatal(err)
	}
	s, _ = runServer(t, cfg)
	w2 := dialRaw(t, s.Addr().String())
	for k, v := range want {
		if got := describe(t, w2, k); got != v {
			t.Errorf("%s after a restart in memory: %.200q, want %.200q", k, got, v)
		}
	}
}

// TestShutdownSaveWritesTheRDB: SHUTDOWN SAVE writes dump.rdb too.
func TestShutdownSaveWritesTheRDB(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load("", []string{"--port", strconv.Itoa(freePort(t)), "--dir", dir, "--save", "", "--appendonly", "no"})
	if err != nil {
		t.Fatal(err)
	}
	s, stop := runServer(t, cfg)
	c := dialRaw(t, s.Addr().String())
	c.expect("+OK", "SET", "k", "v")
	c.send("SHUTDOWN", "SAVE")
	if got, err := c.read(); err == nil {
		t.Fatalf("SHUTDOWN SAVE answered %q", got)
	}
	stop()
	r := dialRaw(t, redisServer(t, "--dir", dir))
	r.expect("$v", "GET", "k")
}
