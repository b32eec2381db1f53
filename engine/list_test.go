package engine

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/redcon"
	"github.com/walrus-kv/walrus/wal"
)

func TestListCommandsFollowRedis(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	runSteps(t, e, s, []step{
		{"RPUSH l a b c", "(integer) 3"},
		{"LPUSH l z", "(integer) 4"},
		{"LINDEX l -1", "c"},
		{"LINSERT l BEFORE b x", "(integer) 5"},
		{"LINSERT l AFTER z y", "(integer) 6"},
		{"LRANGE l 0 -1", "[z y a x b c]"},
		{"LSET l 2 A", "OK"},
		{"LREM l 0 x", "(integer) 1"},
		{"LTRIM l 1 -2", "OK"},
		{"LRANGE l 0 -1", "[y A b]"},
		{"LPOS l b", "(integer) 2"},
		{"LMOVE l m RIGHT LEFT", "b"},
		{"RPOP l 5", "[A y]"},
		{"EXISTS l", "(integer) 0"},
		{"LLEN m", "(integer) 1"},
		{"BLPOP none m 0", "[m b]"},
		{"BLPOP none 0", "(nil)"},
	})
}

// The digest of a list is its sequence of values, whatever push history
// produced its element positions; replaying the log rebuilds the same data.
func TestListDigestIsLogicalAndSurvivesReplay(t *testing.T) {
	e1 := testEngine(t, Options{})
	e2 := testEngine(t, Options{})
	s1, s2 := NewSession(), NewSession()
	do(t, e1, s1, "RPUSH l a b c")
	do(t, e2, s2, "LPUSH l c")
	do(t, e2, s2, "LPUSH l b")
	do(t, e2, s2, "LPUSH l a")
	if d1, d2 := e1.Digest(), e2.Digest(); d1 != d2 {
		t.Fatalf("same list, different digests %s %s", d1, d2)
	}

	dir := t.TempDir()
	e, err := Open(Options{Dir: dir, Fsync: wal.SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession()
	for i := 0; i < 50; i++ {
		do(t, e, s, fmt.Sprintf("RPUSH l%d a%d b c", i%5, i))
		do(t, e, s, fmt.Sprintf("HSET h%d f%d v%d", i%3, i, i))
		do(t, e, s, fmt.Sprintf("SADD s%d m%d", i%4, i))
		do(t, e, s, fmt.Sprintf("ZADD z%d %d m%d", i%2, i, i))
	}
	for _, cmd := range []string{"LREM l1 0 b", "LINSERT l2 BEFORE c x", "SPOP s1 3", "HINCRBYFLOAT h1 f1 0.1", "ZPOPMAX z1 2", "SINTERSTORE dst s0 s1", "ZUNIONSTORE zu 2 z0 z1", "SORT l3 ALPHA STORE sorted", "BLMOVE l4 l0 LEFT RIGHT 0", "DEL h2"} {
		do(t, e, s, cmd)
	}
	want := e.Digest()
	e.stop()
	e.wg.Wait()
	e.wlog.Close()
	e.db.Close()
	e.cache.Unref()
	e2r, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e2r.Close()
	if got := e2r.Digest(); got != want {
		t.Fatalf("digest after replaying the effects %s, want %s", got, want)
	}
}

// TestPipelinedListOpsMatchAModel runs random list commands as long
// pipelines, so that many of them share one group commit and the pops'
// read-ahead (popElem), which outlives a group, serves pops next to
// pushes, LSETs, LTRIMs, LMOVEs, DELs, RENAMEs and FLUSHDBs of the same
// lists; every reply is checked against a plain Go model of the lists.
func TestPipelinedListOpsMatchAModel(t *testing.T) {
	for _, inMemory := range []bool{false, true} {
		e := testEngine(t, Options{InMemory: inMemory})
		s := NewSession()
		r := rand.New(rand.NewPCG(7, uint64(len(t.Name()))))
		model := map[string][]string{}
		keys := []string{"la", "lb"}
		n := 0
		val := func() string { n++; return "v" + strconv.Itoa(n) }
		for round := 0; round < 300; round++ {
			var cmds [][][]byte
			var want []string
			for range 1 + r.IntN(80) {
				k := keys[r.IntN(len(keys))]
				l := model[k]
				var cmd []string
				var reply string
				switch op := r.IntN(105); {
				case op < 25:
					v := val()
					cmd, model[k] = []string{"RPUSH", k, v}, append(l, v)
					reply = "(integer) " + strconv.Itoa(len(model[k]))
				case op < 40:
					v := val()
					cmd, model[k] = []string{"LPUSH", k, v}, append([]string{v}, l...)
					reply = "(integer) " + strconv.Itoa(len(model[k]))
				case op < 60:
					cmd, reply = []string{"LPOP", k}, "(nil)"
					if len(l) > 0 {
						reply, model[k] = l[0], l[1:]
					}
				case op < 72:
					cmd, reply = []string{"RPOP", k}, "(nil)"
					if len(l) > 0 {
						reply, model[k] = l[len(l)-1], l[:len(l)-1]
					}
				case op < 78:
					c := r.IntN(4) + 1
					cmd, reply = []string{"LPOP", k, strconv.Itoa(c)}, "(nil)"
					if len(l) > 0 {
						c = min(c, len(l))
						reply, model[k] = "["+strings.Join(l[:c], " ")+"]", l[c:]
					}
				case op < 84:
					i := r.IntN(len(l) + 1)
					v := val()
					cmd, reply = []string{"LSET", k, strconv.Itoa(i), v}, "(error) ERR no such key"
					if len(l) > 0 {
						reply = "(error) ERR index out of range"
					}
					if i < len(l) {
						reply = "OK"
						l[i] = v
					}
				case op < 88:
					from, to := r.IntN(3), -1-r.IntN(3)
					cmd, reply = []string{"LTRIM", k, strconv.Itoa(from), strconv.Itoa(to)}, "OK"
					if end := len(l) + to + 1; from < end {
						model[k] = l[from:end]
					} else {
						model[k] = nil
					}
				case op < 94:
					dst := keys[r.IntN(len(keys))]
					cmd, reply = []string{"LMOVE", k, dst, "LEFT", "RIGHT"}, "(nil)"
					if len(l) > 0 {
						reply, model[k] = l[0], l[1:]
						model[dst] = append(model[dst], reply)
					}
				case op < 97:
					cmd, reply = []string{"LRANGE", k, "0", "-1"}, "["+strings.Join(l, " ")+"]"
				case op < 100:
					i := r.IntN(len(l) + 1)
					cmd, reply = []string{"LINDEX", k, strconv.Itoa(i)}, "(nil)"
					if i < len(l) {
						reply = l[i]
					}
				case op < 102:
					cmd, reply = []string{"DEL", k}, "(integer) 0"
					if len(l) > 0 {
						reply = "(integer) 1"
					}
					delete(model, k)
				case op < 103:
					cmd, reply = []string{"FLUSHDB"}, "OK"
					clear(model)
				default:
					dst := keys[r.IntN(len(keys))]
					cmd, reply = []string{"RENAME", k, dst}, "(error) ERR no such key"
					if len(l) > 0 {
						reply = "OK"
						delete(model, k)
						model[dst] = l
					}
				}
				if len(model[k]) == 0 {
					delete(model, k)
				}
				cmds = append(cmds, args(strings.Join(cmd, " ")))
				want = append(want, strings.Join(cmd, " ")+" -> "+reply)
			}
			out := e.Exec(s, cmds, nil)
			for i := 0; len(out) > 0; i++ {
				m, resp := redcon.ReadNextRESP(out)
				if m == 0 || i >= len(want) {
					t.Fatalf("round %d: reply %d unreadable or extra: %q", round, i, out)
				}
				out = out[m:]
				cmd, reply, _ := strings.Cut(want[i], " -> ")
				if got := render(resp); got != reply {
					t.Fatalf("in memory %v, round %d, command %d %s: got %q, want %q", inMemory, round, i, cmd, got, reply)
				}
			}
		}
	}
}
