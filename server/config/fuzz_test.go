package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// parseNoIncludes is Parse with include refused, so fuzzing never reads the
// file system: not even its directories, which an include's glob pattern
// ("include /*/*/*/*/*/1/") would walk.
func parseNoIncludes(text string) (*Config, error) {
	l := newLoader()
	l.readFile = func(string) ([]byte, error) { return nil, errors.New("include disabled while fuzzing") }
	l.glob = func(string) ([]string, error) { return nil, errors.New("include disabled while fuzzing") }
	if err := l.text([]byte(text), "fuzz.conf", "/nonexistent", nil); err != nil {
		return nil, err
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// FuzzParse checks that no input panics, and that whatever parses survives
// CONFIG REWRITE: rewriting the input and parsing the result gives the same
// configuration.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"port 6379\nbind 127.0.0.1 ::1\n",
		"# comment\n\nsave 900 1\nsave 300 10\n",
		"save \"\"\nappendonly yes\nappendfsync always\n",
		"requirepass \"a\\x41\\n\"\nmasterauth 'it\\'s'\n",
		"slaveof 10.0.0.1 6379\nslave-read-only no\n",
		"client-output-buffer-limit replica 1gb 512mb 60 pubsub 0 0 0\n",
		"rename-command CONFIG \"\"\nrename-command flushall x\n",
		"repl-backlog-size 1kb\nmaxmemory 2GB\nhz 1000\n",
		"port \"abc\n",
		"include other.conf\n",
		"latency-tracking-info-percentiles \"50 99.9\"\n",
		"daemonize yes\n",
		"user alice on >p\\x00w \"~a b\" +@all\nuser bob\n",
		"aclfile users.acl\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseNoIncludes(text)
		if err != nil {
			return
		}
		rewritten := strings.Join(rewriteLines(c, text, c.Users), "\n")
		again, err := parseNoIncludes(rewritten)
		if err != nil {
			t.Fatalf("rewrite of\n%q\ndoes not parse: %v\n%q", text, err, rewritten)
		}
		if a, b := c.Get("*"), again.Get("*"); !slices.Equal(a, b) {
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("rewrite of %q changed %s: %q -> %q\n%q", text, a[i][0], a[i][1], b[i][1], rewritten)
				}
			}
		}
		if !slices.Equal(c.RenameCommands, again.RenameCommands) {
			t.Fatalf("rewrite of %q changed rename-command", text)
		}
		if !sameUsers(c.Users, again.Users) {
			t.Fatalf("rewrite of %q changed the users: %+v -> %+v", text, c.Users, again.Users)
		}
	})
}
