package bench

import (
	"errors"
	"strings"
	"testing"
)

func TestParseWorkloadAcceptsSpecForms(t *testing.T) {
	tests := []struct {
		spec string
		want string // Workload.String()
	}{
		{"set", "set"},
		{"GET", "get"},
		{"get,set,incr", "get:set:incr=1:1:1"},
		{"set:get", "set:get=1:1"},
		{"set:get=1:9", "set:get=1:9"},
		{" lpush : hset = 3 : 1 ", "lpush:hset=3:1"},
		{"set:get=0:1", "set:get=0:1"},
	}
	for _, tt := range tests {
		w, err := ParseWorkload(tt.spec)
		if err != nil {
			t.Errorf("ParseWorkload(%q): %v", tt.spec, err)
			continue
		}
		if got := w.String(); got != tt.want {
			t.Errorf("ParseWorkload(%q) = %q, want %q", tt.spec, got, tt.want)
		}
		again, err := ParseWorkload(w.String())
		if err != nil || again.String() != w.String() {
			t.Errorf("String() of %q does not parse back: %q, %v", tt.spec, again.String(), err)
		}
	}
}

func TestParseWorkloadRejectsBadSpecs(t *testing.T) {
	for _, spec := range []string{"", "flushall", "set:get=1", "set:get=1:x", "set:get=0:0", "set,set", "set:get=-1:2", "set=1:2"} {
		if _, err := ParseWorkload(spec); !errors.Is(err, ErrBadWorkload) {
			t.Errorf("ParseWorkload(%q) error = %v, want ErrBadWorkload", spec, err)
		}
	}
}

func TestGeneratorFollowsWeights(t *testing.T) {
	w, err := ParseWorkload("set:get=1:9")
	if err != nil {
		t.Fatal(err)
	}
	g := NewGenerator(w, 100, 10, 42)
	counts := map[Op]int{}
	const n = 20000
	for range n {
		op, _ := g.Next()
		counts[op]++
	}
	// Expect 10% SET; allow a generous ±1.5 points for randomness.
	if frac := float64(counts[OpSet]) / n; frac < 0.085 || frac > 0.115 {
		t.Errorf("SET fraction %.3f, want about 0.10 (counts %v)", frac, counts)
	}
	if counts[OpSet]+counts[OpGet] != n {
		t.Errorf("unexpected ops in %v", counts)
	}
}

func TestGeneratorSkipsZeroWeightOps(t *testing.T) {
	w, _ := ParseWorkload("set:get=0:1")
	g := NewGenerator(w, 10, 10, 1)
	for range 1000 {
		if op, _ := g.Next(); op != OpGet {
			t.Fatalf("got %s with weight 0", op)
		}
	}
}

func TestGeneratorBuildsCommandsWithinKeySpace(t *testing.T) {
	w, _ := ParseWorkload("get,set,incr,lpush,hset,hget,sadd,ping")
	g := NewGenerator(w, 50, 7, 3)
	arity := map[Op]int{OpGet: 2, OpSet: 3, OpIncr: 2, OpLPush: 3, OpHSet: 4, OpHGet: 3, OpSAdd: 3, OpPing: 1}
	seen := map[Op]bool{}
	for range 5000 {
		op, args := g.Next()
		seen[op] = true
		if len(args) != arity[op] {
			t.Fatalf("%s: %d args, want %d", op, len(args), arity[op])
		}
		if !strings.EqualFold(string(args[0]), string(op)) {
			t.Fatalf("%s: command %q", op, args[0])
		}
		if op == OpPing {
			continue
		}
		key := string(args[1])
		if !strings.HasPrefix(key, opPrefix[op]) {
			t.Fatalf("%s: key %q lacks prefix %q", op, key, opPrefix[op])
		}
		if key >= Key(op, 50) {
			t.Fatalf("%s: key %q outside a key space of 50", op, key)
		}
		if op == OpSet && len(args[2]) != 7 {
			t.Fatalf("SET value of %d bytes, want 7", len(args[2]))
		}
	}
	if len(seen) != len(arity) {
		t.Errorf("only saw %v", seen)
	}
}

func TestGeneratorIsDeterministicForASeed(t *testing.T) {
	w, _ := ParseWorkload("set:get:incr=2:2:1")
	a, b := NewGenerator(w, 1000, 8, 9), NewGenerator(w, 1000, 8, 9)
	for i := range 1000 {
		_, x := a.Next()
		xs := string(x[0]) + " " + string(x[1])
		_, y := b.Next()
		if ys := string(y[0]) + " " + string(y[1]); xs != ys {
			t.Fatalf("command %d differs: %q vs %q", i, xs, ys)
		}
	}
}

func TestWorkloadClassifiesReadsAndOverwrites(t *testing.T) {
	tests := []struct {
		spec             string
		reads, overwrite bool
	}{
		{"set", false, true},
		{"set:get=1:1", true, true},
		{"get:incr=1:0", true, true},
		{"incr", false, false},
		{"hget", true, false},
	}
	for _, tt := range tests {
		w, err := ParseWorkload(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if w.Reads() != tt.reads || w.OnlyOverwrites() != tt.overwrite {
			t.Errorf("%s: Reads %v OnlyOverwrites %v, want %v %v", tt.spec, w.Reads(), w.OnlyOverwrites(), tt.reads, tt.overwrite)
		}
	}
}

func TestKeyMatchesGeneratorFormat(t *testing.T) {
	if got, want := Key(OpSet, 42), "key:000000000042"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got := string(appendPadded(nil, 1234567)); got != "000001234567" {
		t.Errorf("appendPadded = %q", got)
	}
}
