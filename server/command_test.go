package server

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestCommandGetKeys compares COMMAND GETKEYS with redis-server's,
// movable keys (EVAL's, ZUNIONSTORE's) included.
func TestCommandGetKeys(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		for cmd, want := range map[string]string{
			"nosuch a":                                       "-ERR Invalid command specified",
			"object nosuch k":                                "-ERR Invalid command specified",
			"get a b":                                        "-ERR Invalid number of arguments specified for command",
			"ping x":                                         "-ERR The command has no key arguments",
			"get a":                                          "[$a]",
			"mset a 1 b 2":                                   "[$a $b]",
			"eval x 0":                                       "[]",
			"eval x 2 a b c":                                 "[$a $b]",
			"eval x 5 a":                                     "[]",
			"zunionstore d 2 a b":                            "[$d $a $b]",
			"zinterstore d 2 a b weights 1 2":                "[$d $a $b]",
			"zunion 2 a b withscores":                        "[$a $b]",
			"zintercard 2 a b limit 1":                       "[$a $b]",
			"sintercard 2 a b limit 1":                       "[$a $b]",
			"lmpop 2 a b left":                               "[$a $b]",
			"blmpop 0 2 a b left":                            "[$a $b]",
			"blpop a b 0":                                    "[$a $b]",
			"object encoding k":                              "[$k]",
			"sort l by w get x":                              "[$l]",
			"sort l by w get x store d":                      "[$l $d]",
			"sort l store a limit 0 1 store b":               "[$l $b]",
			"sort l get store":                               "[$l]",
			"lmove a b left right":                           "[$a $b]",
			"xread count 1 streams a b 0 0":                  "[$a $b]",
			"xread streams a b c":                            "[$a]",
			"migrate h p k 0 5":                              "[$k]",
			"migrate h p \"\" 0 5 keys a b":                  "[$a $b]",
			"migrate h p \"\" 0 5 keys":                      "[$]",
			"migrate h p \"\" 0 5 auth keys x":               "[$]",
			"georadius k 0 0 1 m store a storedist b":        "[$k $a $b]",
			"georadiusbymember k m 1 km storedist d":         "[$k $d]",
			"georadius_ro k 0 0 1 m":                         "[$k]",
			"geosearchstore d s fromlonlat 0 0 byradius 1 m": "[$d $s]",
		} {
			if got := c.do(append([]string{"COMMAND", "GETKEYS"}, callArgs(cmd)...)...); got != want {
				t.Errorf("COMMAND GETKEYS %s = %q, want %q", cmd, got, want)
			}
		}
		// ACL key patterns see the same keys: numkeys and WEIGHTS are not keys.
		c.expect("+OK", "ACL", "SETUSER", "ku", "on", "nopass", "+@all", "~k*")
		c.expect("+OK", "AUTH", "ku", "x")
		c.expect(":0", "ZUNIONSTORE", "kd", "2", "ka", "kb", "WEIGHTS", "1", "2")
		if got := c.do("ZUNIONSTORE", "kd", "2", "ka", "other"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("ZUNIONSTORE of a key outside ~k* = %q, want NOPERM", got)
		}
		c.expect(":0", "ZINTERCARD", "2", "ka", "kb")
		if got := c.do("ZINTERCARD", "2", "ka", "other"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("ZINTERCARD of a key outside ~k* = %q, want NOPERM", got)
		}
	})
}

// callArgs splits a call written as words; "" stands for an empty
// argument.
func callArgs(call string) []string {
	args := strings.Fields(call)
	for i, a := range args {
		if a == `""` {
			args[i] = ""
		}
	}
	return args
}

// TestWatchSeesSortStore checks that SORT ... STORE dirties a watched
// destination: its STORE key is one of its keys.
func TestWatchSeesSortStore(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c, other := dialRaw(t, addr), dialRaw(t, addr)
		c.expect(":2", "RPUSH", "l", "1", "2")
		c.expect("+OK", "WATCH", "d")
		other.expect(":2", "SORT", "l", "STORE", "d")
		c.expect("+OK", "MULTI")
		c.expect("+QUEUED", "PING")
		c.expect("(nil-array)", "EXEC")
	})
}

