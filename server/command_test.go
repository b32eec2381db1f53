package server

import (
	"fmt"
	"reflect"
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
			"nosuch a":                                "-ERR Invalid command specified",
			"object nosuch k":                         "-ERR Invalid command specified",
			"get a b":                                 "-ERR Invalid number of arguments specified for command",
			"ping x":                                  "-ERR The command has no key arguments",
			"object help":                             "-ERR The command has no key arguments",
			"spublish ch m":                           "-ERR The command has no key arguments",
			"zunionstore d 5 a":                       "-ERR Invalid arguments specified for command",
			"zunionstore d 0 a":                       "-ERR Invalid arguments specified for command",
			"lmpop 0 a left":                          "-ERR Invalid arguments specified for command",
			"pfmerge d":                               "-ERR Invalid arguments specified for command",
			"migrate h p k 0 5 keys a b":              "-ERR Invalid arguments specified for command",
			"get a":                                   "[$a]",
			"mset a 1 b 2":                            "[$a $b]",
			"eval x 0":                                "[]",
			"eval x 2 a b c":                          "[$a $b]",
			"eval x 5 a":                              "[]",
			"zunionstore d 2 a b":                     "[$d $a $b]",
			"zinterstore d 2 a b weights 1 2":         "[$d $a $b]",
			"zunion 2 a b withscores":                 "[$a $b]",
			"zintercard 2 a b limit 1":                "[$a $b]",
			"sintercard 2 a b limit 1":                "[$a $b]",
			"lmpop 2 a b left":                        "[$a $b]",
			"blmpop 0 2 a b left":                     "[$a $b]",
			"blpop a b 0":                             "[$a $b]",
			"object encoding k":                       "[$k]",
			"sort l by w get x":                       "[$l]",
			"sort l by w get x store d":               "[$l $d]",
			"sort l store a limit 0 1 store b":        "[$l $b]",
			"sort l get store":                        "[$l]",
			"lmove a b left right":                    "[$a $b]",
			"xread count 1 streams a b 0 0":           "[$a $b]",
			"xread streams a b c":                     "[$a]",
			"migrate h p k 0 5":                       "[$k]",
			"migrate h p \"\" 0 5 keys a b":           "[$a $b]",
			"migrate h p \"\" 0 5 keys":               "[$]",
			"migrate h p \"\" 0 5 auth keys x":        "[$]",
			"georadius k 0 0 1 m store a storedist b": "[$k $a $b]",
			"georadiusbymember k m 1 km storedist d":  "[$k $d]",
			"georadius_ro k 0 0 1 m":                  "[$k]",
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

// TestCommandGetKeysAndFlags checks COMMAND GETKEYSANDFLAGS: each key
// with what the call does to it, from the key spec that finds it, and
// GETKEYS's errors.
func TestCommandGetKeysAndFlags(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		for cmd, want := range map[string]string{
			"lmove a b left right":                    "[[$a [+RW +access +delete]] [$b [+RW +insert]]]",
			"lmove a a left right":                    "[[$a [+RW +access +delete]] [$a [+RW +insert]]]",
			"zunionstore d 2 a b":                     "[[$d [+OW +update]] [$a [+RO +access]] [$b [+RO +access]]]",
			"set k v":                                 "[[$k [+OW +update]]]",
			"set k get get":                           "[[$k [+RW +access +update]]]",
			"bitfield k get u8 0 overflow wrap":       "[[$k [+RO +access]]]",
			"bitfield k incrby u8 0 1":                "[[$k [+RW +access +update]]]",
			"sort l by w get x store d":               "[[$l [+RO +access]] [$d [+OW +update]]]",
			"migrate h p \"\" 0 5 keys a b":           "[[$a [+RW +access +delete]] [$b [+RW +access +delete]]]",
			"georadius k 0 0 1 m storedist b store a": "[[$k [+RO +access]] [$a [+OW +update]] [$b [+OW +update]]]",
			"object encoding k":                       "[[$k [+RO]]]",
			"xgroup create s g 0":                     "[[$s [+RW +insert]]]",
			"eval_ro s 1 a":                           "[[$a [+RO +access]]]",
			"eval s 0":                                "[]",
			"nosuch a":                                "-ERR Invalid command specified",
			"config|get x":                            "-ERR Invalid command specified",
			"config get x":                            "-ERR The command has no key arguments",
			"object encoding":                         "-ERR Invalid number of arguments specified for command",
			"zunionstore d 5 a":                       "-ERR Invalid arguments specified for command",
		} {
			if got := c.do(append([]string{"COMMAND", "GETKEYSANDFLAGS"}, callArgs(cmd)...)...); got != want {
				t.Errorf("COMMAND GETKEYSANDFLAGS %s = %q, want %q", cmd, got, want)
			}
		}
		c.expect("-ERR wrong number of arguments for 'command|getkeysandflags' command", "COMMAND", "GETKEYSANDFLAGS", "get")
		c.do("HELLO", "3")
		if _, shape, _ := sendShape(c, "COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"); shape != "*(*($~(++))*($~(+++)))" {
			t.Errorf("RESP3 GETKEYSANDFLAGS shape %s", shape)
		}
	})
}

