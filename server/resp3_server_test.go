package server

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RESP3 replies of the server's own commands, against redis-server: the
// same commands go to walrus and to Redis 7.0, both after HELLO 3, and
// the replies must have Redis's RESP3 types (and its values, where they
// are deterministic). The same cases run in RESP2 too, where the replies
// must keep the types they have always had.

// reply3 is one reply read whole, RESP3's types included.
type reply3 struct {
	kind  byte      // the type byte: + - : $ * % ~ > , # _ = (
	text  string    // a simple reply's text; a verbatim string's without its format
	elems []*reply3 // an aggregate's elements; a map's keys and values in turn
	null  bool      // RESP2's null bulk string or null array
	attr  *reply3   // the attribute that came before it (RESP3's '|')
}

func readReply3(rd *bufio.Reader) (*reply3, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty reply line")
	}
	x := &reply3{kind: line[0], text: line[1:]}
	switch x.kind {
	case '+', '-', ':', ',', '#', '_', '(':
		return x, nil
	case '$', '=':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			x.null, x.text = true, ""
			return x, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		x.text = string(buf[:n])
		if x.kind == '=' {
			x.text = x.text[min(4, n):]
		}
		return x, nil
	case '*', '%', '~', '>', '|':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			x.null = true
			return x, nil
		}
		if x.kind == '%' || x.kind == '|' {
			n *= 2
		}
		for range n {
			e, err := readReply3(rd)
			if err != nil {
				return nil, err
			}
			x.elems = append(x.elems, e)
		}
		if x.kind == '|' { // an attribute: the reply follows it
			y, err := readReply3(rd)
			if y != nil {
				x.kind = '%'
				y.attr = x
			}
			return y, err
		}
		return x, nil
	}
	return nil, fmt.Errorf("bad reply line %q", line)
}

// do3 sends a command and reads its reply whole.
func (r *rawConn) do3(args ...string) *reply3 {
	r.t.Helper()
	r.send(args...)
	x, err := readReply3(r.rd)
	if err != nil {
		r.t.Fatalf("%v: %v", args, err)
	}
	return x
}

func (x *reply3) aggregate() bool { return strings.IndexByte("*%~>", x.kind) >= 0 && !x.null }

// shape is the reply's types: an aggregate's elements' shapes sorted (a
// map's as key=value pairs), so that replies in an unspecified order
// have the same shape.
func (x *reply3) shape() string {
	if x.null {
		return string(x.kind) + "nil"
	}
	if !x.aggregate() {
		return string(x.kind)
	}
	var parts []string
	if x.kind == '%' {
		for i := 0; i+1 < len(x.elems); i += 2 {
			parts = append(parts, x.elems[i].shape()+"="+x.elems[i+1].shape())
		}
	} else {
		for _, e := range x.elems {
			parts = append(parts, e.shape())
		}
	}
	sort.Strings(parts)
	return string(x.kind) + "(" + strings.Join(parts, " ") + ")"
}

// kinds is shape with each distinct element shape once: the types of a
// reply whose length differs between the servers (CONFIG GET *).
func (x *reply3) kinds() string {
	if !x.aggregate() {
		return x.shape()
	}
	seen := map[string]bool{}
	var parts []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	if x.kind == '%' {
		for i := 0; i+1 < len(x.elems); i += 2 {
			add(x.elems[i].kinds() + "=" + x.elems[i+1].kinds())
		}
	} else {
		for _, e := range x.elems {
			add(e.kinds())
		}
	}
	sort.Strings(parts)
	return string(x.kind) + "(" + strings.Join(parts, " ") + ")"
}

// String renders the reply with its types, elements in order.
func (x *reply3) String() string {
	if x.attr != nil {
		a := *x
		a.attr = nil
		return "|" + x.attr.String() + " " + a.String()
	}
	switch {
	case x.null:
		return string(x.kind) + "nil"
	case x.aggregate():
		parts := make([]string, len(x.elems))
		for i, e := range x.elems {
			parts[i] = e.String()
		}
		return string(x.kind) + "[" + strings.Join(parts, " ") + "]"
	case x.kind == '$' || x.kind == '=':
		return string(x.kind) + strconv.Quote(x.text)
	}
	return string(x.kind) + x.text
}

