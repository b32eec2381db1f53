package engine

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// logged returns every command in the master's log, as text.
func logged(t *testing.T, e *Engine) []string {
	t.Helper()
	var out []string
	for i := e.WAL().FirstIndex(); i <= e.WAL().LastIndex() && i > 0; i++ {
		data, err := e.WAL().Read(i)
		if err != nil {
			t.Fatal(err)
		}
		forEachCommand(data, func(a [][]byte) error {
			words := make([]string, len(a))
			for j, w := range a {
				words[j] = string(w)
			}
			out = append(out, strings.Join(words, " "))
			return nil
		})
	}
	return out
}

// An XADD with "*" logs the ID it gave, and approximate trimming logs
// the exact length it left, so a replica needs neither the clock nor
// the master's node boundaries.
func TestXAddLogsTheIDItGaveAndWhatItTrimmed(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := testEngine(t, Options{Now: func() time.Time { return at }})
	s := NewSession()
	for i := 0; i < 250; i++ {
		do(t, e, s, "XADD k * f "+strconv.Itoa(i))
	}
	id := do(t, e, s, "XADD k MAXLEN ~ 120 * f last")
	ms := strconv.FormatInt(at.UnixMilli(), 10)
	if id != ms+"-250" {
		t.Fatalf("XADD gave %s, want %s-250", id, ms)
	}
	log := logged(t, e)
	want := "XADD k MAXLEN = 151 " + ms + "-250 f last"
	if got := log[len(log)-1]; got != want {
		t.Fatalf("logged %q, want %q", got, want)
	}
	if got := do(t, e, s, "XADD k * f 0"); got != ms+"-251" {
		t.Fatalf("next ID %s", got)
	}
}

// Approximate trimming removes whole nodes of 100 entries, as Redis
// removes whole listpacks, and never a node's part.
func TestApproxTrimRemovesWholeNodes(t *testing.T) {
	e := testEngine(t, Options{})
	s := NewSession()
	for i := 1; i <= 250; i++ {
		do(t, e, s, "XADD k "+strconv.Itoa(i)+"-0 f v")
	}
	steps := []struct{ cmd, removed, left string }{
		{"XTRIM k MAXLEN ~ 200", "(integer) 0", "(integer) 250"},
		{"XTRIM k MAXLEN ~ 120", "(integer) 100", "(integer) 150"},
		{"XTRIM k MAXLEN ~ 10", "(integer) 100", "(integer) 50"},
		{"XTRIM k MINID ~ 240", "(integer) 0", "(integer) 50"},
		{"XTRIM k MINID 240", "(integer) 39", "(integer) 11"},
		{"XTRIM k MAXLEN ~ 0", "(integer) 11", "(integer) 0"},
	}
	for _, st := range steps {
		if got := do(t, e, s, st.cmd); got != st.removed {
			t.Fatalf("%s: %s, want %s", st.cmd, got, st.removed)
		}
		if got := do(t, e, s, "XLEN k"); got != st.left {
			t.Fatalf("after %s: XLEN %s, want %s", st.cmd, got, st.left)
		}
	}
	if got := do(t, e, s, "TYPE k"); got != "stream" {
		t.Fatalf("an emptied stream stays: TYPE %s", got)
	}
}

