package engine

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestLFUCounterDecaysAndGrowsAsRedis: under an LFU policy a key's
// counter loses one for every lfu-decay-time minutes it is not used,
// stops at 255, and with Redis's default lfu-log-factor grows with the
// logarithm of its uses.
func TestLFUCounterDecaysAndGrowsAsRedis(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixMilli())
	e := testEngine(t, Options{Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	e.SetAccessPolicy(true, 0, 1) // every use counts one
	s := NewSession()
	do(t, e, s, "SET k v")
	for range 15 {
		do(t, e, s, "GET k")
	}
	freq := func(want string) {
		t.Helper()
		if got := do(t, e, s, "OBJECT FREQ k"); got != want {
			t.Errorf("OBJECT FREQ k: %s, want %s", got, want)
		}
	}
	freq("(integer) 20")
	clock.Add(3 * 60_000)
	freq("(integer) 17")
	e.SetAccessPolicy(true, 0, 2)
	freq("(integer) 19") // 3 minutes: one period of 2
	e.SetAccessPolicy(true, 0, 0)
	freq("(integer) 20") // no decay
	do(t, e, s, "GET k") // the use stores the decayed counter, plus one
	e.SetAccessPolicy(true, 0, 1)
	freq("(integer) 21")
	clock.Add(30 * 60_000)
	freq("(integer) 0")

	payload := do(t, e, s, "DUMP k")
	if out := e.Exec(s, [][][]byte{{[]byte("RESTORE"), []byte("top"), []byte("0"), []byte(payload), []byte("FREQ"), []byte("255")}}, nil); string(out) != "+OK\r\n" {
		t.Fatalf("RESTORE ... FREQ 255: %q", out)
	}
	do(t, e, s, "GET top")
	if got := do(t, e, s, "OBJECT FREQ top"); got != "(integer) 255" {
		t.Errorf("OBJECT FREQ top after a use at 255: %s", got)
	}

	// lfu-log-factor 10: Redis's table gives about 18 for 1000 uses (12 to 32
	// in 100,000 simulated runs).
	e.SetAccessPolicy(true, 10, 1)
	do(t, e, s, "SET many v")
	for range 1000 {
		do(t, e, s, "GET many")
	}
	var n int
	if got := do(t, e, s, "OBJECT FREQ many"); !fmtSscanInt(got, &n) || n < 10 || n > 40 {
		t.Errorf("OBJECT FREQ after 1000 uses at lfu-log-factor 10: %s, want about 18", got)
	}
}

func fmtSscanInt(s string, n *int) bool {
	_, err := fmt.Sscanf(s, "(integer) %d", n)
	return err == nil
}