// TestCommandFlagNames checks that COMMAND INFO spells flags as Redis 7.0
// does.
func TestCommandFlagNames(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		for name, flag := range map[string]string{"auth": "+no_auth", "save": "+no_multi"} {
			if got := c.do("COMMAND", "INFO", name); !strings.Contains(got, " "+flag+" ") && !strings.Contains(got, " "+flag+"]") {
				t.Errorf("COMMAND INFO %s = %s, want the flag %s", name, got, flag)
			}
		}
	})
}

// TestLolwut checks LOLWUT's version line and RESTORE-ASKING, Redis
// 7.0's commands walrus had lacked.
func TestLolwut(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		version := infoField(t, c, "server", "redis_version")
		for _, args := range [][]string{{"LOLWUT"}, {"LOLWUT", "VERSION", "7"}, {"lolwut", "foo"}, {"LOLWUT", "VERSION"}} {
			c.expect("$Redis ver. "+version+"\n", args...)
		}
		c.expect("-ERR value is not an integer or out of range", "LOLWUT", "VERSION", "x")
		c.do("HELLO", "3")
		c.send("LOLWUT")
		if _, shape, _ := c.readShape(); shape != "=" {
			t.Errorf("RESP3 LOLWUT shape %s, want a verbatim string", shape)
		}
		c.expect("+OK", "SET", "k", "v")
		dump := strings.TrimPrefix(c.do("DUMP", "k"), "$")
		c.expect("+OK", "RESTORE-ASKING", "k2", "0", dump)
		c.expect("$v", "GET", "k2")
		c.expect("-BUSYKEY Target key name already exists.", "RESTORE-ASKING", "k2", "0", dump)
	})
}

// TestCommandListFilterBy checks COMMAND LIST: subcommands listed by
// their full names, FILTERBY's three filters and its syntax errors.
func TestCommandListFilterBy(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		list := func(args ...string) []string {
			t.Helper()
			got := c.do(append([]string{"COMMAND", "LIST"}, args...)...)
			if !strings.HasPrefix(got, "[") {
				t.Fatalf("COMMAND LIST %v = %q", args, got)
			}
			var names []string
			for _, n := range strings.Fields(strings.Trim(got, "[]")) {
				if n != "$pfdebug" && n != "$pfselftest" && n != "$waitaof" { // one server's only
					names = append(names, strings.TrimPrefix(n, "$"))
				}
			}
			sort.Strings(names)
			return names
		}
		all := list()
		top := 0
		for _, n := range all {
			if !strings.Contains(n, "|") {
				top++
			}
		}
		for _, n := range []string{"config|get", "acl|cat", "object|encoding", "xinfo|stream", "command|getkeysandflags", "lolwut", "restore-asking"} {
			if !slices.Contains(all, n) {
				t.Errorf("COMMAND LIST lacks %s", n)
			}
		}
		if slices.Contains(all, "client|setinfo") {
			t.Errorf("COMMAND LIST has client|setinfo, which Redis 7.0 does not")
		}
		if got := c.do("COMMAND", "COUNT"); got == fmt.Sprintf(":%d", len(all)) {
			t.Errorf("COMMAND COUNT %s counts subcommands", got)
		}
		for args, want := range map[string]string{
			"FILTERBY ACLCAT hyperloglog": "pfadd pfcount pfmerge",
			"filterby aclcat HyperLogLog": "pfadd pfcount pfmerge",
			"FILTERBY ACLCAT nosuch":      "",
			"FILTERBY ACLCAT @admin":      "",
			"FILTERBY MODULE x":           "",
			"FILTERBY PATTERN CONFIG*":    "config config|get config|help config|resetstat config|rewrite config|set",
			"FILTERBY PATTERN *|get":      "config|get slowlog|get",
			"FILTERBY PATTERN pf[ac]*":    "pfadd pfcount",
		} {
			if got := strings.Join(list(strings.Fields(args)...), " "); got != want {
				t.Errorf("COMMAND LIST %s = %q, want %q", args, got, want)
			}
		}
		admin := list("FILTERBY", "ACLCAT", "admin")
		for n, want := range map[string]bool{"config|get": true, "acl|setuser": true, "config": false, "config|help": false, "acl|whoami": false, "get": false} {
			if slices.Contains(admin, n) != want {
				t.Errorf("COMMAND LIST FILTERBY ACLCAT admin has %s: %v, want %v", n, !want, want)
			}
		}
		for _, args := range []string{"FILTERBY", "FILTERBY foo x", "FILTERBY ACLCAT", "FILTERBY ACLCAT admin extra", "foo", "FILTERBY PATTERN x FILTERBY MODULE y"} {
			c.expect("-ERR syntax error", append([]string{"COMMAND", "LIST"}, strings.Fields(args)...)...)
		}
	})
}