// sorted renders the reply with an aggregate's elements (a map's pairs)
// sorted: the value of a reply in an unspecified order.
func (x *reply3) sorted() string {
	if !x.aggregate() {
		return x.String()
	}
	var parts []string
	if x.kind == '%' {
		for i := 0; i+1 < len(x.elems); i += 2 {
			parts = append(parts, x.elems[i].sorted()+"="+x.elems[i+1].sorted())
		}
	} else {
		for _, e := range x.elems {
			parts = append(parts, e.sorted())
		}
	}
	sort.Strings(parts)
	return string(x.kind) + "[" + strings.Join(parts, " ") + "]"
}

// resp3 reports whether the reply has any of RESP3's types.
func (x *reply3) resp3() bool {
	if strings.IndexByte("%~>,#_=(", x.kind) >= 0 {
		return true
	}
	for _, e := range x.elems {
		if e.resp3() {
			return true
		}
	}
	return false
}

// field is a map's (or a RESP2 flat array's) value for key; nil if none.
func (x *reply3) field(key string) *reply3 {
	for i := 0; i+1 < len(x.elems); i += 2 {
		if x.elems[i].text == key {
			return x.elems[i+1]
		}
	}
	return nil
}

// sameCommon reports whether a and b have the same types where both
// have something: a map's fields both have, an array's elements when the
// lengths agree, else the kinds of the elements. It explains a
// difference.
func sameCommon(a, b *reply3, path string) string {
	if a.kind != b.kind || a.null != b.null {
		return fmt.Sprintf("%s: %s vs %s", path, a.shape(), b.shape())
	}
	switch {
	case !a.aggregate():
		return ""
	case a.kind == '%':
		common := 0
		for i := 0; i+1 < len(a.elems); i += 2 {
			if v := b.field(a.elems[i].text); v != nil {
				common++
				if d := sameCommon(a.elems[i+1], v, path+"."+a.elems[i].text); d != "" {
					return d
				}
			}
		}
		if common == 0 && len(a.elems)+len(b.elems) > 0 {
			return path + ": no field in common"
		}
	case len(a.elems) == len(b.elems) && a.kind != '~':
		for i := range a.elems {
			if d := sameCommon(a.elems[i], b.elems[i], path+"["+strconv.Itoa(i)+"]"); d != "" {
				return d
			}
		}
	default:
		if a.kinds() != b.kinds() {
			return fmt.Sprintf("%s: %s vs %s", path, a.kinds(), b.kinds())
		}
	}
	return ""
}

// How a case compares the servers' replies.
const (
	cmpValue  = iota // equal, elements in order
	cmpSorted        // equal, an aggregate's elements in any order
	cmpShape         // the same shape
	cmpKinds         // the same kinds (lengths may differ)
	cmpCommon        // the same types where both have something (sameCommon)
	cmpType          // the same type at the top
)

// resp3Case is a command run on both servers after setup (whose replies
// are not compared), and how its replies compare.
type resp3Case struct {
	setup [][]string
	cmd   []string
	cmp   int
	// check, when set, checks more of the walrus (w) and Redis (r) replies.
	check func(t *testing.T, w, r *reply3)
	// resp3Only: the case runs in RESP3 only.
	resp3Only bool
	// then: the replies that follow the command's (after a push).
	then int
}

// args3 is a command's arguments.
func args3(args ...string) []string { return args }

const resp3Lib = `#!lua name=r3lib
redis.register_function{function_name='r3one', callback=function(keys, args) return {double=1.5} end, flags={'no-writes'}, description='a double'}
redis.register_function('r3two', function(keys, args) redis.setresp(3); return {false, true, type(redis.call('get', 'r3nokey'))} end)`

