package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "walrus.conf")
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c
}

func TestParseSetsTypedFields(t *testing.T) {
	tests := []struct {
		text  string
		check func(c *Config) bool
	}{
		{"port 7000", func(c *Config) bool { return c.Port == 7000 }},
		{"PORT 7000", func(c *Config) bool { return c.Port == 7000 }},
		{"bind 10.0.0.1 ::1", func(c *Config) bool { return slices.Equal(c.Bind, []string{"10.0.0.1", "::1"}) }},
		{`bind "10.0.0.1 ::1"`, func(c *Config) bool { return slices.Equal(c.Bind, []string{"10.0.0.1", "::1"}) }},
		{`dir "/var/lib/my walrus"`, func(c *Config) bool { return c.Dir == "/var/lib/my walrus" }},
		{`requirepass 'p"w'`, func(c *Config) bool { return c.RequirePass == `p"w` }},
		{`requirepass "\x70\x77"`, func(c *Config) bool { return c.RequirePass == "pw" }},
		{"appendonly YES", func(c *Config) bool { return c.AppendOnly }},
		{"protected-mode no", func(c *Config) bool { return !c.ProtectedMode }},
		{"appendfsync ALWAYS", func(c *Config) bool { return c.AppendFsync == "always" }},
		{"loglevel warning", func(c *Config) bool { return c.LogLevel == "warning" }},
		{"repl-backlog-size 1k", func(c *Config) bool { return c.ReplBacklogSize == 1000 }},
		{"repl-backlog-size 1kb", func(c *Config) bool { return c.ReplBacklogSize == 1024 }},
		{"repl-backlog-size 2M", func(c *Config) bool { return c.ReplBacklogSize == 2_000_000 }},
		{"repl-backlog-size 2Mb", func(c *Config) bool { return c.ReplBacklogSize == 2<<20 }},
		{"repl-checkpoint-max-rate 16mb", func(c *Config) bool { return c.ReplCheckpointMaxRate == 16<<20 }},
		{"repl-checkpoint-max-rate 0", func(c *Config) bool { return c.ReplCheckpointMaxRate == 0 }},
		{"repl-backlog-size 3g", func(c *Config) bool { return c.ReplBacklogSize == 3_000_000_000 }},
		{"repl-backlog-size 3GB", func(c *Config) bool { return c.ReplBacklogSize == 3<<30 }},
		{"repl-backlog-size 100b", func(c *Config) bool { return c.ReplBacklogSize == 100 }},
		{"repl-timeout 5", func(c *Config) bool { return c.ReplTimeout == 5*time.Second }},
		{"timeout 0", func(c *Config) bool { return c.Timeout == 0 }},
		{"hz 1000", func(c *Config) bool { return c.Hz == 500 }},
		{"replicaof 127.0.0.1 6380", func(c *Config) bool { return c.MasterHost == "127.0.0.1" && c.MasterPort == 6380 }},
		{"slaveof 10.0.0.2 6379\nreplicaof no one", func(c *Config) bool { return c.MasterHost == "" }},
		{"slave-read-only no", func(c *Config) bool { return !c.ReplicaReadOnly }},
		{"slave-serve-stale-data no", func(c *Config) bool { return !c.ReplicaServeStaleData }},
		{"slave-priority 7", func(c *Config) bool { return c.ReplicaPriority == 7 }},
		{"repl-ping-slave-period 3", func(c *Config) bool { return c.ReplPingReplicaPeriod == 3*time.Second }},
		{"min-slaves-to-write 2\nmin-slaves-max-lag 4", func(c *Config) bool {
			return c.MinReplicasToWrite == 2 && c.MinReplicasMaxLag == 4*time.Second
		}},
		{"client-output-buffer-limit slave 1mb 512kb 30", func(c *Config) bool {
			return c.OutputBufferLimits.Replica == BufferLimit{Hard: 1 << 20, Soft: 512 << 10, SoftSeconds: 30 * time.Second} &&
				c.OutputBufferLimits.PubSub.Hard == 32<<20
		}},
		{"rename-command CONFIG \"\"\nrename-command flushall wipe", func(c *Config) bool {
			return slices.Equal(c.RenameCommands, []CommandRename{{"config", ""}, {"flushall", "wipe"}})
		}},
		{"port 1\nport 2\n# port 3\n\n   \n", func(c *Config) bool { return c.Port == 2 }},
		{"port 7001\r\n", func(c *Config) bool { return c.Port == 7001 }},
		{"unixsocket \"\"", func(c *Config) bool { return c.Port == 6379 }},
		{"enable-debug-command local", func(c *Config) bool { return c.EnableDebugCommand == "local" }},
	}
	for _, tt := range tests {
		if c := parse(t, tt.text); !tt.check(c) {
			t.Errorf("Parse(%q) did not give the expected field", tt.text)
		}
	}
}