// TestCommandInfoSubcommands checks the subcommands in COMMAND INFO: a
// container's tenth element, and a subcommand by its full name.
func TestCommandInfoSubcommands(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		for name, want := range map[string]string{
			"config|get":      "[[$config|get :-3 [+admin +noscript +loading +stale] :0 :0 :0 [+@admin +@slow +@dangerous] [] [] []]]",
			"CONFIG|GET":      "[[$config|get :-3 [+admin +noscript +loading +stale] :0 :0 :0 [+@admin +@slow +@dangerous] [] [] []]]",
			"config|nosuch":   "[(nil)]",
			"nosuch|get":      "[(nil)]",
			"config|get|x":    "[(nil)]",
			"object|encoding": "[[$object|encoding :3 [+readonly] :2 :2 :1 [+@keyspace +@read +@slow] [$nondeterministic_output] [[$flags [+RO] $begin_search [$type $index $spec [$index :2]] $find_keys [$type $range $spec [$lastkey :0 $keystep :1 $limit :0]]]] []]]",
			"get":             "[[$get :2 [+readonly +fast] :1 :1 :1 [+@read +@string +@fast] [] [[$flags [+RO +access] $begin_search [$type $index $spec [$index :1]] $find_keys [$type $range $spec [$lastkey :0 $keystep :1 $limit :0]]]] []]]",
		} {
			if got := c.do("COMMAND", "INFO", name); got != want {
				t.Errorf("COMMAND INFO %s =\n%s\nwant\n%s", name, got, want)
			}
		}
		c.send("COMMAND", "INFO", "config")
		v, err := c.value()
		if err != nil {
			t.Fatal(err)
		}
		info := v.([]any)[0].([]any)
		var subs []string
		for _, s := range info[9].([]any) {
			subs = append(subs, s.([]any)[0].(string))
		}
		sort.Strings(subs)
		if got := strings.Join(subs, " "); got != "config|get config|help config|resetstat config|rewrite config|set" {
			t.Errorf("COMMAND INFO config's subcommands: %s", got)
		}
		if got := fmt.Sprint(info[2], info[3], info[4], info[5]); got != "[] 0 0 0" {
			t.Errorf("COMMAND INFO config: flags and keys %s, want none (its subcommands have them)", got)
		}
	})
}

// TestRedisDocsCoverTheTable checks that redisDocs has an entry for every
// command and subcommand walrus has, and none for anything else.
func TestRedisDocsCoverTheTable(t *testing.T) {
	s := startServer(t)
	names := map[string]bool{}
	for _, r := range s.rows() {
		e := entryOf(r)
		for _, e := range append([]cmdEntry{e}, e.subs()...) {
			names[e.name()] = true
			if d := redisDocs[e.name()]; d == nil || d.since == "" {
				t.Errorf("%s: no redisDocs entry", e.name())
			} else if e.sub != nil && d.summary == "" {
				t.Errorf("%s: no summary", e.name())
			}
		}
	}
	for name := range redisDocs {
		if !names[name] {
			t.Errorf("redisDocs has %s, which walrus does not", name)
		}
	}
}
