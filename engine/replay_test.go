package engine

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// replayCommands are the writes TestReplicaReplaysToTheMastersRows mixes:
// every data type, expiry set, kept and reached, and commands that fail
// or change nothing. K and L are keys, V a value, N a number.
var replayCommands = []string{
	"SET K V", "SET K V PX 40", "SET K V EX 100", "SET K V KEEPTTL", "SET K V NX", "SET K V XX",
	"SET K V GET", "SETNX K V", "GETSET K V", "GETDEL K", "GETEX K PX 30", "GETEX K PERSIST",
	"APPEND K V", "INCR K", "INCRBY K N", "INCRBYFLOAT K 1.5", "SETRANGE K 2 V", "MSET K V L V",
	"DEL K", "DEL K", "DEL K L", "UNLINK K", "EXPIRE K 1", "PEXPIRE K 30", "PERSIST K", "RENAME K L", "COPY K L REPLACE",
	"HSET K f V", "HSET K g V h V", "HDEL K f", "HINCRBY K n N", "LPUSH K V V", "RPUSH K V",
	"LPOP K", "RPOP K 2", "LTRIM K 0 2", "LSET K 0 V", "SADD K V", "SADD K a b c", "SREM K V",
	"SPOP K", "ZADD K N V", "ZINCRBY K N V", "ZPOPMIN K", "ZREM K V", "SELECT 1", "SELECT 0",
	"SWAPDB 0 1", "SETBIT K N 1", "SETBIT K 13 0", "BITOP OR K K L", "BITOP NOT L K", "BITOP AND K L",
	"PFADD K V N", "PFADD L N", "PFMERGE K L", "PFMERGE L K L",
	"BITFIELD K SET i8 N N", "BITFIELD K INCRBY u5 #3 N OVERFLOW FAIL INCRBY i4 40 N", "BITFIELD K OVERFLOW SAT SET u3 N N",
	// Streams, with lowercase options (the placeholders are capitals).
	"XADD K * f V", "XADD K * f V g V", "XADD K maxlen ~ N * f V", "XADD K minid ~ N * f V", "XADD K N-* f V",
	"XADD K nomkstream maxlen N * f V", "XTRIM K maxlen N", "XTRIM K maxlen ~ N", "XDEL K N-0 N-1",
	"XSETID K N-5", "XGROUP create K g $ mkstream", "XGROUP create K h 0 entriesread N", "XGROUP setid K g 0",
	"XGROUP createconsumer K g c", "XGROUP delconsumer K g d", "XGROUP destroy K h",
	"XREADGROUP group g c count N streams K >", "XREADGROUP group g d streams K 0", "XREADGROUP group h c noack streams K >",
	"XREADGROUP group g c streams K L > >", "XAUTOCLAIM K g d 0 0 count N", "XAUTOCLAIM K g c 0 0 justid",
	"XCLAIM K g d 0 N-0 N-1 force", "XCLAIM K h c 0 N-0 justid lastid N-9", "XACK K g N-0 N-1",
	"RESTORE K 0 P REPLACE", "RESTORE K 40 P REPLACE", "RESTORE K 100000 P REPLACE", "RESTORE K 0 P",
}

// replayPayloads are DUMP payloads for RESTORE's P: one of each type.
var replayPayloads = [][]byte{
	sealDump(encodeDumpValue(dumpValue{typ: typeString, str: []byte("restored")})),
	sealDump(encodeDumpValue(dumpValue{typ: typeList, elems: bs3("x", "7", "z")})),
	sealDump(encodeDumpValue(dumpValue{typ: typeSet, elems: bs3("a", "b")})),
	sealDump(encodeDumpValue(dumpValue{typ: typeHash, elems: bs3("f", "v", "n", "3")})),
	sealDump(encodeDumpValue(dumpValue{typ: typeZSet, elems: bs3("x", "yy"), scores: []float64{1.5, -2}})),
}

// A replica that applies the master's log ends with the master's rows,
// byte for byte, over a random mix of writes: every effect applies (an
// error would fail Apply), and a SET's PREV names exactly what the
// replica holds.
func TestReplicaReplaysToTheMastersRows(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	// Key filters this small are outgrown and rebuilt during the run.
	master := testEngine(t, Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }, filterMinKeys: 4})
	replica := testEngine(t, Options{filterMinKeys: 4})
	replica.SetReplica(true)
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	command := func() [][]byte {
		line := pick(replayCommands)
		line = strings.ReplaceAll(line, "K", pick([]string{"a", "b", "c", "d", "e", "f"}))
		line = strings.ReplaceAll(line, "L", pick([]string{"a", "b", "g"}))
		line = strings.ReplaceAll(line, "V", pick([]string{"x", "yy", "7", "-3"}))
		line = strings.ReplaceAll(line, "N", strconv.Itoa(r.IntN(9)-2))
		a := args(line)
		for i := range a {
			if string(a[i]) == "P" {
				a[i] = replayPayloads[r.IntN(len(replayPayloads))]
			}
		}
		return a
	}
	sync := func(step int) {
		t.Helper()
		for {
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
			want := dumpRows(t, master)
			if master.AppliedIndex() != last {
				continue // active expiry wrote meanwhile
			}
			if got := dumpRows(t, replica); got != want {
				t.Fatalf("step %d: replica rows\n%s\nmaster rows\n%s", step, got, want)
			}
			checkKeyFilterHolds(t, master)
			checkKeyFilterHolds(t, replica)
			return
		}
	}
	s := NewSession()
	const steps = 12000
	for i := 1; i <= steps; i++ {
		switch {
		case r.IntN(20) == 0:
			clock.Add(int64(time.Duration(10+r.IntN(50)) * time.Millisecond))
		case r.IntN(15) == 0:
			master.ExecMulti(s, [][][]byte{command(), command(), command()}, nil, nil, nil)
		default:
			master.Exec(s, [][][]byte{command()}, nil)
		}
		if i%200 == 0 {
			sync(i)
		}
	}
	// The mix must have exercised each way a SET is replayed.
	kinds := map[string]int{}
	for i := master.WAL().FirstIndex(); i <= master.WAL().LastIndex(); i++ {
		data, err := master.WAL().Read(i)
		if err != nil {
			t.Fatal(err)
		}
		forEachCommand(data, func(a [][]byte) error {
			if strings.EqualFold(string(a[0]), "set") {
				kind := "read"
				if n := len(a); strings.EqualFold(string(a[n-2]), "prev") {
					kind = string(a[n-1])
				}
				kinds[kind]++
			}
			return nil
		})
	}
	if kinds["none"] < 50 || kinds["string"] < 50 || kinds["read"] < 50 {
		t.Fatalf("SETs in the log by replay kind %v: the mix exercises too little", kinds)
	}
	t.Logf("%d entries; SETs by replay kind %v", master.WAL().LastIndex(), kinds)
}
