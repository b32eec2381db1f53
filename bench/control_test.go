package bench

import (
	"testing"
	"time"
)

func TestParseInfoReadsFieldsAcrossSections(t *testing.T) {
	s := "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:1234\r\nslave0:ip=127.0.0.1,port=1,state=online\r\n\r\n# Persistence\r\naof_rewrite_in_progress:0\r\n"
	m := ParseInfo(s)
	for k, want := range map[string]string{
		"role": "slave", "master_link_status": "up", "slave0": "ip=127.0.0.1,port=1,state=online", "aof_rewrite_in_progress": "0",
	} {
		if m[k] != want {
			t.Errorf("%s = %q, want %q", k, m[k], want)
		}
	}
	if n, ok := infoInt(m, "slave_repl_offset"); !ok || n != 1234 {
		t.Errorf("slave_repl_offset = %d, %v", n, ok)
	}
	if _, ok := infoInt(m, "role"); ok {
		t.Error("a non-numeric field parsed as an integer")
	}
	if _, ok := m["# Replication"]; ok {
		t.Error("section header parsed as a field")
	}
}

func TestParseMarkerReadsSequenceAndTime(t *testing.T) {
	at := time.Unix(0, 1700000000123456789)
	seq, got, ok := parseMarker("17 1700000000123456789")
	if !ok || seq != 17 || !got.Equal(at) {
		t.Errorf("parseMarker = %d %v %v", seq, got, ok)
	}
	for _, bad := range []string{"", "17", "final 123", "1 x"} {
		if _, _, ok := parseMarker(bad); ok {
			t.Errorf("parseMarker(%q) ok", bad)
		}
	}
}
