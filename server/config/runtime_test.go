package config

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestGetGlobMatchesNamesAndAliases(t *testing.T) {
	c := parse(t, "replica-read-only no\nport 7000")
	tests := []struct {
		pattern string
		want    [][2]string
	}{
		{"port", [][2]string{{"port", "7000"}}},
		{"PORT", [][2]string{{"PORT", "7000"}}},
		{"Slave-Read-Only", [][2]string{{"Slave-Read-Only", "no"}}},
		{"nosuch", nil},
		{"rename-command", nil},
		{"*read-only", [][2]string{{"replica-read-only", "no"}, {"slave-read-only", "no"}}},
		{"repl-ping-*", [][2]string{{"repl-ping-replica-period", "10"}, {"repl-ping-slave-period", "10"}}},
		{"p?rt", [][2]string{{"port", "7000"}}},
		{"[pq]ort", [][2]string{{"port", "7000"}}},
		{"*nosuch*", nil},
		// Redis's debugging directives answer only when named.
		{"key-load-delay", [][2]string{{"key-load-delay", "0"}}},
		{"key-load-*", nil},
		{"*-delay", [][2]string{{"repl-diskless-sync-delay", "5"}}},
	}
	for _, tt := range tests {
		if got := c.Get(tt.pattern); !slices.Equal(got, tt.want) {
			t.Errorf("Get(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestGetFormatsValuesLikeRedis(t *testing.T) {
	c := parse(t, "bind 127.0.0.1 ::1\nsave 3600 1 300 100\nmaxmemory 1gb\nreplicaof 10.0.0.1 6380\nappendonly yes\nclient-output-buffer-limit replica 1mb 2mb 30\ntcp-keepalive 30")
	want := map[string]string{
		"bind":                       "127.0.0.1 ::1",
		"save":                       "3600 1 300 100",
		"maxmemory":                  "1073741824",
		"proto-max-bulk-len":         "536870912",
		"replicaof":                  "10.0.0.1 6380",
		"slaveof":                    "10.0.0.1 6380",
		"appendonly":                 "yes",
		"tcp-keepalive":              "30",
		"client-output-buffer-limit": "normal 0 0 0 slave 1048576 2097152 30 pubsub 33554432 8388608 60",
		"requirepass":                "",
	}
	for name, v := range want {
		got := c.Get(name)
		if len(got) != 1 || got[0][1] != v {
			t.Errorf("Get(%q) = %q, want %q", name, got, v)
		}
	}
	if got := parse(t, `save ""`).Get("save"); got[0][1] != "" {
		t.Errorf(`Get(save) after save "" = %q`, got)
	}
	if got := Default().Get("replicaof"); got[0][1] != "" {
		t.Errorf("Get(replicaof) on a master = %q", got)
	}
	if n := len(Default().Get("*")); n < 150 {
		t.Errorf("Get(*) returned only %d directives", n)
	}
}

func TestSetChangesMutableDirectives(t *testing.T) {
	c := Default()
	tests := []struct {
		name, value string
		check       func() bool
	}{
		{"requirepass", "s3cret pass", func() bool { return c.RequirePass == "s3cret pass" }},
		{"appendfsync", "ALWAYS", func() bool { return c.AppendFsync == "always" }},
		{"slave-read-only", "no", func() bool { return !c.ReplicaReadOnly }},
		{"save", "60 1 30 2", func() bool { return len(c.Save) == 2 && c.Save[1] == SaveRule{30 * time.Second, 2} }},
		{"save", "", func() bool { return len(c.Save) == 0 }},
		{"repl-backlog-size", "10mb", func() bool { return c.ReplBacklogSize == 10<<20 }},
		{"client-output-buffer-limit", "replica 1gb 0 0", func() bool {
			return c.OutputBufferLimits.Replica.Hard == 1<<30 && c.OutputBufferLimits.PubSub.Hard == 32<<20
		}},
		{"min-replicas-to-write", "1", func() bool { return c.MinReplicasToWrite == 1 }},
		{"maxmemory-policy", "allkeys-lru", func() bool { return c.Get("maxmemory-policy")[0][1] == "allkeys-lru" }},
	}
	for _, tt := range tests {
		if err := c.Set(tt.name, tt.value); err != nil {
			t.Errorf("Set(%q, %q): %v", tt.name, tt.value, err)
			continue
		}
		if !tt.check() {
			t.Errorf("Set(%q, %q) did not change the field", tt.name, tt.value)
		}
	}
}

func TestSetRefusalsUseRedisText(t *testing.T) {
	tests := []struct {
		name, value string
		want        string
		is          error
	}{
		{"port", "7000", "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config", ErrImmutable},
		{"daemonize", "yes", "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config", ErrImmutable},
		{"replicaof", "h 1", "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set immutable config", ErrImmutable},
		{"nosuch", "1", "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'", ErrUnknownDirective},
		{"rename-command", "a b", "ERR Unknown option or number of arguments for CONFIG SET - 'rename-command'", ErrUnknownDirective},
		{"maxclients", "abc", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer", nil},
		{"maxclients", "-5", "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive", nil},
		{"appendfsync", "sometimes", "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no", nil},
		{"replica-read-only", "maybe", "ERR CONFIG SET failed (possibly related to argument 'replica-read-only') - argument must be 'yes' or 'no'", nil},
		{"proto-max-bulk-len", "1x", "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value", nil},
		{"save", "1 2 3", "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", nil},
		{"client-output-buffer-limit", "foo 1 2 3", "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.", nil},
		{"timeout", "-1", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive", nil},
		{"shutdown-on-sigterm", "save nosave", "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously", nil},
		{"shutdown-on-sigint", "later", "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force", nil},
	}
	for _, tt := range tests {
		c := Default()
		before := c.Get("*")
		err := c.Set(tt.name, tt.value)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q, %q) = %v, want %s", tt.name, tt.value, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Set(%q, %q) = %v, does not wrap %v", tt.name, tt.value, err, tt.is)
		}
		if after := c.Get("*"); !slices.Equal(before, after) {
			t.Errorf("refused Set(%q, %q) changed the config", tt.name, tt.value)
		}
	}
}

func TestSetRunsHooksAfterTheChange(t *testing.T) {
	c := Default()
	var seen []string
	c.OnChange("slave-read-only", func(c *Config) error { // alias registers the canonical name
		c.RLock()
		defer c.RUnlock()
		seen = append(seen, formatBool(c.ReplicaReadOnly))
		return nil
	})
	if err := c.Set("replica-read-only", "no"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("slave-read-only", "yes"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("appendonly", "yes"); err != nil { // another directive: no call
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"no", "yes"}) {
		t.Fatalf("hook saw %q, want [no yes]", seen)
	}
}

func TestSetHookVetoRestoresOldValue(t *testing.T) {
	c := Default()
	var first []string
	c.OnChange("appendfsync", func(c *Config) error {
		c.RLock()
		defer c.RUnlock()
		first = append(first, c.AppendFsync)
		return nil
	})
	c.OnChange("appendfsync", func(c *Config) error {
		if c.AppendFsync == "no" {
			return errors.New("refusing appendfsync no")
		}
		return nil
	})
	err := c.Set("appendfsync", "no")
	if err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - refusing appendfsync no" {
		t.Fatalf("vetoed Set = %v", err)
	}
	if c.AppendFsync != "everysec" {
		t.Fatalf("AppendFsync = %q after veto, want everysec", c.AppendFsync)
	}
	if !slices.Equal(first, []string{"no", "everysec"}) {
		t.Fatalf("first hook saw %q, want [no everysec] (new value, then the restored one)", first)
	}
}

func TestOnChangeUnknownDirectivePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("OnChange for an unknown directive did not panic")
		}
	}()
	Default().OnChange("no-such-directive", func(*Config) error { return nil })
}