func TestDefaultsAreWalrusDefaults(t *testing.T) {
	c := Default()
	if c.Port != 6379 || !slices.Equal(c.Bind, []string{"127.0.0.1"}) || c.Dir != "./data" ||
		c.Databases != 16 || c.MaxClients != 10000 || c.AppendFsync != "everysec" || c.AppendOnly ||
		c.ProtoMaxBulkLen != 512<<20 || c.ReplBacklogSize != 1<<20 || c.ReplTimeout != 60*time.Second ||
		!c.ReplicaReadOnly || !c.ReplicaServeStaleData || c.EnableDebugCommand != "yes" || c.Hz != 10 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	want := []SaveRule{{3600 * time.Second, 1}, {300 * time.Second, 100}, {60 * time.Second, 10000}}
	if !slices.Equal(c.Save, want) {
		t.Fatalf("default save = %v, want %v", c.Save, want)
	}
	if c.OutputBufferLimits.Replica != (BufferLimit{Hard: 256 << 20, Soft: 64 << 20, SoftSeconds: 60 * time.Second}) {
		t.Fatalf("default replica output limit = %+v", c.OutputBufferLimits.Replica)
	}
}

func TestParseErrorsNameLineAndDirective(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"# c\n\nport abc", `config file walrus.conf, line 3: 'port abc': argument couldn't be parsed into an integer`},
		{`port "abc"`, `config file walrus.conf, line 1: 'port "abc"': argument couldn't be parsed into an integer`},
		{"port 70000", `config file walrus.conf, line 1: 'port 70000': argument must be between 0 and 65535 inclusive`},
		{"port +5", `config file walrus.conf, line 1: 'port +5': argument couldn't be parsed into an integer`},
		{"port 05", `config file walrus.conf, line 1: 'port 05': argument couldn't be parsed into an integer`},
		{"port", `config file walrus.conf, line 1: 'port': wrong number of arguments`},
		{"port 1 2", `config file walrus.conf, line 1: 'port 1 2': wrong number of arguments`},
		{"nosuch thing", `config file walrus.conf, line 1: 'nosuch thing': Bad directive or wrong number of arguments`},
		{`port "6379`, `config file walrus.conf, line 1: 'port "6379': Unbalanced quotes in configuration line`},
		{"appendonly maybe", `config file walrus.conf, line 1: 'appendonly maybe': argument must be 'yes' or 'no'`},
		{"appendfsync sometimes", `config file walrus.conf, line 1: 'appendfsync sometimes': argument(s) must be one of the following: everysec, always, no`},
		{"maxmemory 1.5gb", `config file walrus.conf, line 1: 'maxmemory 1.5gb': argument must be a memory value`},
		{"maxmemory -1", `config file walrus.conf, line 1: 'maxmemory -1': argument must be a memory value`},
		{"proto-max-bulk-len 1000", `config file walrus.conf, line 1: 'proto-max-bulk-len 1000': argument must be between 1048576 and 9223372036854775807 inclusive`},
		{"save 60", `config file walrus.conf, line 1: 'save 60': Invalid save parameters`},
		{`save "" 60`, `config file walrus.conf, line 1: 'save "" 60': Invalid save parameters`},
		{"save 0 1", `config file walrus.conf, line 1: 'save 0 1': Invalid save parameters`},
		{"save 9223372037 1", `config file walrus.conf, line 1: 'save 9223372037 1': Invalid save parameters`},
		{"replicaof host", `config file walrus.conf, line 1: 'replicaof host': wrong number of arguments`},
		{"replicaof host port", `config file walrus.conf, line 1: 'replicaof host port': Invalid master port`},
		{"client-output-buffer-limit replica 1 2", `config file walrus.conf, line 1: 'client-output-buffer-limit replica 1 2': Wrong number of arguments in buffer limit configuration.`},
		{"client-output-buffer-limit master 1 2 3", `config file walrus.conf, line 1: 'client-output-buffer-limit master 1 2 3': Invalid client class specified in buffer limit configuration.`},
		{"rename-command a", `config file walrus.conf, line 1: 'rename-command a': Bad directive or wrong number of arguments`},
		{"unixsocket /tmp/w.sock", `config file walrus.conf, line 1: 'unixsocket /tmp/w.sock': not supported by walrus: unix sockets (listen with bind and port)`},
		{"bind", `config file walrus.conf, line 1: 'bind': wrong number of arguments`},
		{"daemonize yes\nport 1", `config file walrus.conf, line 1: 'daemonize yes': ` + ErrDaemonize.Error()},
		{"cluster-enabled yes", `config file walrus.conf, line 1: 'cluster-enabled yes': not supported by walrus: cluster mode`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.text), "walrus.conf")
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error =\n  %v\nwant\n  %s", tt.text, err, tt.want)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error %T is not a *ParseError", tt.text, err)
		}
	}
}