func resp3Cases() []resp3Case {
	isVerbatim := func(want string) func(t *testing.T, w, r *reply3) {
		return func(t *testing.T, w, r *reply3) {
			for _, x := range []*reply3{w, r} {
				if !strings.Contains(x.text, want) {
					t.Errorf("%q is not in %.200q", want, x.text)
				}
			}
		}
	}
	commandInfo := func(t *testing.T, w, r *reply3) {
		// An entry: name, arity, flags (a set), first, last and step,
		// categories (a set), tips and key specs (sets), subcommands (a
		// set when there are none; walrus has none of these three).
		entry := func(x *reply3) string {
			if x.kind != '*' || len(x.elems) != 10 {
				return x.shape()
			}
			var b strings.Builder
			for i, e := range x.elems {
				switch {
				case i < 7:
					b.WriteString(e.kinds() + " ")
				case i < 9:
					b.WriteString(string(e.kind) + " ")
				default:
					b.WriteString("subcommands ")
				}
			}
			return b.String()
		}
		if w.kind != r.kind || len(w.elems) != len(r.elems) {
			t.Fatalf("COMMAND INFO: %s vs %s", w.kinds(), r.kinds())
		}
		for i := range w.elems {
			if a, b := entry(w.elems[i]), entry(r.elems[i]); a != b {
				t.Errorf("COMMAND INFO entry %d: %s vs %s", i, a, b)
			}
			if w.elems[i].kind == '*' && w.elems[i].elems[9].kind != '~' {
				t.Errorf("COMMAND INFO entry %d: subcommands %s, want an empty set", i, w.elems[i].elems[9].shape())
			}
		}
	}
	return []resp3Case{
		// CONFIG GET: a map.
		{cmd: args3("CONFIG", "GET", "maxmemory"), cmp: cmpValue},
		{cmd: args3("CONFIG", "GET", "maxmemory-policy", "appendonly", "nosuch"), cmp: cmpSorted},
		{cmd: args3("CONFIG", "GET", "*"), cmp: cmpKinds},
		// INFO: a verbatim string.
		{cmd: args3("INFO"), cmp: cmpType, check: isVerbatim("redis_version:")},
		{cmd: args3("INFO", "server", "clients"), cmp: cmpType, check: isVerbatim("connected_clients:")},
		// CLIENT: LIST and INFO verbatim strings, which show resp=3.
		{cmd: args3("CLIENT", "INFO"), cmp: cmpType, check: isVerbatim(" resp=3\n")},
		{cmd: args3("CLIENT", "LIST"), cmp: cmpType, check: isVerbatim(" resp=3\n")},
		{cmd: args3("CLIENT", "LIST", "TYPE", "normal"), cmp: cmpType, check: isVerbatim(" resp=3\n")},
		{cmd: args3("CLIENT", "NO-EVICT", "on"), cmp: cmpValue},
		{cmd: args3("CLIENT", "GETNAME"), cmp: cmpValue},
		{setup: [][]string{args3("CLIENT", "SETNAME", "r3")}, cmd: args3("CLIENT", "GETNAME"), cmp: cmpValue},
		{cmd: args3("CLIENT", "UNBLOCK", "999999"), cmp: cmpValue},
		{cmd: args3("CLIENT", "HELP"), cmp: cmpKinds},
		// COMMAND: sets of flags and categories, maps of docs.
		{cmd: args3("COMMAND", "INFO", "get", "nosuch", "set", "eval", "keys"), cmp: cmpType, check: commandInfo},
		{cmd: args3("COMMAND", "INFO", "nosuch"), cmp: cmpValue},
		{cmd: args3("COMMAND", "COUNT"), cmp: cmpType},
		{cmd: args3("COMMAND", "LIST"), cmp: cmpKinds},
		{cmd: args3("COMMAND", "DOCS", "get", "nosuch", "config"), cmp: cmpCommon},
		{cmd: args3("COMMAND", "DOCS"), cmp: cmpType, check: func(t *testing.T, w, r *reply3) {
			if d := sameCommon(w.field("get"), r.field("get"), "get"); d != "" {
				t.Error(d)
			}
		}},
		{cmd: args3("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"), cmp: cmpValue},
		// MEMORY: STATS a map with doubles; DOCTOR and MALLOC-STATS
		// verbatim; USAGE of no key a null.
		{cmd: args3("MEMORY", "STATS"), cmp: cmpCommon},
		{cmd: args3("MEMORY", "DOCTOR"), cmp: cmpType},
		{cmd: args3("MEMORY", "MALLOC-STATS"), cmp: cmpType},
		{cmd: args3("MEMORY", "USAGE", "r3nokey"), cmp: cmpValue},
		{cmd: args3("MEMORY", "HELP"), cmp: cmpKinds},
		// LATENCY: DOCTOR and GRAPH verbatim, HISTOGRAM maps, LATEST and
		// HISTORY arrays.
		{setup: [][]string{args3("CONFIG", "SET", "latency-monitor-threshold", "0")}, cmd: args3("LATENCY", "DOCTOR"), cmp: cmpType},
		{setup: [][]string{args3("CONFIG", "SET", "latency-monitor-threshold", "1"), args3("DEBUG", "SLEEP", "0.02")}, cmd: args3("LATENCY", "DOCTOR"), cmp: cmpType},
		{cmd: args3("LATENCY", "LATEST"), cmp: cmpShape},
		// One sample a second: how many depends on the clock.
		{cmd: args3("LATENCY", "HISTORY", "command"), cmp: cmpKinds},
		{cmd: args3("LATENCY", "GRAPH", "command"), cmp: cmpType},
		{cmd: args3("LATENCY", "HISTORY", "nosuch"), cmp: cmpValue},
		{setup: [][]string{args3("SET", "r3k", "v")}, cmd: args3("LATENCY", "HISTOGRAM", "set"), cmp: cmpKinds},
		{cmd: args3("LATENCY", "HISTOGRAM", "nosuch"), cmp: cmpValue},
		{cmd: args3("LATENCY", "HELP"), cmp: cmpKinds},
		// SLOWLOG GET: arrays.
		{setup: [][]string{args3("CONFIG", "SET", "slowlog-log-slower-than", "0"), args3("SLOWLOG", "RESET"), args3("SET", "r3k", "v")}, cmd: args3("SLOWLOG", "GET", "1"), cmp: cmpShape},
		{setup: [][]string{args3("CONFIG", "SET", "slowlog-log-slower-than", "10000")}, cmd: args3("SLOWLOG", "LEN"), cmp: cmpType},
		// ACL: GETUSER a map with a set of flags, LOG maps with a double.
		{setup: [][]string{args3("ACL", "SETUSER", "r3bob", "on", ">pw", "~k*", "+get")}, cmd: args3("ACL", "GETUSER", "r3bob"), cmp: cmpValue},
		{cmd: args3("ACL", "GETUSER", "default"), cmp: cmpShape},
		{cmd: args3("ACL", "GETUSER", "nosuch"), cmp: cmpValue},
		{setup: [][]string{args3("ACL", "LOG", "RESET"), args3("AUTH", "r3bob", "wrong")}, cmd: args3("ACL", "LOG", "1"), cmp: cmpCommon, check: func(t *testing.T, w, r *reply3) {
			if len(w.elems) != 1 || w.elems[0].kind != '%' || w.elems[0].field("age-seconds").kind != ',' {
				t.Errorf("ACL LOG: %s", w)
			}
		}},
		{cmd: args3("ACL", "LOG", "RESET"), cmp: cmpValue},
		{cmd: args3("ACL", "CAT"), cmp: cmpKinds},
		{cmd: args3("ACL", "CAT", "geo"), cmp: cmpKinds},
		{cmd: args3("ACL", "LIST"), cmp: cmpKinds},
		{cmd: args3("ACL", "USERS"), cmp: cmpValue},
		{cmd: args3("ACL", "WHOAMI"), cmp: cmpValue},
		{cmd: args3("ACL", "DRYRUN", "r3bob", "set", "k", "v"), cmp: cmpValue},
		{cmd: args3("ACL", "DELUSER", "r3bob"), cmp: cmpValue},
		// PUBSUB NUMSUB and SHARDNUMSUB: arrays in Redis 7.0.
		{cmd: args3("PUBSUB", "NUMSUB", "a", "b"), cmp: cmpValue},
		{cmd: args3("PUBSUB", "SHARDNUMSUB", "a"), cmp: cmpValue},
		{cmd: args3("PUBSUB", "CHANNELS"), cmp: cmpValue},
		// Transactions: the queued commands reply in RESP3 inside EXEC.
		{setup: [][]string{args3("MULTI"), args3("SET", "r3k", "v"), args3("GET", "r3nokey"), args3("CONFIG", "GET", "maxmemory"), args3("INFO", "server"), args3("MEMORY", "USAGE", "r3nokey")}, cmd: args3("EXEC"), cmp: cmpShape},
		{setup: [][]string{args3("MULTI"), args3("CONFIG", "GET", "maxmemory"), args3("ACL", "GETUSER", "default"), args3("PING")}, cmd: args3("EXEC"), cmp: cmpShape},
		// A script's replies: Lua to RESP3.
		{cmd: args3("EVAL", "return true", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return false", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return nil", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {1, false, 'x', true}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return true", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return false", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return {true, false, nil}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(2); return false", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=3.5}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=0.1}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=1/0}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=-1/0}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=0/0}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=1e300}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double='1.5'}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {map={a=1}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {map={a=1, b={set={x=true, y=1}}, c={double=2}}}", "0"), cmp: cmpSorted},
		{cmd: args3("EVAL", "return {map={}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {set={a=true, b=false}}", "0"), cmp: cmpSorted},
		{cmd: args3("EVAL", "return {set={}, map={a=1}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {big_number='123456789012345678901234567890'}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {big_number='12\\r\\n3'}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {verbatim_string={format='mkd', string='hi'}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {verbatim_string={format='markdown', string='hi'}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {verbatim_string={format='m', string='a\\nb'}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {verbatim_string={string='hi'}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {double=2, map={a=1}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {ok='fine', double=2}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {err='My error', map={a=1}}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return {{map={k={1,2}}}, {set={[7]=true}}}", "0"), cmp: cmpValue},
		// redis.setresp(3): the commands' RESP3 replies in Lua.
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('get', 'r3nokey')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return type(redis.call('get', 'r3nokey'))", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return type(redis.call('get', 'r3nokey'))", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return type(redis.call('memory', 'usage', 'r3nokey'))", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return type(redis.call('memory', 'usage', 'r3nokey'))", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('info', 'server'); return {type(v), v.verbatim_string.format, string.sub(v.verbatim_string.string, 1, 8)}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('info', 'server')", "0"), cmp: cmpType},
		{cmd: args3("EVAL", "return type(redis.call('info', 'server'))", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('command', 'info', 'get'); local n = 0; for k, v in pairs(v[1][3].set) do n = n + 1; assert(v == true and k.ok) end; return {type(v[1][3].set), n, v[2]}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('command', 'info', 'get')[1][3]", "0"), cmp: cmpSorted},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('config', 'get', 'maxmemory'); return v", "0"), cmp: cmpType},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('memory', 'stats'); return {type(v.map), type(v.map['dataset.percentage'].double)}", "0"), cmp: cmpValue},
		{setup: [][]string{args3("DEL", "r3h", "r3s", "r3z"), args3("HSET", "r3h", "a", "1"), args3("SADD", "r3s", "x"), args3("ZADD", "r3z", "1.5", "m")}, cmd: args3("EVAL", "redis.setresp(3); return redis.call('hgetall', 'r3h')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return redis.call('hgetall', 'r3h')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('hgetall', 'r3h'); return {v.map.a, #v}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('smembers', 'r3s'); return {tostring(v.set.x), type(v[1])}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('smembers', 'r3s')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); local v = redis.call('zscore', 'r3z', 'm'); return {type(v), tostring(v.double)}", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('zscore', 'r3z', 'm')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('zrange', 'r3z', 0, -1, 'withscores')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "return redis.call('zscore', 'r3z', 'm')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('ping')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.call('set', 'r3k', 'v')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); return redis.pcall('incr', 'r3k')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3); redis.setresp(2); return redis.call('get', 'r3nokey')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(4)", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp()", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp('x')", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3, 3)", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp('3'); return false", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(3.9); return false", "0"), cmp: cmpValue},
		{cmd: args3("EVAL", "redis.setresp(1.5)", "0"), cmp: cmpValue},
		{cmd: args3("SCRIPT", "EXISTS", "a", "b"), cmp: cmpValue},
		// Functions: LIST and STATS maps, FCALL as EVAL.
		{setup: [][]string{args3("FUNCTION", "FLUSH"), args3("FUNCTION", "LOAD", resp3Lib)}, cmd: args3("FUNCTION", "LIST", "WITHCODE"), cmp: cmpSorted},
		{cmd: args3("FUNCTION", "LIST", "LIBRARYNAME", "nosuch"), cmp: cmpValue},
		{cmd: args3("FUNCTION", "LOAD", "#!lua name=r3bad\nredis.setresp(3)\nredis.register_function('r3bad', function() return 1 end)"), cmp: cmpValue},
		{cmd: args3("FUNCTION", "STATS"), cmp: cmpValue},
		{cmd: args3("FCALL", "r3one", "0"), cmp: cmpValue},
		{cmd: args3("FCALL_RO", "r3one", "0"), cmp: cmpValue},
		{cmd: args3("FCALL", "r3two", "0"), cmp: cmpValue},
		{cmd: args3("FUNCTION", "FLUSH"), cmp: cmpValue},
		// Nulls.
		{cmd: args3("OBJECT", "ENCODING", "r3nokey"), cmp: cmpValue},
		{cmd: args3("OBJECT", "FREQ", "r3nokey"), cmp: cmpValue},
		{cmd: args3("DEBUG", "DIGEST-VALUE", "r3nokey"), cmp: cmpShape},
		// DEBUG PROTOCOL: each of RESP3's types (push: see
		// TestRESP3ServerScenarios).
		{cmd: args3("DEBUG", "PROTOCOL", "string"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "integer"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "double"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "bignum"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "null"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "array"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "set"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "map"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "attrib"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "verbatim"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "true"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "false"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "nosuch"), cmp: cmpValue},
		{cmd: args3("DEBUG", "PROTOCOL", "push"), cmp: cmpValue, resp3Only: true, then: 1},
		// ROLE, TIME, HELP lines.
		{cmd: args3("ROLE"), cmp: cmpShape},
		{cmd: args3("TIME"), cmp: cmpShape},
		{cmd: args3("SLOWLOG", "HELP"), cmp: cmpKinds},
		{cmd: args3("SCRIPT", "HELP"), cmp: cmpKinds},
		{cmd: args3("FUNCTION", "HELP"), cmp: cmpKinds},
		{cmd: args3("ACL", "HELP"), cmp: cmpKinds},
		{cmd: args3("CONFIG", "HELP"), cmp: cmpValue},
		{cmd: args3("COMMAND", "HELP"), cmp: cmpKinds},
		{cmd: args3("MODULE", "LIST"), cmp: cmpValue},
	}
}

// resp3Servers starts walrus and redis-server (or skips the test) with
// the settings the cases need.
func resp3Servers(t *testing.T) (walrus, redis string) {
	redis = redisServer(t, "--enable-debug-command", "yes")
	walrus = startServer(t).Addr().String()
	return walrus, redis
}

func TestRESP3ServerCommands(t *testing.T) {
	walrusAddr, redisAddr := resp3Servers(t)
	for _, proto := range []string{"3", "2"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			w, r := dialRaw(t, walrusAddr), dialRaw(t, redisAddr)
			for _, conn := range []*rawConn{w, r} {
				if got := conn.do3("HELLO", proto); got.field("proto") == nil || got.field("proto").text != proto {
					t.Fatalf("HELLO %s: %s", proto, got)
				}
			}
			for _, tc := range resp3Cases() {
				if proto == "2" && tc.resp3Only {
					continue
				}
				for _, s := range tc.setup {
					w.do3(s...)
					r.do3(s...)
				}
				got, want := w.do3(tc.cmd...), r.do3(tc.cmd...)
				for range tc.then {
					g, err1 := readReply3(w.rd)
					h, err2 := readReply3(r.rd)
					if err1 != nil || err2 != nil {
						t.Fatalf("%v: %v %v", tc.cmd, err1, err2)
					}
					got = &reply3{kind: '*', elems: []*reply3{got, g}}
					want = &reply3{kind: '*', elems: []*reply3{want, h}}
				}
				name := quoteCmd(tc.cmd)
				if len(name) > 100 {
					name = name[:100] + "..."
				}
				if proto == "2" && got.resp3() {
					t.Errorf("RESP2 %s: RESP3 types in %s", name, got)
				}
				var diff string
				switch tc.cmp {
				case cmpValue:
					if got.String() != want.String() {
						diff = fmt.Sprintf("walrus %s\nredis  %s", got, want)
					}
				case cmpSorted:
					if got.sorted() != want.sorted() {
						diff = fmt.Sprintf("walrus %s\nredis  %s", got.sorted(), want.sorted())
					}
				case cmpShape:
					if got.shape() != want.shape() {
						diff = fmt.Sprintf("walrus %s\nredis  %s", got.shape(), want.shape())
					}
				case cmpKinds:
					if got.kinds() != want.kinds() {
						diff = fmt.Sprintf("walrus %s\nredis  %s", got.kinds(), want.kinds())
					}
				case cmpCommon:
					if proto == "2" { // a flat array of fields and values
						if got.kind != want.kind {
							diff = fmt.Sprintf("walrus %s\nredis  %s", got.shape(), want.shape())
						}
						break
					}
					diff = sameCommon(got, want, "reply")
				case cmpType:
					if got.kind != want.kind || got.null != want.null {
						diff = fmt.Sprintf("walrus %s\nredis  %s", got.shape(), want.shape())
					}
				}
				if diff != "" {
					t.Errorf("RESP%s %s:\n%s", proto, name, diff)
					continue
				}
				if tc.check != nil && proto == "3" {
					tc.check(t, got, want)
				}
			}
		})
	}
}