func sendShape(c *rawConn, args ...string) (string, string, error) {
	c.send(args...)
	return c.readShape()
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

// sampleCalls returns calls of every command and subcommand of s, each
// with numbered arguments ("1", "2", ...) in the counts its arity
// allows, then keyCalls.
func sampleCalls(s *Server) [][]string {
	var out [][]string
	for _, r := range s.rows() {
		e := entryOf(r)
		for _, e := range append([]cmdEntry{e}, e.subs()...) {
			name := strings.Split(e.name(), "|")
			counts := []int{e.arity()}
			if a := e.arity(); a < 0 {
				counts = []int{-a, -a + 1, -a + 2, -a + 4}
			}
			for _, n := range counts {
				call := slices.Clone(name)
				for i := 1; len(call) < n; i++ {
					call = append(call, itoa(i))
				}
				out = append(out, call)
			}
		}
	}
	for _, call := range keyCalls {
		out = append(out, callArgs(call))
	}
	return out
}

// keyCalls are calls whose keys are found past options, keywords and
// counts.
var keyCalls = []string{
	"sort l by w get x store d", "sort l store", "sort l store a store b", "sort l limit store 1 store d",
	"sort_ro l by w", "georadius k 0 0 1 m store a storedist b", "georadius k 0 0 1 m storedist b store a",
	"georadius k 0 0 1 m store", "georadiusbymember k m 1 km storedist d", "georadius_ro k 0 0 1 m",
	"geosearchstore d s fromlonlat 0 0 byradius 1 m", `migrate h p "" 0 5 keys a b`, "migrate h p k 0 5",
	`migrate h p "" 0 5 keys`, "migrate h p k 0 5 keys a b", `migrate h p "" 0 5 auth keys x`,
	`migrate h p "" 0 5 auth2 u keys x`, "xread count 1 streams a b 0 0", "xread streams a b c",
	"xreadgroup group g c streams a b 0 0", "xreadgroup group g c count 1 noack streams a 0",
	"set k v get", "set k get get", "set k v nx px 10", "bitfield k get u8 0", "bitfield k set u8 0 1",
	"bitfield k overflow wrap", "bitfield k get set 0", "bitfield k get u8", "bitfield k overflow",
	"bitfield k incrby u8 0 1 get u8 0", "eval s 2 a b c", "eval s 0", "eval s 5 a", "eval_ro s 1 a",
	"fcall f 2 a b c", "zunionstore d 2 a b", "zunionstore d 5 a", "zunionstore d 0 a",
	"zinterstore d 2 a b weights 1 2", "zdiffstore d 1 a", "zunion 2 a b withscores", "zintercard 2 a b limit 1",
	"sintercard 2 a b limit 1", "sintercard 0 a", "lmpop 2 a b left", "lmpop 0 a left", "blmpop 0 2 a b left",
	"bzmpop 0 2 a b max count 1", "lmove a a left right", "memory usage k samples 5", "xgroup create s g 0 mkstream",
	"xinfo stream s full", "bitop not d a", "pfmerge d", "getex k persist", "xadd s maxlen 1 * f v",
	"restore-asking k 0 x replace",
}

// TestKeySpecsMatchKeys checks that the key specs COMMAND INFO shows
// find the keys walrus's own key extraction does (COMMAND GETKEYS, ACL
// key rules, WATCH), for calls of every command and subcommand. SORT's
// unknown specs and MIGRATE's incomplete one find only some: the keys
// they find are among walrus's.
func TestKeySpecsMatchKeys(t *testing.T) {
	s := startServer(t)
	checked := 0
	for _, call := range sampleCalls(s) {
		args := make([][]byte, len(call))
		for i, a := range call {
			args[i] = []byte(a)
		}
		e, ok := s.findEntry(args[0])
		if !ok {
			t.Fatalf("%s: no such command", call[0])
		}
		if sub, _ := subcommand(e.row, args); sub != nil {
			e = subEntry(e.row, sub)
		}
		keys, msg := s.commandKeys(args)
		if msg != "" {
			continue
		}
		checked++
		var byKeys, bySpecs []string
		for _, k := range keys {
			byKeys = append(byKeys, string(k.key))
		}
		for _, k := range e.specKeys(args) {
			bySpecs = append(bySpecs, string(k.key))
		}
		partial := false
		for _, k := range e.doc.keys {
			partial = partial || k.unknown() || hasWord(k.flags, "incomplete")
		}
		switch {
		case partial && e.name() == "migrate":
			// MIGRATE's KEYS spec finds keys after a KEYS that is AUTH's
			// password, and its key spec finds the "" before KEYS.
		case partial:
			for _, k := range bySpecs {
				if !slices.Contains(byKeys, k) {
					t.Errorf("%v: key spec finds %q, not among the keys %q", call, k, byKeys)
				}
			}
		case !slices.Equal(byKeys, bySpecs):
			t.Errorf("%v: keys %q, key specs find %q", call, byKeys, bySpecs)
		}
	}
	if checked < 300 {
		t.Errorf("only %d calls with keys checked", checked)
	}
}

// commandFlagDiffs are where walrus's COMMAND INFO flags differ from
// Redis 7.0's, because walrus's dispatcher treats the command otherwise:
// "+f" walrus has f, "-f" it does not.
var commandFlagDiffs = map[string]string{
	"ping":       "+stale",    // served on a replica whose link is down
	"echo":       "-loading",  // refused while loading
	"watch":      "+no_multi", // refused inside MULTI by the dispatcher
	"migrate":    "+no_multi",
	"replconf":   "+no_multi",
	"eval_ro":    "-readonly", // checked as scripts, not as reads
	"evalsha_ro": "-readonly",
	"fcall_ro":   "-readonly",
}

// TestCommandMatchesRedis compares COMMAND with redis-server's for every
// command both have: COMMAND LIST (as sets), COMMAND INFO of every command
// and its subcommands (the flags, categories and tips as sets, the
// subcommands by name; commandFlagDiffs aside), COMMAND DOCS (but the
// arguments and the history, which walrus does not give), COMMAND
// GETKEYS and GETKEYSANDFLAGS of sampleCalls, and the RESP3 shapes.
func TestCommandMatchesRedis(t *testing.T) {
	raddr := redisServer(t)
	s := startServer(t)
	w, r := dialRaw(t, s.Addr().String()), dialRaw(t, raddr)
	value := func(c *rawConn, args ...string) any {
		t.Helper()
		c.send(args...)
		v, err := c.value()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	onlyRedis := map[string]bool{"pfdebug": true, "pfselftest": true}
	onlyWalrus := map[string]bool{"waitaof": true} // Redis 7.2's

	names := func(c *rawConn, only map[string]bool) []string {
		var out []string
		for _, n := range value(c, "COMMAND", "LIST").([]any) {
			if !only[n.(string)] {
				out = append(out, n.(string))
			}
		}
		sort.Strings(out)
		return out
	}
	if wn, rn := names(w, onlyWalrus), names(r, onlyRedis); !slices.Equal(wn, rn) {
		t.Errorf("COMMAND LIST:\nwalrus %v\nredis  %v", wn, rn)
	}

	infos := func(c *rawConn, only map[string]bool) map[string]any {
		out := map[string]any{}
		for _, v := range value(c, "COMMAND").([]any) {
			info := normalInfo(v.([]any))
			if name := info[0].(string); !only[name] {
				out[name] = info
			}
		}
		return out
	}
	wi, ri := infos(w, onlyWalrus), infos(r, onlyRedis)
	if len(wi) != len(ri) || len(wi) < 200 {
		t.Errorf("COMMAND: walrus %d commands, redis %d", len(wi), len(ri))
	}
	for name, want := range ri {
		want := want.([]any)
		if d, ok := commandFlagDiffs[name]; ok {
			flags := slices.Clone(want[2].([]any))
			if f := d[1:]; d[0] == '+' {
				flags = append(flags, f)
			} else {
				flags = slices.DeleteFunc(flags, func(g any) bool { return g == f })
			}
			want = slices.Clone(want)
			want[2] = sortedAny(flags)
		}
		if got := wi[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("COMMAND INFO %s:\nwalrus %v\nredis  %v", name, got, want)
		}
	}

	wd, rd := docMap(value(w, "COMMAND", "DOCS")), docMap(value(r, "COMMAND", "DOCS"))
	for name, want := range rd {
		if onlyRedis[name] {
			continue
		}
		if got := wd[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("COMMAND DOCS %s:\nwalrus %v\nredis  %v", name, got, want)
		}
	}

	calls := 0
	for _, call := range sampleCalls(s) {
		if onlyWalrus[call[0]] {
			continue
		}
		for _, sub := range []string{"GETKEYS", "GETKEYSANDFLAGS"} {
			args := append([]string{"COMMAND", sub}, call...)
			if got, want := w.do(args...), r.do(args...); got != want {
				t.Errorf("COMMAND %s %q: walrus %s, redis %s", sub, call, got, want)
			}
			calls++
		}
	}
	if calls < 1000 {
		t.Errorf("only %d calls compared", calls)
	}

	w.do("HELLO", "3")
	r.do("HELLO", "3")
	for _, args := range [][]string{
		{"COMMAND", "INFO", "lmove", "sort", "zunionstore", "xread", "config", "object|encoding", "nosuch"},
		{"COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"},
		{"COMMAND", "DOCS", "nosuch"},
		{"COMMAND", "DOCS", "lastsave", "latency|help"},
		{"COMMAND", "LIST", "FILTERBY", "MODULE", "x"},
	} {
		_, got, err := sendShape(w, args...)
		_, want, err2 := sendShape(r, args...)
		if err != nil || err2 != nil || got != want {
			t.Errorf("RESP3 %v: walrus %s (%v), redis %s (%v)", args, got, err, want, err2)
		}
	}
}

// normalInfo sorts the sets of a COMMAND INFO entry (flags, categories,
// tips) and its subcommands by name, whose order in Redis is a hash
// table's.
func normalInfo(info []any) []any {
	info = slices.Clone(info)
	for _, i := range []int{2, 6, 7} {
		info[i] = sortedAny(info[i].([]any))
	}
	var subs []any
	for _, s := range info[9].([]any) {
		subs = append(subs, normalInfo(s.([]any)))
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].([]any)[0].(string) < subs[j].([]any)[0].(string) })
	info[9] = subs
	return info
}

