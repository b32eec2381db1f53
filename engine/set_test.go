package engine

import (
	"fmt"
	"strings"
	"testing"
)

// lastEntry returns the last log entry's commands, space separated.
func lastEntry(t *testing.T, e *Engine) string {
	t.Helper()
	data, err := e.WAL().Read(e.WAL().LastIndex())
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	forEachCommand(data, func(a [][]byte) error {
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = string(x)
		}
		cmds = append(cmds, strings.Join(parts, " "))
		return nil
	})
	return strings.Join(cmds, "; ")
}

func TestRandomAndFloatWritesEmitDeterministicEffects(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	do(t, e, s, "SADD s a b c")
	popped := do(t, e, s, "SPOP s")
	if got := lastEntry(t, e); got != "SREM s "+popped {
		t.Fatalf("SPOP effect %q, want SREM of %q", got, popped)
	}
	do(t, e, s, "HINCRBYFLOAT h f 10.5")
	if got := lastEntry(t, e); got != "HSET h f 10.5" {
		t.Fatalf("HINCRBYFLOAT effect %q", got)
	}
	do(t, e, s, "RPUSH l x")
	do(t, e, s, "BRPOP l 0")
	if got := lastEntry(t, e); got != "RPOP l" {
		t.Fatalf("BRPOP effect %q", got)
	}
	before := e.WAL().LastIndex()
	do(t, e, s, "SADD s "+popped+"x")
	do(t, e, s, "SREM s nothing")
	do(t, e, s, "ZADD z XX 1 m")
	if n := e.WAL().LastIndex() - before; n != 1 {
		t.Fatalf("%d entries for one change and two no-ops", n)
	}
}

// DEL of a big collection is one range deletion: no element is visited.
func TestDeletingALargeSetLeavesNoElements(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	for i := 0; i < 50; i++ {
		var b strings.Builder
		b.WriteString("SADD big")
		for j := 0; j < 200; j++ {
			fmt.Fprintf(&b, " m%d_%d", i, j)
		}
		do(t, e, s, b.String())
	}
	runSteps(t, e, s, []step{{"SCARD big", "(integer) 10000"}, {"DEL big", "(integer) 1"}, {"SCARD big", "(integer) 0"}})
	lo, hi := dbBounds(spaceElem, 0)
	it, err := e.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for it.SeekGE(lo); it.Valid() && string(it.Key()) < string(hi); it.Next() {
		t.Fatalf("element key %q survived DEL", it.Key())
	}
}

func TestSetAndHashScanReturnEveryMemberOnce(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	for i := 0; i < 300; i++ {
		do(t, e, s, fmt.Sprintf("SADD s m%d", i))
		do(t, e, s, fmt.Sprintf("HSET h f%d %d", i, i))
	}
	for _, c := range []struct {
		cmd string
		per int
	}{{"SSCAN s", 1}, {"HSCAN h", 2}} {
		seen := map[string]int{}
		cursor := "0"
		for rounds := 0; rounds < 1000; rounds++ {
			out := do(t, e, s, c.cmd+" "+cursor+" COUNT 7")
			// out is "[cursor [items...]]"
			inner := strings.TrimSuffix(strings.TrimPrefix(out, "["), "]")
			sp := strings.SplitN(inner, " ", 2)
			cursor = sp[0]
			items := strings.Fields(strings.Trim(sp[1], "[]"))
			for i := 0; i < len(items); i += c.per {
				seen[items[i]]++
			}
			if cursor == "0" {
				break
			}
		}
		if len(seen) != 300 {
			t.Fatalf("%s saw %d members, want 300", c.cmd, len(seen))
		}
		for m, n := range seen {
			if n != 1 {
				t.Fatalf("%s returned %s %d times", c.cmd, m, n)
			}
		}
	}
}
