package config

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitArgsFollowsSdssplitargs(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  error
	}{
		{line: "", want: nil},
		{line: "   \t ", want: nil},
		{line: "port 6379", want: []string{"port", "6379"}},
		{line: "  save   60\t1  ", want: []string{"save", "60", "1"}},
		{line: `save ""`, want: []string{"save", ""}},
		{line: `requirepass "a b"`, want: []string{"requirepass", "a b"}},
		{line: `x "\n\r\t\b\a\\\"q"`, want: []string{"x", "\n\r\t\b\a\\\"q"}},
		{line: `x "\x41\x7a\xzz"`, want: []string{"x", "Az" + "xzz"}},
		{line: `x "\q"`, want: []string{"x", "q"}},
		{line: `x 'it\'s "raw" \n'`, want: []string{"x", `it's "raw" \n`}},
		{line: `x ab"c d"`, want: []string{"x", "abc d"}},
		{line: `x """"`, err: errUnbalancedQuotes},
		{line: `x "abc`, err: errUnbalancedQuotes},
		{line: `x 'abc`, err: errUnbalancedQuotes},
		{line: `x "a"b`, err: errUnbalancedQuotes},
		{line: `x 'a'b`, err: errUnbalancedQuotes},
		{line: `x "a\"`, err: errUnbalancedQuotes},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.line)
		if !errors.Is(err, tt.err) {
			t.Errorf("SplitArgs(%q) error = %v, want %v", tt.line, err, tt.err)
			continue
		}
		if err == nil && !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestQuoteReadsBackAsOneArgument(t *testing.T) {
	for _, s := range []string{"", "plain", "a b", `q"uote`, `back\slash`, "tab\tnl\n", "\x00\x01\xff", "it's", "#hash"} {
		for _, q := range []string{quote(s), quoteIfNeeded(s)} {
			got, err := SplitArgs("x " + q)
			if err != nil || len(got) != 2 || got[1] != s {
				t.Errorf("SplitArgs(x %s) = %q, %v; want [x %q]", q, got, err, s)
			}
		}
	}
}

func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{`port 6379`, `a "b\x41" 'c\'d'`, `"unbalanced`, `x ab"c d"`, "\x00\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args, err := SplitArgs(line)
		if err != nil {
			return
		}
		// Quoting every argument and splitting again gives the same arguments.
		joined := ""
		for _, a := range args {
			joined += quote(a) + " "
		}
		again, err := SplitArgs(joined)
		if err != nil || !slices.Equal(again, args) {
			t.Fatalf("round trip of %q: %q (%v), want %q", line, again, err, args)
		}
	})
}
