package server

import "testing"

// TestBgRewriteAOF: the log is flushed and compacted before the reply,
// which is Redis's.
func TestBgRewriteAOF(t *testing.T) {
	s := startServer(t, "--appendonly", "yes")
	c := dialRaw(t, s.Addr().String())
	c.do("SET", "k", "v")
	c.expect("+Background append only file rewriting started", "BGREWRITEAOF")
	if f, a := infoField(t, c, "persistence", "walrus_flushed_index"), infoField(t, c, "persistence", "walrus_applied_index"); f != a {
		t.Fatalf("after BGREWRITEAOF flushed index %s, applied %s", f, a)
	}
	c.expect("-ERR wrong number of arguments for 'bgrewriteaof' command", "BGREWRITEAOF", "x")
}
