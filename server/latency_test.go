package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLatency: LATENCY HISTOGRAM, INFO latencystats and the latency
// monitor (LATENCY LATEST, HISTORY, GRAPH, DOCTOR, RESET) answer in
// Redis 7.0's shapes and words. Against redis-server too.
func TestLatency(t *testing.T) { againstBothStarting(t, latencyScenario) }

func latencyScenario(t *testing.T, start startFunc) {
	c := dialRaw(t, start("--enable-debug-command", "yes")) // DEBUG SLEEP
	c.expect("+OK", "CONFIG", "RESETSTAT")

	// The monitor, off.
	if got := c.do("LATENCY", "DOCTOR"); !strings.Contains(got, "Latency monitoring is disabled in this Redis instance.") {
		t.Errorf("LATENCY DOCTOR with the monitor off: %q", got)
	}
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"[]", []string{"LATENCY", "LATEST"}},
		{"[]", []string{"LATENCY", "HISTORY", "command"}},
		{":0", []string{"LATENCY", "RESET"}},
		{"-ERR No samples available for event 'command'", []string{"LATENCY", "GRAPH", "command"}},
		{"-ERR unknown subcommand 'NOSUCH'. Try LATENCY HELP.", []string{"LATENCY", "NOSUCH"}},
		{"-ERR wrong number of arguments for 'latency|history' command", []string{"LATENCY", "HISTORY"}},
	} {
		c.expect(tc.want, tc.args...)
	}

	// Histograms.
	for range 3 {
		c.expect("+OK", "SET", "a", "1")
	}
	c.expect("$1", "GET", "a")
	hist := c.do("LATENCY", "HISTOGRAM", "set", "GET", "nosuch")
	shape := regexp.MustCompile(`^\[\$set \[\$calls :3 \$histogram_usec \[((?::\d+ :\d+ ?)+)\]\] \$get \[\$calls :1 \$histogram_usec \[((?::\d+ :\d+ ?)+)\]\]\]$`)
	m := shape.FindStringSubmatch(hist)
	if m == nil {
		t.Fatalf("LATENCY HISTOGRAM set GET nosuch = %q", hist)
	}
	for i, points := range m[1:] {
		n := strings.Fields(strings.ReplaceAll(points, ":", ""))
		last, _ := strconv.Atoi(n[len(n)-1])
		if want := []int{3, 1}[i]; last != want {
			t.Errorf("histogram %s ends at %d calls, want %d", points, last, want)
		}
	}
	stats := c.do("INFO", "latencystats")
	if !regexp.MustCompile(`\r\nlatency_percentiles_usec_set:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n`).MatchString(stats) {
		t.Errorf("INFO latencystats:\n%s", stats)
	}
	c.expect("+OK", "CONFIG", "SET", "latency-tracking-info-percentiles", "50 90")
	if stats := c.do("INFO", "latencystats"); !regexp.MustCompile(`\r\nlatency_percentiles_usec_set:p50=\d+\.\d{3},p90=\d+\.\d{3}\r\n`).MatchString(stats) {
		t.Errorf("INFO latencystats with percentiles 50 90:\n%s", stats)
	}
	if all := c.do("INFO"); strings.Contains(all, "# Latencystats") {
		t.Errorf("plain INFO shows latencystats")
	}
	c.expect("+OK", "CONFIG", "RESETSTAT")
	if got := c.do("LATENCY", "HISTOGRAM", "set"); got != "[]" {
		t.Errorf("LATENCY HISTOGRAM set after CONFIG RESETSTAT = %q", got)
	}

	// The monitor, on: a 20 ms DEBUG SLEEP is a "command" sample.
	c.expect("+OK", "CONFIG", "SET", "latency-monitor-threshold", "5")
	if got := c.do("LATENCY", "DOCTOR"); !strings.Contains(got, "no latency spike was observed") {
		t.Errorf("LATENCY DOCTOR before any spike: %q", got)
	}
	c.expect("+OK", "DEBUG", "SLEEP", "0.02")
	latest := c.do("LATENCY", "LATEST")
	lm := regexp.MustCompile(`^\[\[\$command :(\d+) :(\d+) :(\d+)\]\]$`).FindStringSubmatch(latest)
	if lm == nil {
		t.Fatalf("LATENCY LATEST = %q", latest)
	}
	if ms, _ := strconv.Atoi(lm[2]); ms < 20 || lm[2] != lm[3] {
		t.Errorf("LATENCY LATEST = %q: want the latest sample at 20 ms or more, and as the worst", latest)
	}
	if got, want := c.do("LATENCY", "HISTORY", "command"), "[["+":"+lm[1]+" :"+lm[2]+"]]"; got != want {
		t.Errorf("LATENCY HISTORY command = %q, want %q", got, want)
	}
	if got := c.do("LATENCY", "DOCTOR"); !strings.Contains(got, "1. command: 1 latency spikes") {
		t.Errorf("LATENCY DOCTOR after a spike: %q", got)
	}
	if got, want := c.do("LATENCY", "GRAPH", "command"), "$command - high "+lm[2]+" ms, low "+lm[2]+" ms (all time high "+lm[2]+" ms)\n"; !strings.HasPrefix(got, want) {
		t.Errorf("LATENCY GRAPH command = %q, want it to start with %q", got, want)
	}
	c.expect(":0", "LATENCY", "RESET", "nosuch")
	c.expect(":1", "LATENCY", "RESET", "command")
	c.expect("[]", "LATENCY", "LATEST")
}