func TestSetReplicaOfShowsInGet(t *testing.T) {
	c := Default()
	c.SetReplicaOf("10.0.0.9", 6390)
	if host, port, ok := c.ReplicaOf(); !ok || host != "10.0.0.9" || port != 6390 {
		t.Fatalf("ReplicaOf() = %q %d %v", host, port, ok)
	}
	if got := c.Get("slaveof"); got[0][1] != "10.0.0.9 6390" {
		t.Fatalf("Get(slaveof) = %q", got)
	}
	c.SetReplicaOf("", 0)
	if _, _, ok := c.ReplicaOf(); ok {
		t.Fatal("still a replica after SetReplicaOf(\"\", 0)")
	}
}

// TestConcurrentSetAndReads is for the race detector: readers under RLock,
// Get and Persistent while Set runs.
func TestConcurrentSetAndReads(t *testing.T) {
	c := Default()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.RLock()
				_ = c.RequirePass + c.AppendFsync
				_ = len(c.Save)
				c.RUnlock()
				_ = c.Get("*pass*")
				_ = c.Persistent()
			}
		})
	}
	for i := range 200 {
		if err := c.Set("requirepass", string(rune('a'+i%26))); err != nil {
			t.Error(err)
		}
		if err := c.Set("save", "60 1"); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	if c.RequirePass != string(rune('a'+199%26)) {
		t.Fatalf("RequirePass = %q", c.RequirePass)
	}
}

func TestMutableReportsTableFlags(t *testing.T) {
	for name, want := range map[string]bool{"port": false, "requirepass": true, "slave-read-only": true, "rename-command": false, "nosuch": false} {
		if got := Mutable(name); got != want {
			t.Errorf("Mutable(%q) = %v, want %v", name, got, want)
		}
	}
}

func BenchmarkReadMutableFieldUnderRLock(b *testing.B) {
	c := Default()
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			c.RLock()
			n += len(c.RequirePass)
			c.RUnlock()
		}
		_ = n
	})
}

func BenchmarkGetAll(b *testing.B) {
	c := Default()
	for b.Loop() {
		_ = c.Get("*")
	}
}

// TestShutdownOnSignalShowsRedisOrder: the options are shown in Redis's
// order whatever order and case they came in, "default" adding none.
func TestShutdownOnSignalShowsRedisOrder(t *testing.T) {
	for in, want := range map[string]string{
		"default":      "default",
		"NOW save":     "save now",
		"default now":  "now",
		"force nosave": "nosave force",
	} {
		c := Default()
		if err := c.Set("shutdown-on-sigterm", in); err != nil {
			t.Fatalf("Set(shutdown-on-sigterm, %q): %v", in, err)
		}
		if got := c.Get("shutdown-on-sigterm")[0][1]; got != want {
			t.Errorf("shutdown-on-sigterm %q shows as %q, want %q", in, got, want)
		}
	}
}