// A replica applying the master's log holds the master's rows byte for
// byte over a mix of stream commands whose effects depend on the clock
// (generated IDs, delivery and seen times) and on the master's state
// (approximate trimming, the PEL, the groups' positions).
func TestStreamReplicaReplaysToTheMastersRows(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	master := testEngine(t, Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	replica := testEngine(t, Options{})
	replica.SetReplica(true)
	r := rand.New(rand.NewPCG(3, 5))
	templates := []string{
		"XADD $k * f $n", "XADD $k * f $n g $n", "XADD $k MAXLEN ~ $big * f $n", "XADD $k MINID ~ $id * f $n",
		"XADD $k $n-* f $n", "XADD $k NOMKSTREAM MAXLEN $n * f $n", "XTRIM $k MAXLEN ~ $big", "XTRIM $k MINID $id", "XTRIM $k MAXLEN $big",
		"XDEL $k $id $id", "XGROUP CREATE $k $g $ MKSTREAM", "XGROUP CREATE $k $g 0 ENTRIESREAD $n",
		"XGROUP SETID $k $g 0", "XGROUP CREATECONSUMER $k $g $c", "XGROUP DELCONSUMER $k $g $c", "XGROUP DESTROY $k $g",
		"XREADGROUP GROUP $g $c COUNT $n STREAMS $k >", "XREADGROUP GROUP $g $c STREAMS $k 0",
		"XREADGROUP GROUP $g $c NOACK STREAMS $k >", "XREADGROUP GROUP $g $c STREAMS $k $k > 0",
		"XAUTOCLAIM $k $g $c 0 0 COUNT $n", "XAUTOCLAIM $k $g $c 50 0 JUSTID", "XCLAIM $k $g $c 0 $id $id FORCE",
		"XCLAIM $k $g $c 0 $id JUSTID LASTID $id", "XCLAIM $k $g $c 20 $id IDLE 5 RETRYCOUNT $n", "XACK $k $g $id $id", "XACK $k $g $id", "XACK $k $g $id $id $id",
		"XSETID $k $id", "DEL $k", "RENAME $k $k", "COPY $k $k REPLACE",
	}
	var ids []string // IDs the master gave, for the commands that name one
	command := func() [][]byte {
		line := templates[r.IntN(len(templates))]
		for strings.Contains(line, "$") {
			switch i := strings.Index(line, "$"); {
			case strings.HasPrefix(line[i:], "$k"):
				line = line[:i] + []string{"s1", "s2", "s3"}[r.IntN(3)] + line[i+2:]
			case strings.HasPrefix(line[i:], "$g"):
				line = line[:i] + []string{"g1", "g2"}[r.IntN(2)] + line[i+2:]
			case strings.HasPrefix(line[i:], "$c"):
				line = line[:i] + []string{"c1", "c2", "c3"}[r.IntN(3)] + line[i+2:]
			case strings.HasPrefix(line[i:], "$n"):
				line = line[:i] + strconv.Itoa(r.IntN(5)) + line[i+2:]
			case strings.HasPrefix(line[i:], "$big"):
				line = line[:i] + strconv.Itoa(r.IntN(300)) + line[i+4:]
			case strings.HasPrefix(line[i:], "$id"):
				id := "0-1"
				if len(ids) > 0 {
					id = ids[len(ids)-1-r.IntN(min(len(ids), 20))]
				}
				line = line[:i] + id + line[i+3:]
			default: // XGROUP CREATE's "$"
				line = line[:i] + "\x00" + line[i+1:]
			}
		}
		return args(strings.ReplaceAll(line, "\x00", "$"))
	}
	sync := func(step int) {
		t.Helper()
		last := master.AppliedIndex()
		next := replica.AppliedIndex() + 1
		var entries [][]byte
		for i := next; i <= last; i++ {
			data, err := master.WAL().Read(i)
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, data)
		}
		if err := replica.Apply(next, entries); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if got, want := dumpRows(t, replica), dumpRows(t, master); got != want {
			t.Fatalf("step %d: rows differ\n%s", step, rowsDiff(got, want))
		}
	}
	s := NewSession()
	for i := 1; i <= 6000; i++ {
		clock.Add(int64(time.Duration(r.IntN(3)) * time.Millisecond))
		cmd := command()
		var reply []byte
		if r.IntN(10) == 0 {
			reply = master.ExecMulti(s, [][][]byte{cmd, command()}, nil, nil, nil)
		} else {
			reply = master.Exec(s, [][][]byte{cmd}, nil)
		}
		if strings.EqualFold(string(cmd[0]), "xadd") && reply[0] == '$' {
			if _, v, _ := strings.Cut(string(reply), "\r\n"); v != "" {
				ids = append(ids, strings.TrimSuffix(v, "\r\n"))
			}
		}
		if i%100 == 0 {
			sync(i)
		}
	}
	// The mix must have logged each kind of rewritten effect.
	kinds := map[string]int{}
	for _, c := range logged(t, master) {
		for _, k := range []string{"XADD", "MAXLEN =", "XCLAIM", "CREATECONSUMER", "SEEN", "SETID", "ENTRIESREAD", "XACK", "XDEL", "XTRIM"} {
			if strings.Contains(c, k) {
				kinds[k]++
			}
		}
	}
	for k, n := range kinds {
		if n < 5 {
			t.Fatalf("log holds %d commands with %q (%v): the mix exercises too little", n, k, kinds)
		}
	}
	if len(kinds) < 10 {
		t.Fatalf("log kinds %v: some effect never logged", kinds)
	}
	t.Logf("effects logged: %v", kinds)
}

