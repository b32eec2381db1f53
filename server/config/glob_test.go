package config

import (
	"strings"
	"testing"
)

func TestGlobMatchFollowsRedisRules(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything", true},
		{"*", "", true},
		{"port", "port", true},
		{"PORT", "port", true},
		{"port", "ports", false},
		{"*slave*", "slave-read-only", true},
		{"*slave*", "replica-read-only", false},
		{"max*", "maxclients", true},
		{"*max*len", "proto-max-bulk-len", true},
		{"repl-?imeout", "repl-timeout", true},
		{"repl-?imeout", "repl-imeout", false},
		{"[a-c]*", "bind", true},
		{"[^a-c]*", "bind", false},
		{"[pq]ort", "port", true},
		{"[P-Q]ort", "port", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`a\`, `a\`, true},
		{"[abc", "a", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"**x", "x", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestGlobMatchIsNotExponential(t *testing.T) {
	pattern := strings.Repeat("a*", 30) + "b"
	name := strings.Repeat("a", 200)
	if globMatch(pattern, name) {
		t.Fatal("pattern ending in b matched a string without b")
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("*slave*", "slave-read-only")
	f.Add("[a-", "b")
	f.Add(`\`, `\`)
	f.Add("[^]]*?", "x]")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := globMatch(pattern, name)
		if globMatch("*"+pattern, name) != true && got {
			t.Fatalf("%q matched %q but *%q did not", pattern, name, pattern)
		}
		if !globMatch("*", name) {
			t.Fatalf("* did not match %q", name)
		}
	})
}
