package server

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func scriptSHA(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// TestScriptReplies compares EVAL's conversions, errors and script cache
// with redis-server's.
func TestScriptReplies(t *testing.T) { againstBoth(t, scriptRepliesScenario) }

// mpHex defines hex(s) for a script: cmsgpack's output, readable.
const mpHex = "local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end "

func scriptRepliesScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	// raised is the reply to a script that raised msg at line.
	raised := func(body, msg string, line int) string {
		return "-" + msg + " script: " + scriptSHA(body) + ", on @user_script:" + strconv.Itoa(line) + "."
	}
	cases := []struct{ body, want string }{
		// Lua to RESP.
		{"return 1", ":1"},
		{"return 3.99", ":3"},
		{"return -3.7", ":-3"},
		{"return 0/0", ":-9223372036854775808"},
		{"return 1/0 == math.huge", ":1"},
		{"return -1/0 == -math.huge", ":1"},
		{"return math.huge > 1.7976931348623157e308", ":1"},
		// tonumber reads strings as Lua 5.1's strtod and strtoul do.
		{"return tonumber('1e2')", ":100"},
		{"return tonumber(' 5E2 ', 10)", ":500"},
		{"return tonumber('0x1p4')", ":16"},
		{"return tonumber('-0x10')", ":-16"},
		{"return tonumber('inf') == math.huge", ":1"},
		{"return tonumber('1e400') == math.huge", ":1"},
		{"return tonumber('12a')", "(nil)"},
		{"return tonumber('')", "(nil)"},
		{"return tonumber({})", "(nil)"},
		{"return tonumber(' 11 ', 2)", ":3"},
		{"return tonumber('0x1f', 16)", ":31"},
		{"return tonumber(17, 8)", ":15"},
		{"return tonumber('12', 2)", "(nil)"},
		{"return 'a'", "$a"},
		{"return true", ":1"},
		{"return false", "(nil)"},
		{"return nil", "(nil)"},
		{"return {1, 'x', {2, {3}}, nil, 4}", "[:1 $x [:2 [:3]]]"},
		{"return {ok='fine'}", "+fine"},
		{"return {err='My err'}", "-My err"},
		{"return {err='-X y'}", "--X y"},
		{"return {1, {err='in ner'}, 3}", "[:1 -in ner :3]"},
		{"return {err=5}", "[]"},
		{"return {a=1}", "[]"},
		{"return redis.error_reply('x')", "-ERR x"},
		{"return redis.error_reply('My err')", "-My err"},
		{"return redis.error_reply('-X y')", "-X y"},
		{"return redis.status_reply('Yo')", "+Yo"},
		{"return redis.sha1hex('')", "$da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"local t = {}; t[1] = t; return t", ""}, // checked below: bounded, not a crash
		// RESP to Lua.
		{"return redis.call('set', 'a', 'b')", "+OK"},
		{"return redis.call('get', 'nokey')", "(nil)"},
		{"return tostring(redis.call('get', 'nokey'))", "$false"},
		{"return type(redis.call('ping'))", "$table"},
		{"return redis.call('ping').ok", "$PONG"},
		{"return redis.call('mget', 'a', 'nokey')", "[$b (nil)]"},
		{"return redis.call('set', 'n', 0.1) and redis.call('get', 'n')", "$0.10000000000000001"},
		{"return redis.call('set', 'n', 1e20) and redis.call('get', 'n')", "$1e+20"},
		{"return redis.call('set', 'n', 3) and redis.call('incr', 'n')", ":4"},
		{"return redis.pcall('incr', 'a')", "-ERR value is not an integer or out of range"},
		{"local r = redis.pcall('incr', 'a'); return type(r) .. r.err", "$tableERR value is not an integer or out of range"},
		{"return redis.call('exists', 'a', 'a', 'nokey')", ":2"},
		{"return redis.call('lpush', 'l', 1, 2.5) and redis.call('lrange', 'l', 0, -1)", "[$2.5 $1]"},
		{"return redis.call('echo', 'x')", "$x"},
		{"return redis.call('publish', 'ch', 'm')", ":0"},
		{"return #redis.call('time')", ":2"},
		{"return redis.REDIS_VERSION ~= nil", ":1"},
		// cjson and bit, as Redis bundles them.
		{"return cjson.encode({1, 2, 'a', {x = {}}})", `$[1,2,"a",{"x":{}}]`},
		{"return cjson.encode('a/b\"c\\\\d\\1\\127\\n')", `$"a\/b\"c\\d\u0001\u007f\n"`},
		{"return cjson.encode({0.1, 123456789012345, -0, true, cjson.null, nil, 3})", "$[0.1,1.2345678901234e+14,-0,true,null,null,3]"},
		{"return cjson.encode({[1] = 1, [20] = 5})", raised("return cjson.encode({[1] = 1, [20] = 5})", "ERR user_script:1: Cannot serialise table: excessively sparse array", 1)},
		{"return cjson.encode(0/0)", raised("return cjson.encode(0/0)", "ERR user_script:1: Cannot serialise number: must not be NaN or Inf", 1)},
		{"local t = {} t[1] = t return cjson.encode(t)", raised("local t = {} t[1] = t return cjson.encode(t)", "ERR user_script:1: Cannot serialise, excessive nesting (1001)", 1)},
		{`return cjson.decode('{"a":{"b":[true,false,null,"x\\u0041",1.5]}}').a.b`, "[:1 (nil) (nil) $xA :1]"},
		{`return cjson.encode(cjson.decode('{"k":[1,2,{"x":"y"}]}'))`, `${"k":[1,2,{"x":"y"}]}`},
		{"return cjson.decode('[1,')", raised("return cjson.decode('[1,')", "ERR user_script:1: Expected value but found T_END at character 4", 1)},
		{"return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4)}", "[:15 :7 :6 :-1 :-2147483648 :15 :-16]"},
		{"return {bit.tohex(255), bit.tohex(-1, -4), bit.tobit(0xffffffff + 1), bit.rol(0x12345678, 8), bit.bswap(0x12345678), bit.tobit(2.5)}", "[$000000ff $FFFF :0 :878082066 :2018915346 :2]"},
		// cmsgpack, byte for byte (hex).
		{mpHex + "return hex(cmsgpack.pack(1, -1, 127, 128, -33, 255, 256, 65536, -129, -32769, 4294967296, -2147483649))", "$01ff7fcc80d0dfccffcd0100ce00010000d1ff7fd2ffff7fffcf0000000100000000d3ffffffff7fffffff"},
		{mpHex + "return hex(cmsgpack.pack(1.5, 0.1, 3.0, -0.0, true, false, nil, 'a', {1,2,3}, {}, {a=1}, {1,nil,3}))", "$ca3fc00000cb3fb999999999999a0300c3c2c0a161930102039081a161018201010303"},
		{mpHex + "return hex(cmsgpack.pack(string.rep('x', 40)):sub(1, 4))", "$d9287878"},
		{mpHex + "local t = {} local c = t for i=1,20 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))", "$91919191919191919191919191919191c0"},
		{"return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1,2}, {k='v'}))}", "[:1 $a [:1 :2] []]"},
		{"return cmsgpack.unpack(cmsgpack.pack({k={1,{x='y'}}})).k[2].x", "$y"},
		{"return {cmsgpack.unpack_one(cmsgpack.pack(1,2,3), 2)}", "[:-1 :3]"},
		{"return {cmsgpack.unpack_limit(cmsgpack.pack(1,2,3), 2)}", "[:2 :1 :2]"},
		{"return cmsgpack.unpack('\\193')", raised("return cmsgpack.unpack('\\193')", "ERR user_script:1: Bad data format in input.", 1)},
		{"return cmsgpack.unpack('\\145')", raised("return cmsgpack.unpack('\\145')", "ERR user_script:1: Missing bytes in input.", 1)},
		// Errors, each with the script's SHA and line.
		{"return redis.call('incr', 'a')", raised("return redis.call('incr', 'a')", "ERR value is not an integer or out of range", 1)},
		{"local x = 1\nlocal y = 2\nreturn redis.call('incr', 'a')", raised("local x = 1\nlocal y = 2\nreturn redis.call('incr', 'a')", "ERR value is not an integer or out of range", 3)},
		{"return redis.call('nosuch')", raised("return redis.call('nosuch')", "ERR Unknown Redis command called from script", 1)},
		{"return redis.call('object', 'nosub', 'a')", raised("return redis.call('object', 'nosub', 'a')", "ERR Unknown Redis command called from script", 1)},
		{"return redis.call()", raised("return redis.call()", "ERR Please specify at least one argument for this redis lib call", 1)},
		{"return redis.call('get')", raised("return redis.call('get')", "ERR Wrong number of args calling Redis command from script", 1)},
		{"return redis.call('set', 'k', {})", raised("return redis.call('set', 'k', {})", "ERR Lua redis lib command arguments must be strings or integers", 1)},
		{"return redis.call('watch', 'k')", raised("return redis.call('watch', 'k')", "ERR This Redis command is not allowed from script", 1)},
		{"return redis.call('blpop', 'l', 0)", raised("return redis.call('blpop', 'l', 0)", "ERR This Redis command is not allowed from script", 1)},
		{"return redis.call('eval', 'return 1', '0')", raised("return redis.call('eval', 'return 1', '0')", "ERR This Redis command is not allowed from script", 1)},
		{"return redis.call('client', 'list')", raised("return redis.call('client', 'list')", "ERR This Redis command is not allowed from script", 1)},
		{"return redis.call('role')", raised("return redis.call('role')", "ERR This Redis command is not allowed from script", 1)},
		{"return redis.call('latency', 'latest')", raised("return redis.call('latency', 'latest')", "ERR This Redis command is not allowed from script", 1)},
		{"return type(redis.call('slowlog', 'len'))", "$number"},
		{"return redis.pcall('nosuch')", "-ERR Unknown Redis command called from script"},
		{"error('boom')", raised("error('boom')", "ERR user_script:1: boom", 1)},
		{"error({err='MYERR custom'})", raised("error({err='MYERR custom'})", "MYERR custom", 1)},
		{"x = 1", raised("x = 1", "ERR user_script:1: Attempt to modify a readonly table", 1)},
		{"return y", raised("return y", "ERR user_script:1: Script attempted to access nonexistent global variable 'y'", 1)},
		{"return os", raised("return os", "ERR user_script:1: Script attempted to access nonexistent global variable 'os'", 1)},
		{"return dofile", raised("return dofile", "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'", 1)},
	}
	for _, tc := range cases {
		got := c.do("EVAL", tc.body, "0")
		if tc.want == "" {
			if !strings.HasPrefix(got, "[[[") || !strings.Contains(got, "-ERR reached lua stack limit]") {
				t.Errorf("EVAL %q = %.80q..., want arrays nested down to the stack limit error", tc.body, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("EVAL %q = %q, want %q", tc.body, got, tc.want)
		}
	}

	// What a script changes in the sandbox is gone for the next one
	// (Redis refuses these changes outright).
	for _, leak := range []string{"rawset(_G, 'leak', 1)", "string.len = nil", "setmetatable(_G, nil)", "getmetatable('').__index = {}", "redis.call = nil"} {
		c.do("EVAL", leak, "0")
	}
	c.expect("(nil)", "EVAL", "return rawget(_G, 'leak')", "0")
	c.expect(":3", "EVAL", "return string.len('ab') + ('x'):len()", "0")
	c.expect(raised("return y", "ERR user_script:1: Script attempted to access nonexistent global variable 'y'", 1), "EVAL", "return y", "0")
	c.expect("$b", "EVAL", "return redis.call('get', 'a')", "0")

	// KEYS and ARGV, and numkeys.
	c.expect("[$k1 $k2 $a1]", "EVAL", "return {KEYS[1], KEYS[2], ARGV[1]}", "2", "k1", "k2", "a1")
	c.expect(":0", "EVAL", "return #KEYS", "0", "a1")
	c.expect("-ERR Number of keys can't be negative", "EVAL", "return 1", "-1")
	c.expect("-ERR Number of keys can't be greater than number of args", "EVAL", "return 1", "2", "k")
	c.expect("-ERR value is not an integer or out of range", "EVAL", "return 1", "x")
	if got := c.do("EVAL", "retur", "0"); !strings.HasPrefix(got, "-ERR Error compiling script (new function): user_script") {
		t.Errorf("EVAL of a syntax error = %q", got)
	}

	// The script cache.
	body := "return 'hi' .. ARGV[1]"
	sha := scriptSHA(body)
	c.expect("-NOSCRIPT No matching script. Please use EVAL.", "EVALSHA", sha, "0", "x")
	c.expect("$"+sha, "SCRIPT", "LOAD", body)
	c.expect("$hix", "EVALSHA", sha, "0", "x")
	c.expect("$hiy", "EVALSHA", strings.ToUpper(sha), "0", "y")
	c.expect("[:1 :0]", "SCRIPT", "EXISTS", sha, "nope")
	c.expect("-ERR SCRIPT FLUSH only support SYNC|ASYNC option", "SCRIPT", "FLUSH", "x")
	c.expect("+OK", "SCRIPT", "FLUSH", "ASYNC")
	c.expect("[:0]", "SCRIPT", "EXISTS", sha)
	c.expect("$hiz", "EVAL", body, "0", "z") // EVAL caches it too
	c.expect("[:1]", "SCRIPT", "EXISTS", sha)
	if got := infoField(t, c, "memory", "number_of_cached_scripts"); got == "" || got == "0" {
		t.Errorf("INFO memory number_of_cached_scripts = %q with scripts cached", got)
	}
	c.expect("-NOTBUSY No scripts in execution right now.", "SCRIPT", "KILL")
	c.expect("-ERR unknown subcommand 'foo'. Try SCRIPT HELP.", "SCRIPT", "foo")

	// Read-only scripts.
	ro := "return redis.call('set', 'a', 'c')"
	c.expect(raised(ro, "ERR Write commands are not allowed from read-only scripts.", 1), "EVAL_RO", ro, "0")
	c.expect("$b", "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "a")

	// A script in a transaction runs in it.
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "SET", "t", "1")
	c.expect("+QUEUED", "EVAL", "return redis.call('incr', KEYS[1])", "1", "t")
	c.expect("+QUEUED", "GET", "t")
	c.expect("[+OK :2 $2]", "EXEC")
	c.expect("+OK", "MULTI")
	c.expect("+QUEUED", "EVAL", "return redis.call('select', '3')", "0")
	c.expect("+QUEUED", "SET", "after", "1")
	c.expect("[+OK +OK]", "EXEC")
	c.expect("$1", "GET", "after") // the script's SELECT did not outlive it
	c.expect("+OK", "SELECT", "3")
	c.expect(":0", "EXISTS", "after")
	c.expect("+OK", "SELECT", "0")

	// ACL rules apply to the script's commands.
	c.expect("+OK", "ACL", "SETUSER", "scripter", "on", "nopass", "+@all", "-set", "~k*", "&*")
	c.expect("+OK", "AUTH", "scripter", "x")
	denied := "return redis.call('set', 'k1', 'v')"
	c.expect(raised(denied, "ERR The user executing the script can't run this command or subcommand", 1), "EVAL", denied, "0")
	keyDenied := "return redis.call('get', 'zz')"
	c.expect(raised(keyDenied, "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments", 1), "EVAL", keyDenied, "0")
	c.expect("(nil)", "EVAL", "return redis.call('get', 'k1')", "0")
}

// TestScriptBadInputKeepsServerUp: scripts that would exhaust the
// stack, the registry or the memory get an error, and the server serves
// on (walrus only: redis-server may abort on some of these).
func TestScriptBadInputKeepsServerUp(t *testing.T) {
	c := dialRaw(t, startServer(t).Addr().String())
	for body, want := range map[string]string{
		"return string.rep('x', 1e12)":                                                      "resulting string too large",
		"return ('xy'):rep(1e9)":                                                            "resulting string too large",
		"local function f() return 1 + f() end return f()":                                  "stack overflow",
		"return unpack({}, 1, 1e8)":                                                         "",
		"return string.format('%099999999999d', 1) ~= nil":                                  "",
		"local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x": "",
		"local function f() local co = coroutine.wrap(f) co() end f()":                      "too many coroutines",
		"return " + strings.Repeat("1+", 1e6) + "1":                                         "chunk has too many syntax levels",
		"local function f() pcall(f) end f() return 1":                                      "",
		"return cmsgpack.unpack('\\221\\255\\255\\255\\255')":                               "Missing bytes in input.",
		"return cmsgpack.unpack(string.rep('\\145', 100000) .. '\\192')":                    "Bad data format in input.",
		"return cjson.decode(string.rep('[', 100000))":                                      "Found too many nested data structures",
		"return select('#', coroutine.resume(coroutine.create(function() return 1 end)))":   "",
	} {
		got := c.do("EVAL", body, "0")
		if !strings.HasPrefix(got, "-ERR ") && want != "" || !strings.Contains(got, want) {
			t.Errorf("EVAL %q = %.200q, want an error containing %q", body, got, want)
		}
	}
	c.expect("+PONG", "PING")
	c.expect("$xyxyxy", "EVAL", "return ('xy'):rep(3)", "0")
}

// TestScriptIsAtomic runs a read-modify-write script from several
// clients at once: no increment is lost, as none would be in Redis.
func TestScriptIsAtomic(t *testing.T) { againstBoth(t, scriptAtomicScenario) }

func scriptAtomicScenario(t *testing.T, addr string) {
	const clients, each = 4, 100
	body := "local v = tonumber(redis.call('get', KEYS[1]) or '0')\nredis.call('set', KEYS[1], v + 1)\nreturn v + 1"
	var wg sync.WaitGroup
	for range clients {
		c := dialRaw(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c.send("EVAL", body, "1", "counter")
				if got, err := c.read(); err != nil || !strings.HasPrefix(got, ":") {
					t.Errorf("EVAL = %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c := dialRaw(t, addr)
	c.expect("$"+strconv.Itoa(clients*each), "GET", "counter")
}

// TestScriptWakesBlockedClient: a script's push serves a client blocked
// on the list.
func TestScriptWakesBlockedClient(t *testing.T) { againstBoth(t, scriptWakeScenario) }

func scriptWakeScenario(t *testing.T, addr string) {
	waiter, c := dialRaw(t, addr), dialRaw(t, addr)
	waiter.send("BLPOP", "q", "10")
	c.waitBlocked("1")
	c.expect(":1", "EVAL", "return redis.call('rpush', KEYS[1], ARGV[1])", "1", "q", "job")
	waiter.expectRead("[$q $job]")
}

// TestScriptKill: a script past busy-reply-threshold makes other clients
// wait with BUSY; SCRIPT KILL ends it while it has written nothing.
func TestScriptKill(t *testing.T) {
	againstBothStarting(t, func(t *testing.T, start startFunc) {
		addr := start("--busy-reply-threshold", "50")
		runner, c := dialRaw(t, addr), dialRaw(t, addr)
		loop := "local i = 0 while true do i = i + 1 end"
		runner.send("EVAL", loop, "0")
		waitFor(t, "BUSY", 10*time.Second, func() bool {
			return strings.HasPrefix(c.do("GET", "x"), "-BUSY Redis is busy running a script.")
		})
		c.expect("+OK", "SCRIPT", "KILL")
		runner.expectRead("-ERR Script killed by user with SCRIPT KILL... script: " + scriptSHA(loop) + ", on @user_script:1.")
		c.expect("(nil)", "GET", "x")
		c.expect("-NOTBUSY No scripts in execution right now.", "SCRIPT", "KILL")
	})
}

// TestScriptThatWroteIsUnkillable: SCRIPT KILL refuses a script that has
// written (walrus only: Redis can then only be stopped by SHUTDOWN
// NOSAVE); stopping the server ends it, and its write stays.
func TestScriptThatWroteIsUnkillable(t *testing.T) {
	s := startServer(t, "--busy-reply-threshold", "50")
	runner, c := dialRaw(t, s.Addr().String()), dialRaw(t, s.Addr().String())
	runner.send("EVAL", "redis.call('set', 'w', '1') while true do end", "0")
	waitFor(t, "BUSY", 10*time.Second, func() bool {
		return strings.HasPrefix(c.do("PING"), "-BUSY")
	})
	if got := c.do("SCRIPT", "KILL"); !strings.HasPrefix(got, "-UNKILLABLE Sorry the script already executed write commands") {
		t.Fatalf("SCRIPT KILL = %q", got)
	}
	// The test's cleanup stops the server; that must end the script
	// rather than wait for it forever.
}

// TestScriptEffectsReplicate: a replica applies a script's effects, not
// the script, so a value the script makes up (from TIME) is the
// master's; a replica refuses a script's writes.
func TestScriptEffectsReplicate(t *testing.T) {
	againstBothStarting(t, func(t *testing.T, start startFunc) {
		maddr := start()
		host, port, _ := strings.Cut(maddr, ":")
		raddr := start("--replicaof", host, port)
		m, r := dialRaw(t, maddr), dialRaw(t, raddr)
		waitFor(t, "replica link up", 10*time.Second, func() bool {
			return infoField(t, r, "replication", "master_link_status") == "up"
		})
		m.expect("+OK", "EVAL", "local t = redis.call('time') redis.call('set', KEYS[1], t[1] .. '.' .. t[2]) return redis.call('rpush', KEYS[2], 'a', 'b') and redis.status_reply('OK')", "2", "stamp", "list")
		want := m.do("GET", "stamp")
		waitFor(t, "the script's effects on the replica", 10*time.Second, func() bool {
			return r.do("GET", "stamp") == want && r.do("LRANGE", "list", "0", "-1") == "[$a $b]"
		})
		write := "return redis.call('set', 'x', '1')"
		if got := r.do("EVAL", write, "0"); !strings.HasPrefix(got, "-READONLY You can't write against a read only replica.") {
			t.Errorf("EVAL of a write on a replica = %q", got)
		}
		r.expect("$"+want[1:], "EVAL", "return redis.call('get', 'stamp')", "0") // reads run there
	})
}
