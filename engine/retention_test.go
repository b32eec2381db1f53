package engine

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// Reclaim frees what deletions left: after FLUSHALL on a store whose
// keys are all in compacted tables, the deletion waits in a memtable and
// the tables stay, until Reclaim flushes and compacts them away.
func TestReclaimFreesDeletedKeys(t *testing.T) {
	e := testEngine(t, Options{InMemory: true})
	s := NewSession()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i += 1000 {
		var cmds [][][]byte
		for j := i; j < i+1000; j++ {
			cmds = append(cmds, [][]byte{[]byte("SET"), []byte("key:" + strconv.Itoa(j)), []byte(strconv.FormatUint(r.Uint64(), 36) + strings.Repeat(strconv.FormatUint(r.Uint64(), 36), 8))})
		}
		e.Exec(s, cmds, nil)
	}
	if err := e.Reclaim(); err != nil { // every key in compacted tables
		t.Fatal(err)
	}
	full := tableBytes(e)
	if full < 1_000_000 {
		t.Fatalf("20,000 keys of about 100 random bytes take %d bytes", full)
	}
	if got := do(t, e, s, "FLUSHALL"); got != "OK" {
		t.Fatalf("FLUSHALL: %s", got)
	}
	if left := tableBytes(e); left < full/2 {
		t.Fatalf("the tables went before Reclaim: %d bytes of %d", left, full)
	}
	if err := e.Reclaim(); err != nil {
		t.Fatal(err)
	}
	if left := tableBytes(e); left > full/100 {
		t.Fatalf("after Reclaim the store takes %d bytes of %d", left, full)
	}
}

// tableBytes is the size of the store's live tables (obsolete ones, which
// Pebble deletes in the background, not counted).
func tableBytes(e *Engine) int64 {
	m := e.DB().Metrics()
	t := m.Total()
	return t.Size
}