// rowsDiff lists the rows only the replica has (-) and only the master
// has (+).
func rowsDiff(replica, master string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	r, m := in(replica), in(master)
	var b strings.Builder
	for _, l := range strings.Split(replica, "\n") {
		if !m[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(master, "\n") {
		if !r[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// Stream commands with arguments drawn from their own vocabulary, valid
// or not, never panic, and whatever they log applies on a replica to the
// master's rows.
func TestStreamCommandsTakeAnyArguments(t *testing.T) {
	master := testEngine(t, Options{})
	replica := testEngine(t, Options{})
	replica.SetReplica(true)
	r := rand.New(rand.NewPCG(11, 13))
	names := []string{"XADD", "XLEN", "XRANGE", "XREVRANGE", "XDEL", "XTRIM", "XSETID", "XREAD", "XREADGROUP",
		"XGROUP", "XINFO", "XACK", "XPENDING", "XCLAIM", "XAUTOCLAIM"}
	words := []string{"s", "t", "MAXLEN", "MINID", "LIMIT", "NOMKSTREAM", "~", "=", "*", "0", "1", "-1", "5", "100",
		"x", "1-1", "2-*", "(1-1", "-", "+", "$", ">", "STREAMS", "COUNT", "BLOCK", "GROUP", "NOACK", "g", "c",
		"FORCE", "JUSTID", "IDLE", "TIME", "RETRYCOUNT", "LASTID", "ENTRIESREAD", "MKSTREAM", "CREATE", "SETID",
		"DESTROY", "CREATECONSUMER", "DELCONSUMER", "FULL", "STREAM", "GROUPS", "CONSUMERS", "HELP", "SEEN",
		"ENTRIESADDED", "MAXDELETEDID", "18446744073709551615-18446744073709551615", "", "9223372036854775807"}
	valid := []string{
		"XADD s * f v", "XADD s MAXLEN ~ 5 * f v", "XADD s MINID = 1 1-* f v", "XADD t NOMKSTREAM LIMIT 5 MAXLEN ~ 0 * f v",
		"XTRIM s MAXLEN ~ 3 LIMIT 100", "XDEL s 1-1 0-1", "XSETID s 18446744073709551615-1 ENTRIESADDED 5",
		"XGROUP CREATE s g $ MKSTREAM ENTRIESREAD 1", "XGROUP SETID s g 0", "XGROUP CREATECONSUMER s g c",
		"XGROUP DELCONSUMER s g c", "XGROUP DESTROY s g", "XREADGROUP GROUP g c COUNT 2 NOACK STREAMS s t > 0",
		"XREADGROUP GROUP g c STREAMS s 0", "XACK s g 1-1", "XCLAIM s g c 0 1-1 FORCE JUSTID LASTID 5 IDLE 1",
		"XAUTOCLAIM s g c 0 - COUNT 3 JUSTID", "XPENDING s g IDLE 1 - + 5 c", "XINFO STREAM s FULL COUNT 0",
		"XINFO GROUPS s", "XINFO CONSUMERS s g", "XREAD COUNT 1 BLOCK 5 STREAMS s t $ 0", "XRANGE s (1-1 + COUNT 2",
	}
	s := NewSession()
	for i := 0; i < 20000; i++ {
		var cmd [][]byte
		if r.IntN(3) == 0 {
			cmd = [][]byte{[]byte(names[r.IntN(len(names))])}
			for n := r.IntN(9); n > 0; n-- {
				cmd = append(cmd, []byte(words[r.IntN(len(words))]))
			}
		} else {
			cmd = args(valid[r.IntN(len(valid))])
			for n := r.IntN(3); n > 0; n-- {
				cmd[1+r.IntN(len(cmd)-1)] = []byte(words[r.IntN(len(words))])
			}
		}
		master.Exec(s, [][][]byte{cmd}, nil)
	}
	var entries [][]byte
	for i := uint64(1); i <= master.AppliedIndex(); i++ {
		data, err := master.WAL().Read(i)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, data)
	}
	if len(entries) < 1000 {
		t.Fatalf("only %d of the commands wrote: the mix exercises too little", len(entries))
	}
	if err := replica.Apply(1, entries); err != nil {
		t.Fatal(err)
	}
	if got, want := dumpRows(t, replica), dumpRows(t, master); got != want {
		t.Fatalf("rows differ\n%s", rowsDiff(got, want))
	}
}
