package server

import (
	"strings"
	"testing"
	"time"
)

// blockedCount is how many clients wait in a blocking command.
func blockedCount(s *Server) int64 { return s.block.n.Load() }

func TestBlockedPopIsWokenByPushFromAnotherClient(t *testing.T) {
	s := startServer(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	a.send("BLPOP", "q1", "q2", "0")
	waitFor(t, "client to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	if got := b.do("RPUSH", "q2", "x", "y"); got != ":2" {
		t.Fatalf("RPUSH: %s", got)
	}
	got, err := a.read()
	if err != nil || got != "[$q2 $x]" {
		t.Fatalf("woken BLPOP replied %q (%v), want [$q2 $x]", got, err)
	}
	if got := b.do("LRANGE", "q2", "0", "-1"); got != "[$y]" {
		t.Fatalf("list after the pop: %s", got)
	}
	// The pop travels to replicas as a plain LPOP.
	w := s.eng.WAL()
	entry, err := w.Read(w.LastIndex())
	if err != nil || !strings.Contains(string(entry), "LPOP") || strings.Contains(string(entry), "BLPOP") {
		t.Fatalf("last entry %q (%v), want a plain LPOP effect", entry, err)
	}
}

func TestBlockedPopTimesOutWithNullArray(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	for _, cmd := range [][]string{
		{"BLPOP", "none", "0.05"},
		{"BRPOP", "none", "0.05"},
		{"BZPOPMIN", "none", "0.05"},
		{"BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"},
		{"BRPOPLPUSH", "none", "dst", "0.05"},
	} {
		if got := c.do(cmd...); got != "(nil-array)" {
			t.Errorf("%v after its timeout: %s, want a null array", cmd, got)
		}
	}
	if n := blockedCount(s); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

func TestBlockedClientsAreServedInArrivalOrder(t *testing.T) {
	s := startServer(t)
	first, second := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	pusher := dialRaw(t, s.Addr().String())
	first.send("BRPOP", "q", "0")
	waitFor(t, "first to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	second.send("BZPOPMIN", "z", "q", "0")
	waitFor(t, "second to block", 5*time.Second, func() bool { return blockedCount(s) == 2 })
	pusher.do("LPUSH", "q", "a")
	if got, _ := first.read(); got != "[$q $a]" {
		t.Fatalf("first waiter got %s", got)
	}
	if n := blockedCount(s); n != 1 {
		t.Fatalf("%d waiters after one push, want 1", n)
	}
	pusher.do("ZADD", "z", "2", "m")
	if got, _ := second.read(); got != "[$z $m $2]" {
		t.Fatalf("second waiter got %s", got)
	}
}

func TestBlockingMoveWakesTheWaiterOfItsDestination(t *testing.T) {
	s := startServer(t)
	mover, popper, pusher := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	mover.send("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
	waitFor(t, "mover to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	popper.send("BLPOP", "dst", "0")
	waitFor(t, "popper to block", 5*time.Second, func() bool { return blockedCount(s) == 2 })
	pusher.do("RPUSH", "src", "v")
	if got, _ := mover.read(); got != "$v" {
		t.Fatalf("BLMOVE got %s", got)
	}
	if got, _ := popper.read(); got != "[$dst $v]" {
		t.Fatalf("BLPOP on the destination got %s", got)
	}
}

func TestBlockingPopInsideMultiDoesNotBlock(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	c.do("MULTI")
	c.do("BLPOP", "none", "0")
	c.do("BLMOVE", "none", "d", "LEFT", "LEFT", "0")
	if got := c.do("EXEC"); got != "[(nil-array) (nil)]" {
		t.Fatalf("EXEC: %s", got)
	}
}

func TestBlockedClientThatDisconnectsIsForgotten(t *testing.T) {
	s := startServer(t)
	a := dialRaw(t, s.Addr().String())
	a.send("BLPOP", "q", "0")
	waitFor(t, "client to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	a.c.Close()
	waitFor(t, "the waiter to go", 5*time.Second, func() bool { return blockedCount(s) == 0 })
	b := dialRaw(t, s.Addr().String())
	b.do("RPUSH", "q", "kept")
	if got := b.do("LLEN", "q"); got != ":1" {
		t.Fatalf("a departed client popped the element: LLEN %s", got)
	}
}

func TestBlockingTimeoutErrorsFollowRedis(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	if got := c.do("BLPOP", "q", "-1"); got != "-ERR timeout is negative" {
		t.Errorf("negative timeout: %s", got)
	}
	if got := c.do("BLPOP", "q", "abc"); got != "-ERR timeout is not a float or out of range" {
		t.Errorf("bad timeout: %s", got)
	}
}

func TestBlockedMPopsAreWokenAndTravelAsPlainPops(t *testing.T) {
	s := startServer(t)
	a, b := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	a.send("BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "2")
	waitFor(t, "BLMPOP to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	if got := b.do("RPUSH", "l2", "x", "y", "z"); got != ":3" {
		t.Fatalf("RPUSH: %s", got)
	}
	if got, err := a.read(); err != nil || got != "[$l2 [$z $y]]" {
		t.Fatalf("woken BLMPOP replied %q (%v), want [$l2 [$z $y]]", got, err)
	}
	w := s.eng.WAL()
	if entry, err := w.Read(w.LastIndex()); err != nil || !strings.Contains(string(entry), "RPOP") || strings.Contains(string(entry), "MPOP") {
		t.Fatalf("last entry %q (%v), want a plain RPOP effect", entry, err)
	}

	a.send("BZMPOP", "0", "1", "z", "MAX")
	waitFor(t, "BZMPOP to block", 5*time.Second, func() bool { return blockedCount(s) == 1 })
	if got := b.do("ZADD", "z", "1", "a", "2", "b"); got != ":2" {
		t.Fatalf("ZADD: %s", got)
	}
	if got, err := a.read(); err != nil || got != "[$z [[$b $2]]]" {
		t.Fatalf("woken BZMPOP replied %q (%v), want [$z [[$b $2]]]", got, err)
	}
	if got := b.do("ZRANGE", "z", "0", "-1"); got != "[$a]" {
		t.Fatalf("sorted set after the pop: %s", got)
	}
	for _, cmd := range [][]string{
		{"BLMPOP", "0.05", "1", "none", "LEFT"},
		{"BZMPOP", "0.05", "2", "none", "z2", "MIN", "COUNT", "3"},
	} {
		if got := b.do(cmd...); got != "(nil-array)" {
			t.Errorf("%v after its timeout: %s, want a null array", cmd, got)
		}
	}
	if n := blockedCount(s); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}

func TestMPopArgumentErrorsComeInRedisOrder(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	c.do("SET", "s", "x")
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"BLMPOP", "x", "0", "l", "LEFT"}, "-ERR numkeys should be greater than 0"},
		{[]string{"BLMPOP", "x", "1", "l", "UP"}, "-ERR syntax error"},
		{[]string{"BLMPOP", "x", "1", "l", "LEFT", "COUNT", "0"}, "-ERR count should be greater than 0"},
		{[]string{"BLMPOP", "x", "1", "l", "LEFT"}, "-ERR timeout is not a float or out of range"},
		{[]string{"BZMPOP", "-1", "1", "z", "MIN"}, "-ERR timeout is negative"},
		{[]string{"LMPOP", "2", "l", "LEFT"}, "-ERR syntax error"},
		{[]string{"LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"}, "-ERR syntax error"},
		{[]string{"LMPOP", "1", "l", "LEFT", "COUNT"}, "-ERR syntax error"},
		{[]string{"ZMPOP", "99999999999999999999", "z", "MIN"}, "-ERR numkeys should be greater than 0"},
		{[]string{"LMPOP", "2", "none", "s", "LEFT"}, "-WRONGTYPE Operation against a key holding the wrong kind of value"},
		{[]string{"BZMPOP", "0", "1", "s", "MIN"}, "-WRONGTYPE Operation against a key holding the wrong kind of value"},
	} {
		if got := c.do(tc.cmd...); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.cmd, got, tc.want)
		}
	}
	if n := blockedCount(s); n != 0 {
		t.Fatalf("%d waiters left registered", n)
	}
}