func TestParseErrorsWrapSentinels(t *testing.T) {
	_, err := Parse(strings.NewReader("nosuch 1"), "x.conf")
	if !errors.Is(err, ErrBadDirective) {
		t.Errorf("unknown directive: %v does not wrap ErrBadDirective", err)
	}
	_, err = Parse(strings.NewReader("daemonize yes"), "x.conf")
	if !errors.Is(err, ErrDaemonize) {
		t.Errorf("daemonize yes: %v does not wrap ErrDaemonize", err)
	}
	_, err = Parse(strings.NewReader("unixsocket /x"), "x.conf")
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("unixsocket: %v does not wrap ErrUnsupported", err)
	}
}

func TestSaveAccumulatesWithinALoadAndEmptyClears(t *testing.T) {
	tests := []struct {
		text string
		want []SaveRule
	}{
		{"save 900 1", []SaveRule{{900 * time.Second, 1}}},
		{"save 900 1\nsave 300 10", []SaveRule{{900 * time.Second, 1}, {300 * time.Second, 10}}},
		{"save 900 1 300 10", []SaveRule{{900 * time.Second, 1}, {300 * time.Second, 10}}},
		{`save "900 1 300 10"`, []SaveRule{{900 * time.Second, 1}, {300 * time.Second, 10}}},
		{`save ""`, []SaveRule{}},
		{"save 900 1\nsave \"\"", []SaveRule{}},
		{"save \"\"\nsave 60 5", []SaveRule{{60 * time.Second, 5}}},
		{"save 9223372036 1", []SaveRule{{9223372036 * time.Second, 1}}}, // the longest a Duration holds
	}
	for _, tt := range tests {
		c := parse(t, tt.text)
		if !slices.Equal(c.Save, tt.want) {
			t.Errorf("Parse(%q).Save = %v, want %v", tt.text, c.Save, tt.want)
		}
	}
}

