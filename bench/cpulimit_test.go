package bench

import (
	"errors"
	"os/exec"
	"testing"
	"time"
)

func TestLimitCPUCapsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("burns CPU for a second")
	}
	busy := exec.Command("sh", "-c", "exec yes >/dev/null")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Process.Kill(); busy.Wait() })
	l, err := limitCPU(busy.Process.Pid, 0.2)
	if errors.Is(err, ErrNoCPUCgroup) {
		t.Skip("cannot cap CPUs here: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		busy.Process.Kill()
		busy.Wait()
		if err := l.remove(); err != nil {
			t.Error(err)
		}
	}()
	// Uncapped, yes(1) takes a whole CPU; capped at 0.2 it gets about a
	// fifth of the time that passes.
	before, err := ReadCPU(busy.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.Sleep(time.Second)
	used, err := ReadCPU(busy.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if share := (used - before).Seconds() / time.Since(start).Seconds(); share > 0.4 {
		t.Errorf("capped at 0.2 CPUs, the process used %.2f CPUs", share)
	}
	if _, err := limitCPU(busy.Process.Pid, 0); err == nil {
		t.Error("a cap of 0 CPUs was accepted")
	}
}
