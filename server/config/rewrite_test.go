package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRewriteReplacesInPlaceAndAppendsNew(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "walrus.conf", strings.Join([]string{
		"# walrus test config",
		"port 6380",
		"",
		"slave-read-only yes",
		"rename-command FLUSHALL \"\"",
		"save 900 1",
		"save 300 10",
		"port 6381",
		"",
	}, "\n"))
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"replica-read-only", "no"}, {"save", "60 5"}, {"requirepass", `p w"d`}, {"maxmemory", "2gb"}} {
		if err := c.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"# walrus test config",
		"port 6381",
		"",
		"replica-read-only no",
		"rename-command FLUSHALL \"\"",
		"save 60 5",
		"",
		rewriteSignature,
		`requirepass "p w\"d"`,
		"maxmemory 2gb",
		"",
	}, "\n")
	if string(got) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
}

func TestRewriteThenLoadGivesSameConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "extra.conf", "databases 8\n")
	path := writeFile(t, dir, "walrus.conf", strings.Join([]string{
		"# Comments survive.",
		"include extra.conf",
		"bind 127.0.0.1 ::1",
		"slaveof 10.0.0.1 6379",
		"client-output-buffer-limit replica 512mb 128mb 120",
		"rename-command CONFIG walrus-config",
		"appendonly yes",
		"",
	}, "\n"))
	c, err := Load(path, []string{"--port", "7007", "--save", "", "--dir", "/srv/walrus data"})
	if err != nil {
		t.Fatal(err)
	}
	sets := [][2]string{
		{"appendfsync", "always"},
		{"repl-backlog-size", "3000"},
		{"min-replicas-max-lag", "3"},
		{"masterauth", "tab\there"},
		{"maxmemory-policy", "allkeys-lfu"},
		{"client-output-buffer-limit", "pubsub 0 0 0"},
		{"latency-tracking-info-percentiles", "50 99.99"},
	}
	for _, kv := range sets {
		if err := c.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%q, %q): %v", kv[0], kv[1], err)
		}
	}
	c.SetReplicaOf("10.0.0.2", 6390)
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path, nil)
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("reload: %v\n%s", err, data)
	}
	if a, b := c.Get("*"), again.Get("*"); !slices.Equal(a, b) {
		for i := range a {
			if i < len(b) && a[i] != b[i] {
				t.Errorf("%s: before %q, after reload %q", a[i][0], a[i][1], b[i][1])
			}
		}
		t.Fatal("reloaded config differs")
	}
	if !slices.Equal(again.RenameCommands, c.RenameCommands) {
		t.Fatalf("rename-command lost: %v", again.RenameCommands)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, s := range []string{"# Comments survive.", "include extra.conf", "replicaof 10.0.0.2 6390"} {
		if !strings.Contains(text, s) {
			t.Errorf("rewritten file lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "slaveof") {
		t.Errorf("rewritten file kept an alias:\n%s", text)
	}
	if !strings.Contains(text, "client-output-buffer-limit replica 512mb 128mb 120") || strings.Contains(text, "normal 0 0 0") {
		t.Errorf("client-output-buffer-limit not rewritten one line per changed class:\n%s", text)
	}
	// A second rewrite changes nothing.
	if err := again.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if data2, _ := os.ReadFile(path); string(data2) != text {
		t.Fatalf("second rewrite changed the file:\n%s\nthen:\n%s", text, data2)
	}
	if n := strings.Count(text, rewriteSignature); n != 1 {
		t.Fatalf("signature appears %d times", n)
	}
}

func TestRewriteKeepsPermissionsAndLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "walrus.conf", "port 7000\n")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("requirepass", "x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rewrite: %v %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after rewrite, want 1", len(entries))
	}
}

func TestRewriteWithoutConfigFileFails(t *testing.T) {
	c, err := Load("", []string{"--port", "7000"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); !errors.Is(err, ErrNoConfigFile) || err.Error() != "ERR The server is running without a config file" {
		t.Fatalf("Rewrite() = %v", err)
	}
}

func TestRewriteRecreatesDeletedFile(t *testing.T) {
	path := writeFile(t, t.TempDir(), "walrus.conf", "port 7002\n")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	again, err := Load(path, nil)
	if err != nil || again.Port != 7002 {
		t.Fatalf("reload after rewrite of a deleted file: %v, port %v", err, again)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
}
