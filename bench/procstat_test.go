package bench

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPUCountsUserAndSystemTicks(t *testing.T) {
	// The command name holds a space and a parenthesis, as it may.
	line := "4242 (redis (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 1000 200\n"
	got, err := parseStatCPU([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want { // (250+50) ticks at 100 Hz
		t.Errorf("cpu = %v, want %v", got, want)
	}
	if _, err := parseStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("short stat line parsed")
	}
}

func TestParsePSSReadsKilobytes(t *testing.T) {
	rollup := "55d0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:  2048 kB\nPss:  1536 kB\nPss_Anon: 1000 kB\n"
	got, err := parsePSS(strings.NewReader(rollup))
	if err != nil || got != 1536*1024 {
		t.Errorf("parsePSS = %d, %v; want %d", got, err, 1536*1024)
	}
	if _, err := parsePSS(strings.NewReader("Rss: 1 kB\n")); err == nil {
		t.Error("missing Pss line accepted")
	}
}

func TestParseStatmRSSCountsResidentPages(t *testing.T) {
	got, err := parseStatmRSS([]byte("5000 1200 300 10 0 900 0\n"), 4096)
	if err != nil || got != 1200*4096 {
		t.Errorf("parseStatmRSS = %d, %v; want %d", got, err, 1200*4096)
	}
	if _, err := parseStatmRSS([]byte("5000\n"), 4096); err == nil {
		t.Error("short statm line parsed")
	}
}

func TestReadCPUAndPSSOfThisProcess(t *testing.T) {
	pss, err := ReadPSS(os.Getpid())
	if err != nil {
		t.Skipf("no smaps_rollup here: %v", err)
	}
	if pss <= 0 {
		t.Errorf("PSS = %d", pss)
	}
	if rss, err := ReadRSS(os.Getpid()); err != nil || rss < pss/2 {
		t.Errorf("ReadRSS = %d, %v; PSS is %d", rss, err, pss)
	}
	// Burn a little CPU so that at least one tick is charged.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, err := ReadCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Errorf("ReadCPU = %v, %v", cpu, err)
	}
}

func TestSettleWaitsForAnIdleProcess(t *testing.T) {
	if _, err := exec.LookPath("yes"); err != nil {
		t.Skip("no yes(1): ", err)
	}
	idle := exec.Command("sleep", "60")
	busy := exec.Command("sh", "-c", "exec yes >/dev/null")
	for _, c := range []*exec.Cmd{idle, busy} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	}
	const timeout = 4 * time.Second
	if took, err := settle(idle.Process.Pid, timeout); err != nil || took >= timeout || took < 2*time.Second {
		t.Errorf("settle(idle) = %v, %v; want 2s (8 quiet windows) up to %v", took, err, timeout)
	}
	if took, err := settle(busy.Process.Pid, timeout); err != nil || took != timeout {
		t.Errorf("settle(busy) = %v, %v; want the timeout %v", took, err, timeout)
	}
}
