package server

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoLeftOut are the fields of Redis 7.0's INFO everything that walrus
// does not give, for want of a figure that would mean the same: the Lua
// VMs and function registries (their memory is Go heap no one counts
// apart), per-class client and buffer memory, the expired keys'
// estimate (the expiry index is exact), and Redis's internals.
var infoLeftOut = []string{
	"atomicvar_api",
	"used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
	"number_of_functions", "number_of_libraries", "used_memory_vm_functions",
	"used_memory_vm_total", "used_memory_vm_total_human", "used_memory_functions",
	"used_memory_scripts", "used_memory_scripts_human",
	"mem_not_counted_for_evict", "mem_clients_slaves", "mem_clients_normal", "mem_aof_buffer",
	"expired_stale_perc", "unexpected_error_replies", "dump_payload_sanitizations",
	"reply_buffer_shrinks", "reply_buffer_expands",
	"used_cpu_sys_main_thread", "used_cpu_user_main_thread",
}

// infoFields returns INFO everything's field names by section, in order,
// leaving out the per-command, per-error and per-database ones.
func infoFields(t *testing.T, c *rawConn) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	section := ""
	for _, line := range strings.Split(strings.TrimPrefix(c.do("INFO", "everything"), "$"), "\r\n") {
		if title, ok := strings.CutPrefix(line, "# "); ok {
			section = title
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || section == "Commandstats" || section == "Errorstats" || section == "Latencystats" || section == "Keyspace" {
			continue
		}
		out[section] = append(out[section], name)
	}
	return out
}

// TestInfoFieldsMatchRedis: INFO everything has Redis 7.0's fields, in
// each section and in Redis's order, except infoLeftOut; walrus adds its
// own (walrus_) and Redis 7.2's ACL denial counts.
func TestInfoFieldsMatchRedis(t *testing.T) {
	redisAddr := redisServer(t)
	theirs := infoFields(t, dialRaw(t, redisAddr))
	ours := infoFields(t, dialRaw(t, startServer(t, "--save", "").Addr().String()))
	for section, fields := range theirs {
		var want []string
		for _, f := range fields {
			if !slices.Contains(infoLeftOut, f) {
				want = append(want, f)
			}
		}
		var got []string
		for _, f := range ours[section] {
			if !strings.HasPrefix(f, "walrus_") && !strings.HasPrefix(f, "acl_access_denied_") {
				got = append(got, f)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("INFO %s fields:\n walrus %v\n redis  %v", section, got, want)
		}
	}
}

// TestInfoCountsSavesRewritesAndSocketIO: the persistence and I/O
// counters move with what they count.
func TestInfoCountsSavesRewritesAndSocketIO(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	num := func(section, field string) int64 {
		t.Helper()
		v := infoField(t, c, section, field)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("INFO %s: %q", field, v)
		}
		return n
	}
	if n := num("persistence", "rdb_last_bgsave_time_sec"); n != -1 {
		t.Errorf("rdb_last_bgsave_time_sec %d before any BGSAVE, want -1", n)
	}
	c.expect("+OK", "SAVE")
	c.expect("+Background saving started", "BGSAVE")
	if n := num("persistence", "rdb_saves"); n != 2 {
		t.Errorf("rdb_saves %d after SAVE and BGSAVE, want 2", n)
	}
	if n := num("persistence", "rdb_last_bgsave_time_sec"); n != 0 {
		t.Errorf("rdb_last_bgsave_time_sec %d after a BGSAVE of an empty store, want 0", n)
	}
	c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
	if n := num("persistence", "aof_rewrites"); n != 1 {
		t.Errorf("aof_rewrites %d after BGREWRITEAOF, want 1", n)
	}
	if got := infoField(t, c, "persistence", "aof_last_bgrewrite_status"); got != "ok" {
		t.Errorf("aof_last_bgrewrite_status %q", got)
	}
	reads, writes := num("stats", "total_reads_processed"), num("stats", "total_writes_processed")
	for range 10 {
		c.expect("+PONG", "PING")
	}
	if r, w := num("stats", "total_reads_processed"), num("stats", "total_writes_processed"); r < reads+10 || w < writes+10 {
		t.Errorf("10 PINGs took reads %d → %d and writes %d → %d", reads, r, writes, w)
	}
	if clock, now := num("server", "lru_clock"), time.Now().Unix()&(1<<24-1); clock < now-2 || clock > now {
		t.Errorf("lru_clock %d, want about %d", clock, now)
	}
	c.expect("+OK", "CONFIG", "RESETSTAT")
	if n := num("persistence", "rdb_saves") + num("persistence", "aof_rewrites"); n != 0 {
		t.Errorf("rdb_saves + aof_rewrites = %d after CONFIG RESETSTAT", n)
	}
}

