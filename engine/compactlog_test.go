package engine

import (
	"strconv"
	"testing"
	"time"
)

// TestCompactLogDropsWhatNobodyNeeds: BGREWRITEAOF's CompactLog flushes
// Pebble and truncates the log down to the backlog, at once.
func TestCompactLogDropsWhatNobodyNeeds(t *testing.T) {
	e := testEngine(t, Options{BacklogBytes: 400 * 40, FlushInterval: time.Hour})
	setMany(e, 30000)
	if err := e.CompactLog(); err != nil {
		t.Fatal(err)
	}
	if e.FlushedIndex() != e.AppliedIndex() {
		t.Fatalf("flushed %d, applied %d: CompactLog did not flush", e.FlushedIndex(), e.AppliedIndex())
	}
	if first, last := e.WAL().FirstIndex(), e.WAL().LastIndex(); first <= 1 || last-first+1 > 400 {
		t.Fatalf("log holds %d..%d after CompactLog, want only the 400-entry backlog", first, last)
	}
}

// TestSetBacklogBytesKeepsMoreOfTheLog: a backlog raised at run time
// (CONFIG SET repl-backlog-size) is what the next truncation keeps.
func TestSetBacklogBytesKeepsMoreOfTheLog(t *testing.T) {
	e := testEngine(t, Options{BacklogBytes: 400 * 40, FlushInterval: time.Hour})
	e.SetBacklogBytes(4000 * 40)
	setMany(e, 30000)
	if err := e.CompactLog(); err != nil {
		t.Fatal(err)
	}
	if first, last := e.WAL().FirstIndex(), e.WAL().LastIndex(); first <= 1 || last-first+1 < 4000 {
		t.Fatalf("log holds %d..%d after CompactLog, want the 4000-entry backlog", first, last)
	}
}

// setMany writes n SETs of one key, 1,000 to a pipeline: n log entries.
func setMany(e *Engine, n int) {
	s := NewSession()
	cmds := make([][][]byte, 0, 1000)
	for i := 0; i < n; i++ {
		cmds = append(cmds, args("SET k "+strconv.Itoa(i)))
		if len(cmds) == cap(cmds) || i == n-1 {
			e.Exec(s, cmds, nil)
			cmds = cmds[:0]
		}
	}
}