func TestPersistentFollowsSaveAndAppendonly(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"", true},
		{`save ""`, false},
		{"save \"\"\nappendonly no", false},
		{"save \"\"\nappendonly yes", true},
		{"save 60 1", true},
	}
	for _, tt := range tests {
		if got := parse(t, tt.text).Persistent(); got != tt.want {
			t.Errorf("Parse(%q).Persistent() = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestReplicaOfReportsMaster(t *testing.T) {
	if _, _, ok := Default().ReplicaOf(); ok {
		t.Fatal("a default config is a replica")
	}
	host, port, ok := parse(t, "slaveof 10.1.2.3 7000").ReplicaOf()
	if !ok || host != "10.1.2.3" || port != 7000 {
		t.Fatalf("ReplicaOf() = %q, %d, %v", host, port, ok)
	}
}

func TestCommandLineOverridesFile(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "walrus.conf", "port 6000\nappendonly yes\nsave 900 1\nrequirepass file\n")
	c, err := Load(path, []string{"--port", "7000", "--appendonly", "no", "--save", "", "--replicaof", "127.0.0.1", "6379", "--requirepass", "a b"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7000 || c.AppendOnly || len(c.Save) != 0 || c.RequirePass != "a b" {
		t.Fatalf("args did not override the file: port=%d appendonly=%v save=%v requirepass=%q", c.Port, c.AppendOnly, c.Save, c.RequirePass)
	}
	if host, port, ok := c.ReplicaOf(); !ok || host != "127.0.0.1" || port != 6379 {
		t.Fatalf("ReplicaOf() = %q %d %v", host, port, ok)
	}
	if c.Persistent() {
		t.Fatal(`save "" and appendonly no still persistent`)
	}
	if c.Path() != path {
		t.Fatalf("Path() = %q, want %q", c.Path(), path)
	}
}

func TestCommandLineFollowsRedisServerRules(t *testing.T) {
	tests := []struct {
		args  []string
		check func(c *Config) bool
	}{
		{[]string{"--save"}, func(c *Config) bool { return len(c.Save) == 0 }},
		{[]string{"--save", "--port", "7000"}, func(c *Config) bool { return len(c.Save) == 0 && c.Port == 7000 }},
		{[]string{"--save", "60 1"}, func(c *Config) bool { return slices.Equal(c.Save, []SaveRule{{60 * time.Second, 1}}) }},
		{[]string{"--save", "60", "1", "--save", "30", "2"}, func(c *Config) bool { return len(c.Save) == 2 }},
		{[]string{"--port 7001"}, func(c *Config) bool { return c.Port == 7001 }},
		{[]string{"--requirepass", "--odd"}, func(c *Config) bool { return c.RequirePass == "--odd" }},
		{[]string{"--bind", "127.0.0.1", "::1"}, func(c *Config) bool { return slices.Equal(c.Bind, []string{"127.0.0.1", "::1"}) }},
		{[]string{"--slaveof", "h", "1"}, func(c *Config) bool { return c.MasterHost == "h" && c.MasterPort == 1 }},
		{[]string{"--daemonize", "no"}, func(c *Config) bool { return !c.Daemonize }},
	}
	for _, tt := range tests {
		c, err := Load("", tt.args)
		if err != nil {
			t.Errorf("Load(%q): %v", tt.args, err)
			continue
		}
		if !tt.check(c) {
			t.Errorf("Load(%q) did not give the expected field", tt.args)
		}
	}
}

func TestCommandLineErrorsNameTheDirective(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--port", "abc"}, `command line: 'port abc': argument couldn't be parsed into an integer`},
		{[]string{"--requirepass", "a", "b"}, `command line: 'requirepass a b': wrong number of arguments`},
		{[]string{"--nosuch", "x y"}, `command line: 'nosuch "x y"': Bad directive or wrong number of arguments`},
		{[]string{"--include", "x.conf"}, `command line: 'include x.conf': Bad directive or wrong number of arguments`},
		{[]string{"--daemonize", "yes"}, `command line: 'daemonize yes': ` + ErrDaemonize.Error()},
	}
	for _, tt := range tests {
		_, err := Load("", tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load(%q) error =\n  %v\nwant\n  %s", tt.args, err, tt.want)
		}
	}
}

func TestFromCommandLineTakesFileFirst(t *testing.T) {
	path := writeFile(t, t.TempDir(), "w.conf", "port 6001\n")
	c, err := FromCommandLine([]string{path, "--databases", "4"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 6001 || c.Databases != 4 {
		t.Fatalf("port=%d databases=%d", c.Port, c.Databases)
	}
	c, err = FromCommandLine([]string{"--port", "6002"})
	if err != nil || c.Port != 6002 || c.Path() != "" {
		t.Fatalf("args only: %v, %+v", err, c)
	}
	if _, err := FromCommandLine([]string{"-"}); err == nil {
		t.Fatal("reading the config from standard input was accepted")
	}
	if _, err := FromCommandLine([]string{filepath.Join(t.TempDir(), "missing.conf")}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestIncludeIsRelativeToIncludingFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "conf.d/net.conf", "port 7100\ninclude more.conf\n")
	writeFile(t, dir, "conf.d/more.conf", "databases 3\n")
	writeFile(t, dir, "conf.d/a.part", "maxclients 5\n")
	writeFile(t, dir, "conf.d/b.part", "maxclients 6\n")
	main := writeFile(t, dir, "main.conf", "port 1\ninclude conf.d/net.conf\ninclude conf.d/*.part\n")
	t.Chdir(t.TempDir()) // includes must not depend on the working directory
	c, err := Load(main, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 7100 || c.Databases != 3 || c.MaxClients != 6 {
		t.Fatalf("port=%d databases=%d maxclients=%d", c.Port, c.Databases, c.MaxClients)
	}
}

func TestIncludeErrorsNameTheIncludedFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.conf", "\nport x\n")
	main := writeFile(t, dir, "main.conf", "include bad.conf\n")
	_, err := Load(main, nil)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != filepath.Join(dir, "bad.conf") || pe.Line != 2 {
		t.Fatalf("error %v does not point at bad.conf line 2", err)
	}
	_, err = Load(writeFile(t, dir, "missing.conf", "include nope.conf\n"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("include of a missing file: %v", err)
	}
}

func TestIncludeLoopIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.conf", "port 1\ninclude b.conf\n")
	writeFile(t, dir, "b.conf", "include a.conf\n")
	_, err := Load(filepath.Join(dir, "a.conf"), nil)
	if err == nil || !strings.Contains(err.Error(), "include loop") {
		t.Fatalf("include loop: %v", err)
	}
	self := writeFile(t, dir, "self.conf", "include self.conf\n")
	if _, err := Load(self, nil); err == nil || !strings.Contains(err.Error(), "include loop") {
		t.Fatalf("self include: %v", err)
	}
}

// stockRedisConf returns a copy of the stock Redis 7.0 redis.conf in a
// temporary directory: the installed one when readable, else the excerpt
// kept in testdata.
func stockRedisConf(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("/etc/redis/redis.conf")
	if err != nil {
		t.Logf("no readable /etc/redis/redis.conf (%v): using testdata excerpt", err)
		if data, err = os.ReadFile("testdata/redis-7.0-stock.conf"); err != nil {
			t.Fatal(err)
		}
	}
	return writeFile(t, t.TempDir(), "redis.conf", string(data))
}

func TestStockRedisConfLoads(t *testing.T) {
	for _, path := range []string{stockRedisConf(t), "testdata/redis-7.0-stock.conf"} {
		// The stock file says "daemonize yes"; Debian's unit starts it with
		// --supervised systemd --daemonize no, which is what walrus needs.
		c, err := Load(path, []string{"--supervised", "systemd", "--daemonize", "no"})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !slices.Equal(c.Bind, []string{"127.0.0.1", "-::1"}) || c.Port != 6379 || c.Dir != "/var/lib/redis" ||
			c.AppendOnly || len(c.Save) != 3 || c.OutputBufferLimits.Replica.Hard != 256<<20 {
			t.Fatalf("%s: unexpected values: %+v", path, c)
		}
		if got := c.Get("supervised"); len(got) != 1 || got[0][1] != "systemd" {
			t.Fatalf("supervised = %v", got)
		}
	}
}

func TestStockRedisConfAloneIsRefusedForDaemonize(t *testing.T) {
	_, err := Load(stockRedisConf(t), nil)
	var pe *ParseError
	if !errors.Is(err, ErrDaemonize) || !errors.As(err, &pe) || pe.Text != "daemonize yes" || pe.Line == 0 {
		t.Fatalf("stock redis.conf without --daemonize no: %v", err)
	}
}
