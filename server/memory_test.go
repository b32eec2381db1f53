package server

import (
	"strconv"
	"strings"
	"testing"
)

// TestMemoryCommand: MEMORY's subcommands answer in Redis's shapes and
// words, and MEMORY USAGE grows with what a key holds. Against
// redis-server too (its byte counts are its own, so only their order is
// compared).
func TestMemoryCommand(t *testing.T) { againstBoth(t, memoryScenario) }

func memoryScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	usage := func(args ...string) int64 {
		t.Helper()
		got := c.do(append([]string{"MEMORY", "USAGE"}, args...)...)
		n, err := strconv.ParseInt(strings.TrimPrefix(got, ":"), 10, 64)
		if !strings.HasPrefix(got, ":") || err != nil || n <= 0 {
			t.Fatalf("MEMORY USAGE %v = %q, want a positive integer", args, got)
		}
		return n
	}
	c.expect("(nil)", "MEMORY", "USAGE", "nosuch")
	c.expect("+OK", "SET", "small", "v")
	c.expect("+OK", "SET", "big", strings.Repeat("x", 10000))
	if s, b := usage("small"), usage("big"); s >= b || b < 10000 {
		t.Errorf("MEMORY USAGE: %d for a 1-byte string, %d for a 10,000-byte one", s, b)
	}
	few := []string{"RPUSH", "few"}
	many := []string{"RPUSH", "many"}
	for i := range 1000 {
		if i < 10 {
			few = append(few, "element-"+strconv.Itoa(i))
		}
		many = append(many, "element-"+strconv.Itoa(i))
	}
	c.expect(":10", few...)
	c.expect(":1000", many...)
	if f, m := usage("few", "SAMPLES", "0"), usage("many", "SAMPLES", "0"); m < 50*f {
		t.Errorf("MEMORY USAGE SAMPLES 0: %d for 10 elements, %d for 1000", f, m)
	}
	if m := usage("many"); m < 10000 {
		t.Errorf("MEMORY USAGE many (5 samples) = %d, want an estimate for 1000 elements", m)
	}

	for _, tc := range []struct {
		want string
		args []string
	}{
		{"-ERR syntax error", []string{"MEMORY", "USAGE", "many", "FOO"}},
		{"-ERR syntax error", []string{"MEMORY", "USAGE", "many", "SAMPLES"}},
		{"-ERR syntax error", []string{"MEMORY", "USAGE", "many", "SAMPLES", "-1"}},
		{"-ERR value is not an integer or out of range", []string{"MEMORY", "USAGE", "many", "SAMPLES", "x"}},
		{"-ERR wrong number of arguments for 'memory|usage' command", []string{"MEMORY", "USAGE"}},
		{"-ERR wrong number of arguments for 'memory|stats' command", []string{"MEMORY", "STATS", "x"}},
		{"-ERR unknown subcommand 'NOSUCH'. Try MEMORY HELP.", []string{"MEMORY", "NOSUCH"}},
		{"-ERR wrong number of arguments for 'memory' command", []string{"MEMORY"}},
		{"+OK", []string{"MEMORY", "PURGE"}},
	} {
		c.expect(tc.want, tc.args...)
	}
	if got := c.do("MEMORY", "HELP"); !strings.HasPrefix(got, "[+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:") {
		t.Errorf("MEMORY HELP = %q", got)
	}
	for _, sub := range []string{"DOCTOR", "MALLOC-STATS"} {
		if got := c.do("MEMORY", sub); !strings.HasPrefix(got, "$") || len(got) < 10 {
			t.Errorf("MEMORY %s = %q, want text", sub, got)
		}
	}
	stats := c.do("MEMORY", "STATS")
	for _, want := range []string{"$peak.allocated :", "$total.allocated :", "$keys.count :4 ", "$dataset.bytes :"} {
		if !strings.Contains(stats, want) {
			t.Errorf("MEMORY STATS has no %q: %s", want, stats)
		}
	}
}
