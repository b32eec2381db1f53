package server

import (
	"regexp"
	"strings"
	"testing"
)

// TestCommandStats: INFO commandstats counts calls, failed calls and
// rejected calls per command and subcommand, INFO errorstats counts error
// replies by code, total_error_replies all of them, and CONFIG RESETSTAT
// zeroes them, as in Redis 7.0. Against redis-server too.
func TestCommandStats(t *testing.T) { againstBoth(t, commandStatsScenario) }

func commandStatsScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	other := dialRaw(t, addr)
	otherID := strings.TrimPrefix(other.do("CLIENT", "ID"), ":")
	c.expect("+OK", "CONFIG", "RESETSTAT")

	c.expect("+OK", "SET", "a", "1")
	c.expect("-WRONGTYPE Operation against a key holding the wrong kind of value", "LPUSH", "a", "x") // failed
	c.expect("-ERR wrong number of arguments for 'get' command", "GET")                               // rejected
	c.expect("-ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.", "CLIENT", "NOSUCH")                // no line
	c.expect("-ERR wrong number of arguments for 'client' command", "CLIENT")                         // rejected, the container's
	c.expect("-ERR wrong number of arguments for 'client|setname' command", "CLIENT", "SETNAME")      // rejected
	c.do("CLIENT", "LIST")
	if got := c.do("NOSUCHCMD", "x"); !strings.HasPrefix(got, "-ERR unknown command 'NOSUCHCMD'") {
		t.Fatalf("NOSUCHCMD x: %q", got) // no line
	}
	c.expect("$encoding-free", "ECHO", "encoding-free")
	if got := c.do("OBJECT", "ENCODING", "a"); got == "(nil)" || strings.HasPrefix(got, "-") {
		t.Fatalf("OBJECT ENCODING a = %q", got)
	}
	c.expect("(nil-array)", "BLPOP", "l", "0.01") // a timeout is a call

	// Blocked, then served: one call.
	other.send("BLPOP", "l2", "0")
	c.waitBlocked("1")
	c.expect(":1", "RPUSH", "l2", "v")
	other.expectRead("[$l2 $v]")
	// Blocked, then unblocked with an error: a failed call. (Redis also
	// counts a failed call of CLIENT UNBLOCK, whose run the error reply
	// happens in; walrus does not, and the line is not compared.)
	other.send("BLPOP", "l2", "0")
	c.waitBlocked("1")
	c.expect(":1", "CLIENT", "UNBLOCK", otherID, "ERROR")
	other.expectRead("-UNBLOCKED client unblocked via CLIENT UNBLOCK")

	// A transaction: its commands count when EXEC runs them.
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "SET", "b", "2")
	c.expect("+QUEUED", "INCR", "b")
	c.expect("+QUEUED", "LPUSH", "b", "x")
	c.expect("[+OK :3 -WRONGTYPE Operation against a key holding the wrong kind of value]", "EXEC")
	// A command refused while queued is rejected; EXEC then fails.
	c.expect("+OK", "MULTI")
	c.expect("-ERR wrong number of arguments for 'get' command", "GET")
	c.expect("-EXECABORT Transaction discarded because of previous errors.", "EXEC")

	stats := c.do("INFO", "commandstats")
	lines := map[string]string{}
	line := regexp.MustCompile(`(?m)^cmdstat_(\S+):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,rejected_calls=(\d+),failed_calls=(\d+)\r?$`)
	for _, m := range line.FindAllStringSubmatch(stats, -1) {
		lines[m[1]] = "calls=" + m[2] + " rejected=" + m[3] + " failed=" + m[4]
	}
	want := map[string]string{
		"set":             "calls=2 rejected=0 failed=0",
		"lpush":           "calls=2 rejected=0 failed=2",
		"get":             "calls=0 rejected=2 failed=0",
		"incr":            "calls=1 rejected=0 failed=0",
		"client":          "calls=0 rejected=1 failed=0",
		"client|setname":  "calls=0 rejected=1 failed=0",
		"client|list":     "calls=1 rejected=0 failed=0",
		"echo":            "calls=1 rejected=0 failed=0",
		"object|encoding": "calls=1 rejected=0 failed=0",
		"blpop":           "calls=3 rejected=0 failed=1",
		"rpush":           "calls=1 rejected=0 failed=0",
		"multi":           "calls=2 rejected=0 failed=0",
		"exec":            "calls=2 rejected=0 failed=1",
	}
	for name, w := range want {
		if got := lines[name]; got != w {
			t.Errorf("cmdstat_%s: %q, want %q", name, got, w)
		}
	}
	for name := range lines {
		if _, ok := want[name]; !ok && name != "config|resetstat" && name != "info" && name != "client|unblock" {
			t.Errorf("unexpected line cmdstat_%s: %s", name, lines[name])
		}
	}
	if t.Failed() {
		t.Logf("INFO commandstats:\n%s", stats)
	}

	errs := c.do("INFO", "errorstats")
	for _, w := range []string{"errorstat_ERR:count=6", "errorstat_EXECABORT:count=1", "errorstat_UNBLOCKED:count=1", "errorstat_WRONGTYPE:count=2"} {
		if !strings.Contains(errs, "\r\n"+w+"\r\n") && !strings.HasSuffix(errs, "\r\n"+w) {
			t.Errorf("INFO errorstats has no %s:\n%s", w, errs)
		}
	}
	if got := infoField(t, c, "stats", "total_error_replies"); got != "10" {
		t.Errorf("total_error_replies:%s, want 10", got)
	}

	// INFO shows errorstats by default, commandstats only when asked.
	if all := c.do("INFO"); strings.Contains(all, "# Commandstats") || !strings.Contains(all, "# Errorstats") {
		t.Errorf("INFO: want # Errorstats and no # Commandstats")
	}
	if all := c.do("INFO", "all"); !strings.Contains(all, "# Commandstats") || !strings.Contains(all, "# Errorstats") {
		t.Errorf("INFO all: want # Commandstats and # Errorstats")
	}

	c.expect("+OK", "CONFIG", "RESETSTAT")
	if got := c.do("INFO", "errorstats"); strings.Contains(got, "errorstat_") {
		t.Errorf("INFO errorstats after CONFIG RESETSTAT:\n%s", got)
	}
	if got := c.do("INFO", "commandstats"); strings.Contains(got, "cmdstat_set") {
		t.Errorf("INFO commandstats after CONFIG RESETSTAT:\n%s", got)
	}
	if got := infoField(t, c, "stats", "total_error_replies"); got != "0" {
		t.Errorf("total_error_replies:%s after CONFIG RESETSTAT, want 0", got)
	}
}