func sortedAny(list []any) []any {
	out := slices.Clone(list)
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	if out == nil {
		out = []any{}
	}
	return out
}

// docMap turns a COMMAND DOCS reply (RESP2: flat name, fields pairs) into
// maps, leaving out the arguments and the history.
func docMap(v any) map[string]any {
	list := v.([]any)
	out := map[string]any{}
	for i := 0; i+1 < len(list); i += 2 {
		fields := list[i+1].([]any)
		doc := map[string]any{}
		for j := 0; j+1 < len(fields); j += 2 {
			switch k := fields[j].(string); k {
			case "arguments", "history":
			case "subcommands":
				doc[k] = docMap(fields[j+1])
			default:
				doc[k] = fields[j+1]
			}
		}
		out[list[i].(string)] = doc
	}
	return out
}

// TestListedSubcommandsAreServed checks that walrus answers every
// subcommand COMMAND lists with something other than its container's
// unknown subcommand error: COMMAND lists only what walrus serves.
func TestListedSubcommandsAreServed(t *testing.T) {
	s := startServer(t)
	c := dialRaw(t, s.Addr().String())
	served := 0
	for _, r := range s.rows() {
		for _, e := range entryOf(r).subs() {
			call := strings.Split(e.name(), "|")
			for len(call) < max(e.arity(), -e.arity()) {
				call = append(call, itoa(len(call))) // numbers: no CLIENT REPLY OFF, no SHUTDOWN
			}
			if got := c.do(call...); strings.Contains(got, "unknown subcommand") {
				t.Errorf("%q: %s", call, got)
			}
			served++
		}
	}
	if served < 100 {
		t.Errorf("only %d subcommands listed", served)
	}
}