// TestInfoExpireCycleCap: keys due together past what one tick of
// active expiry deletes make it stop with keys left, which INFO counts.
func TestInfoExpireCycleCap(t *testing.T) {
	c := dialRaw(t, startServer(t).Addr().String())
	const n = 5000 // one tick deletes at most 2,000 (engine/expire.go)
	at := strconv.FormatInt(time.Now().Add(time.Second).UnixMilli(), 10)
	for i := range n {
		c.send("SET", "k"+strconv.Itoa(i), "v", "PXAT", at)
	}
	for range n {
		c.expectRead("+OK")
	}
	waitFor(t, "the keys expired", 20*time.Second, func() bool {
		return infoField(t, c, "stats", "expired_keys") == strconv.Itoa(n)
	})
	if got := infoField(t, c, "stats", "expired_time_cap_reached_count"); got == "0" {
		t.Errorf("expired_time_cap_reached_count 0 after %d keys fell due at once", n)
	}
}

// TestInfoEvictionExceededTime: the time used_memory spends over
// maxmemory is counted while it lasts and kept after.
func TestInfoEvictionExceededTime(t *testing.T) {
	c := dialRaw(t, startServer(t, "--save", "", "--appendonly", "no").Addr().String())
	num := func(field string) int64 {
		t.Helper()
		n, err := strconv.ParseInt(infoField(t, c, "stats", field), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := num("total_eviction_exceeded_time"); n != 0 {
		t.Fatalf("total_eviction_exceeded_time %d with no maxmemory", n)
	}
	c.expect("+OK", "CONFIG", "SET", "maxmemory", "1mb") // far under what an empty server uses
	waitFor(t, "300 ms over maxmemory", 10*time.Second, func() bool { return num("current_eviction_exceeded_time") >= 300 })
	c.expect("+OK", "CONFIG", "SET", "maxmemory", "0")
	if n := num("current_eviction_exceeded_time"); n != 0 {
		t.Errorf("current_eviction_exceeded_time %d with maxmemory lifted", n)
	}
	if n := num("total_eviction_exceeded_time"); n < 300 {
		t.Errorf("total_eviction_exceeded_time %d after 300 ms and more over the limit", n)
	}
}

// TestMemoryStatsFieldsMatchRedis: MEMORY STATS has Redis 7.0's fields in
// Redis's order, but for the ones INFO leaves out too.
func TestMemoryStatsFieldsMatchRedis(t *testing.T) {
	leftOut := []string{"clients.slaves", "clients.normal", "aof.buffer", "functions.caches"}
	// With no keys Redis has no per-database entries, so the reply is
	// flat: names and values in turn.
	names := func(c *rawConn) []string {
		t.Helper()
		var out []string
		items := strings.Split(strings.Trim(c.do("MEMORY", "STATS"), "[]"), " ")
		for i := 0; i+1 < len(items); i += 2 {
			name := strings.TrimPrefix(items[i], "$")
			if !slices.Contains(leftOut, name) {
				out = append(out, name)
			}
		}
		return out
	}
	want := names(dialRaw(t, redisServer(t)))
	got := names(dialRaw(t, startServer(t).Addr().String()))
	if len(want) < 20 {
		t.Fatalf("read %d fields of Redis's MEMORY STATS: %v", len(want), want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("MEMORY STATS fields:\n walrus %v\n redis  %v", got, want)
	}
}