// TestRESP3ServerScenarios checks, on walrus and on redis-server alike,
// the RESP3 replies that take more than one connection or a transaction:
// EXEC aborted by WATCH, a pop unblocked by CLIENT UNBLOCK, a script in
// a transaction, PING while subscribed.
func TestRESP3ServerScenarios(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		for _, conn := range []*rawConn{a, b} {
			conn.do3("HELLO", "3")
		}
		expect := func(conn *rawConn, want string, args ...string) {
			t.Helper()
			if got := conn.do3(args...).String(); got != want {
				t.Fatalf("%v: got %s, want %s", args, got, want)
			}
		}

		// EXEC aborted by WATCH: RESP3's null, with data commands queued
		// and with server commands alone.
		for _, queued := range [][]string{args3("GET", "w"), args3("PING")} {
			expect(a, "+OK", "WATCH", "w")
			expect(b, "+OK", "SET", "w", "1")
			expect(a, "+OK", "MULTI")
			expect(a, "+QUEUED", queued...)
			expect(a, "_", "EXEC")
		}

		// The queued commands reply in RESP3 inside EXEC, a script's too.
		expect(a, "+OK", "MULTI")
		expect(a, "+QUEUED", "GET", "nokey")
		expect(a, "+QUEUED", "EVAL", "redis.setresp(3); return {redis.call('get', 'nokey') == nil, {double=1.5}, true}", "0")
		expect(a, "+QUEUED", "CONFIG", "GET", "maxmemory")
		expect(a, "+QUEUED", "MEMORY", "USAGE", "nokey")
		expect(a, `*[_ *[#t ,1.5 #t] %[$"maxmemory" $"0"] _]`, "EXEC")

		// CLIENT UNBLOCK: a RESP3 client's pop unblocked as if it timed
		// out gets RESP3's null; a RESP2 client's its null array.
		for _, proto := range []string{"3", "2"} {
			if got := a.do3("HELLO", proto).field("proto"); got == nil || got.text != proto {
				t.Fatalf("HELLO %s: proto %v", proto, got)
			}
			id := a.do3("CLIENT", "ID").text
			a.send("BLPOP", "nolist", "0")
			waitFor(t, "the pop to block", 10*time.Second, func() bool {
				// flags=b, not cmd=blpop: walrus shows the command before
				// the client waits, and CLIENT UNBLOCK finds only a waiter.
				return strings.Contains(b.do3("CLIENT", "LIST", "ID", id).text, " flags=b ")
			})
			expect(b, ":1", "CLIENT", "UNBLOCK", id)
			x, err := readReply3(a.rd)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{"3": "_", "2": "*nil"}[proto]; x.String() != want {
				t.Fatalf("RESP%s BLPOP unblocked: %s, want %s", proto, x, want)
			}
		}
		a.do3("HELLO", "3")

		// PING while subscribed: RESP3 has no subscribed mode's pong.
		a.send("SUBSCRIBE", "ch")
		if x, err := readReply3(a.rd); err != nil || x.kind != '>' {
			t.Fatalf("SUBSCRIBE: %v %v", x, err)
		}
		expect(a, "+PONG", "PING")
		expect(a, `$"x"`, "PING", "x")
	})
}
