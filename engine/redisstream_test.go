package engine

import (
	"strings"
	"testing"

	"github.com/tidwall/redcon"
)

// TestAppendRedisEntry: log entries become Redis's replication stream:
// walrus's hints dropped, a SELECT only when the database changes (and
// first of all), no MULTI/EXEC around a single command.
func TestAppendRedisEntry(t *testing.T) {
	entry := func(cmds ...[]string) []byte {
		var b []byte
		for _, c := range cmds {
			args := make([][]byte, len(c))
			for i, a := range c {
				args[i] = []byte(a)
			}
			b = encodeCommand(b, args...)
		}
		return b
	}
	db := -1
	for _, tc := range []struct {
		entry []byte
		want  string
	}{
		{entry([]string{"SET", "k", "v", "PREV", "none"}), "SELECT 0|SET k v"},
		{entry([]string{"SET", "k", "v", "PXAT", "9", "PREV", "string"}), "SET k v PXAT 9"},
		{entry([]string{"SET", "k", "PREV", "KEEPTTL"}), "SET k PREV KEEPTTL"},
		{entry([]string{"MULTI"}, []string{"SELECT", "2"}, []string{"RPUSH", "l", "a"}, []string{"EXEC"}), "SELECT 2|RPUSH l a"},
		{entry([]string{"MULTI"}, []string{"SELECT", "2"}, []string{"SET", "a", "1"}, []string{"INCR", "b"}, []string{"EXEC"}), "MULTI|SET a 1|INCR b|EXEC"},
		{entry([]string{"XGROUP", "CREATECONSUMER", "s", "g", "c", "SEEN", "123"}), "SELECT 0|XGROUP CREATECONSUMER s g c"},
		{entry([]string{"MULTI"}, []string{"DEL", "x"}, []string{"SELECT", "1"}, []string{"DEL", "y"}, []string{"EXEC"}), "MULTI|DEL x|SELECT 1|DEL y|EXEC"},
		{entry([]string{"DEL", "z"}), "SELECT 0|DEL z"},
	} {
		out, err := AppendRedisEntry(nil, tc.entry, &db)
		if err != nil {
			t.Fatalf("%q: %v", tc.entry, err)
		}
		var got []string
		for len(out) > 0 {
			complete, args, _, rest, err := redcon.ReadNextCommand(out, nil)
			if err != nil || !complete {
				t.Fatalf("%q gave bad RESP %q: %v", tc.entry, out, err)
			}
			words := make([]string, len(args))
			for i, a := range args {
				words[i] = string(a)
			}
			got = append(got, strings.Join(words, " "))
			out = rest
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("%q: got %q, want %q", tc.entry, strings.Join(got, "|"), tc.want)
		}
	}
}
