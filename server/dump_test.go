package server

import (
	"encoding/binary"
	"hash/crc64"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestDumpRestoreWithRedis moves values both ways: each value redis-server
// holds, in every encoding Redis 7.0 picks for it (listpacks, intsets,
// quicklists with packed and plain nodes, hash tables, skiplists, integer
// and LZF-compressed strings), is dumped by Redis and restored here, then
// dumped here and restored in Redis; all three copies must read the same.
func TestDumpRestoreWithRedis(t *testing.T) {
	r := dialRaw(t, redisServer(t))
	w := dialRaw(t, startServer(t).Addr().String())

	keys := fillEncodings(r)
	for _, k := range keys {
		want := describe(t, r, k)
		payload := bulk(t, r.do("DUMP", k))
		w.expect("+OK", "RESTORE", k, "0", payload)
		if got := describe(t, w, k); got != want {
			t.Errorf("%s restored from redis: %.200q, want %.200q", k, got, want)
		}
		back := bulk(t, w.do("DUMP", k))
		r.expect("+OK", "RESTORE", k+":back", "0", back)
		if got := describe(t, r, k+":back"); got != want {
			t.Errorf("%s restored in redis from walrus: %.200q, want %.200q", k, got, want)
		}
	}
	// Libraries too: Redis's payload compresses their code with LZF.
	r.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	w.expect("+OK", "FUNCTION", "RESTORE", bulk(t, r.do("FUNCTION", "DUMP")))
	w.expect(":1", "FCALL", "f1", "1", "fk")
	r.expect("+OK", "FUNCTION", "RESTORE", bulk(t, w.do("FUNCTION", "DUMP")), "FLUSH")
	r.expect("$back", "FCALL", "ro1", "0", "back")

	// A short string's payload is Redis's byte for byte (longer ones
	// differ: Redis compresses them with LZF, walrus does not).
	for _, k := range []string{"s:word", "s:int8", "s:int16", "s:int32", "s:int64", "s:zeros", "s:empty", "s:negzero"} {
		if got, want := w.do("DUMP", k), r.do("DUMP", k); got != want {
			t.Errorf("DUMP %s = %q, want %q", k, got, want)
		}
	}
}

// fillEncodings writes keys of every type into a server, in every
// encoding Redis 7.0 picks for each (listpacks, intsets, quicklists with
// packed and plain nodes, hash tables, skiplists, integer, raw and
// compressible strings), and returns their names.
func fillEncodings(r *rawConn) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	r.do("SET", "s:binary", string(random))
	for k, v := range map[string]string{
		"s:word": "hello", "s:int8": "-7", "s:int16": "12345", "s:int32": "-2000000000",
		"s:int64": "9000000000", "s:zeros": "007", "s:empty": "", "s:negzero": "-0",
		"s:long": strings.Repeat("walrus", 50), "s:float": "3.14",
	} {
		r.do("SET", k, v)
	}
	ints := []string{"0", "12", "127", "128", "-1", "4095", "-4096", "32767", "-32768", "70000", "-8388608", "2147483648", "-1099511627776", "4611686018427387904"}
	r.do(append([]string{"RPUSH", "l:small", "a", "bb"}, ints...)...)
	for i := 0; i < 2000; i++ {
		r.do("RPUSH", "l:long", "item"+strconv.Itoa(i))
	}
	r.do("RPUSH", "l:plain", "x", strings.Repeat("y", 9000), "z") // a plain node
	r.do(append([]string{"SADD", "set:int16"}, "1", "2", "-3", "300")...)
	r.do(append([]string{"SADD", "set:int64"}, "1", "9000000000", "-9000000000")...)
	r.do("SADD", "set:words", "a", "b", "c")
	for i := 0; i < 600; i++ {
		r.do("SADD", "set:big", "m"+strconv.Itoa(i))
	}
	r.do(append([]string{"HSET", "h:small", "f", "v", "n", "300"}, "neg", "-5")...)
	for i := 0; i < 300; i++ {
		r.do("HSET", "h:big", "f"+strconv.Itoa(i), "v"+strconv.Itoa(i*7))
	}
	r.do("HSET", "h:longvalue", "f", strings.Repeat("v", 100))
	r.do("ZADD", "z:small", "1.5", "a", "-inf", "b", "inf", "c", "0", "d", "1e300", "e", "0.1", "f", "-3", "g")
	for i := 0; i < 300; i++ {
		r.do("ZADD", "z:big", strconv.FormatFloat(float64(i)/3, 'g', -1, 64), "m"+strconv.Itoa(i))
	}
	r.do("ZADD", "z:big", "-inf", "low", "+inf", "high")

	return []string{"s:binary", "s:word", "s:int8", "s:int16", "s:int32", "s:int64", "s:zeros", "s:empty", "s:negzero", "s:long", "s:float",
		"l:small", "l:long", "l:plain", "set:int16", "set:int64", "set:words", "set:big", "h:small", "h:big", "h:longvalue", "z:small", "z:big"}
}

// bulk is the data of a bulk reply.
func bulk(t *testing.T, reply string) string {
	t.Helper()
	if !strings.HasPrefix(reply, "$") {
		t.Fatalf("reply %.100q is not a bulk string", reply)
	}
	return reply[1:]
}

// describe renders a key's type and contents in an order that does not
// depend on the server's encoding (elements here hold no spaces).
func describe(t *testing.T, c *rawConn, k string) string {
	t.Helper()
	typ := c.do("TYPE", k)
	switch typ {
	case "+string":
		return typ + " " + c.do("GET", k)
	case "+list":
		return typ + " " + c.do("LRANGE", k, "0", "-1")
	case "+set":
		return typ + " " + sortedReply(c.do("SMEMBERS", k))
	case "+hash":
		parts := strings.Fields(strings.Trim(c.do("HGETALL", k), "[]"))
		pairs := make([]string, 0, len(parts)/2)
		for i := 0; i+1 < len(parts); i += 2 {
			pairs = append(pairs, parts[i]+"="+parts[i+1])
		}
		sort.Strings(pairs)
		return typ + " " + strings.Join(pairs, " ")
	case "+zset":
		return typ + " " + c.do("ZRANGE", k, "0", "-1", "WITHSCORES")
	}
	return typ
}

// TestRestoreReplies checks RESTORE's options, errors and their order,
// and what it does to TTLs, against both servers.
func TestRestoreReplies(t *testing.T) { againstBoth(t, restoreRepliesScenario) }

func restoreRepliesScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	c.do("FLUSHALL")
	c.do("SET", "src", "hello")
	p := bulk(t, c.do("DUMP", "src")) // the same bytes on both servers
	c.expect("(nil)", "DUMP", "nokey")

	c.expect("-BUSYKEY Target key name already exists.", "RESTORE", "src", "0", p)
	c.expect("-BUSYKEY Target key name already exists.", "RESTORE", "src", "x", p)
	c.expect("-ERR value is not an integer or out of range", "RESTORE", "k", "x", p)
	c.expect("-ERR Invalid TTL value, must be >= 0", "RESTORE", "k", "-1", p)
	c.expect("-ERR DUMP payload version or checksum are wrong", "RESTORE", "k", "0", "garbage")
	c.expect("-ERR DUMP payload version or checksum are wrong", "RESTORE", "k", "0", "")
	flipped := []byte(p)
	flipped[2] ^= 1
	c.expect("-ERR DUMP payload version or checksum are wrong", "RESTORE", "k", "0", string(flipped))
	newer := []byte(p)
	newer[len(newer)-10] = 99 // an RDB version from the future
	c.expect("-ERR DUMP payload version or checksum are wrong", "RESTORE", "k", "0", string(newer))
	// A payload whose checksum is right but whose body is not.
	c.expect("-ERR Bad data format", "RESTORE", "k", "0", resealed(p, func(b []byte) { b[1] = 40 })) // a length past the end
	c.expect("-ERR Bad data format", "RESTORE", "k", "0", resealed(p, func(b []byte) { b[0] = 99 })) // no such type
	c.expect("-ERR syntax error", "RESTORE", "k", "0", p, "BOGUS")
	c.expect("-ERR syntax error", "RESTORE", "k", "0", p, "IDLETIME")
	c.expect("-ERR Invalid IDLETIME value, must be >= 0", "RESTORE", "k", "0", p, "IDLETIME", "-1")
	c.expect("-ERR Invalid FREQ value, must be >= 0 and <= 255", "RESTORE", "k", "0", p, "FREQ", "256")
	c.expect("-ERR syntax error", "RESTORE", "k", "0", p, "IDLETIME", "1", "FREQ", "1")
	c.expect("-ERR value is not an integer or out of range", "RESTORE", "k", "0", p, "FREQ", "x")
	c.expect(":0", "EXISTS", "k")

	c.expect("+OK", "RESTORE", "k", "0", p, "IDLETIME", "10")
	c.expect(":-1", "TTL", "k")
	c.expect("+OK", "RESTORE", "k", "100000", p, "REPLACE", "FREQ", "5")
	if ttl, _ := strconv.Atoi(strings.TrimPrefix(c.do("PTTL", "k"), ":")); ttl <= 90000 || ttl > 100000 {
		t.Errorf("PTTL after RESTORE with a TTL of 100000 ms = %d", ttl)
	}
	c.expect("+OK", "RESTORE", "k", "4102444800000", p, "REPLACE", "ABSTTL")
	c.expect(":4102444800", "EXPIRETIME", "k")
	// An absolute TTL in the past deletes the key it replaces.
	c.expect("+OK", "RESTORE", "k", "1000", p, "REPLACE", "ABSTTL")
	c.expect(":0", "EXISTS", "k")
	c.expect("+OK", "RESTORE", "k", "1000", p, "ABSTTL")
	c.expect(":0", "EXISTS", "k")
	// REPLACE changes the type, and the value restored is a copy.
	c.do("RPUSH", "l", "a")
	c.expect("+OK", "RESTORE", "l", "0", p, "REPLACE")
	c.expect("+string", "TYPE", "l")
	c.expect("$hello", "GET", "l")
	c.do("RPUSH", "list", "x", "y")
	lp := bulk(t, c.do("DUMP", "list"))
	c.expect("+OK", "RESTORE", "list2", "0", lp)
	c.do("RPUSH", "list2", "z")
	c.expect("[$x $y]", "LRANGE", "list", "0", "-1")
	c.expect("[$x $y $z]", "LRANGE", "list2", "0", "-1")
	c.expect(":4", "DBSIZE")
}

// resealed is payload p with its body changed by edit and its CRC-64
// (Redis's: Jones' polynomial, reflected, no inversion) made right again.
func resealed(p string, edit func(body []byte)) string {
	b := []byte(p)
	edit(b[:len(b)-10])
	tab := crc64.MakeTable(0x95ac9329ac4bc9b5)
	var crc uint64
	for _, c := range b[:len(b)-8] {
		crc = tab[byte(crc)^c] ^ crc>>8
	}
	binary.LittleEndian.PutUint64(b[len(b)-8:], crc)
	return string(b)
}

// TestFunctionDumpRestore checks FUNCTION DUMP and RESTORE with their
// policies and errors, against both servers.
func TestFunctionDumpRestore(t *testing.T) { againstBoth(t, functionDumpRestoreScenario) }

func functionDumpRestoreScenario(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	c.do("FUNCTION", "FLUSH")
	empty := bulk(t, c.do("FUNCTION", "DUMP"))
	c.expect("$mylib", "FUNCTION", "LOAD", testLibrary)
	other := "#!lua name=other\nredis.register_function('g', function() return 'g' end)"
	c.expect("$other", "FUNCTION", "LOAD", other)
	p := bulk(t, c.do("FUNCTION", "DUMP"))

	// Redis names the first library of its payload, whose order is its
	// hash table's; walrus's payload gives them by name.
	for _, policy := range [][]string{nil, {"APPEND"}} {
		if got := c.do(append([]string{"FUNCTION", "RESTORE", p}, policy...)...); got != "-ERR Library mylib already exists" && got != "-ERR Library other already exists" {
			t.Errorf("FUNCTION RESTORE %v over the same libraries = %q", policy, got)
		}
	}
	c.expect("+OK", "FUNCTION", "RESTORE", p, "REPLACE")
	c.expect("+OK", "FUNCTION", "RESTORE", p, "FLUSH")
	c.expect("+OK", "FUNCTION", "RESTORE", empty, "FLUSH")
	c.expect("[]", "FUNCTION", "LIST")
	c.expect("+OK", "FUNCTION", "RESTORE", p)
	c.expect(":1", "FCALL", "f1", "1", "fk")
	c.expect("$g", "FCALL", "g", "0")
	c.expect("[$running_script (nil) $engines [$LUA [$libraries_count :2 $functions_count :3]]]", "FUNCTION", "STATS")

	// A library of another name with a function already loaded.
	c.expect("+OK", "FUNCTION", "DELETE", "other")
	c.expect("$clash", "FUNCTION", "LOAD", "#!lua name=clash\nredis.register_function('g', function() return 'clash' end)")
	c.expect("-ERR Function g already exists", "FUNCTION", "RESTORE", p, "REPLACE")
	c.expect("$clash", "FCALL", "g", "0")
	c.expect("+OK", "FUNCTION", "RESTORE", p, "FLUSH")
	c.expect("$g", "FCALL", "g", "0")

	c.expect("-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.", "FUNCTION", "RESTORE", p, "BOGUS")
	c.expect("-ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.", "FUNCTION", "RESTORE", p, "FLUSH", "extra")
	c.expect("-ERR DUMP payload version or checksum are wrong", "FUNCTION", "RESTORE", "garbage")
	c.expect("-ERR given type is not a function", "FUNCTION", "RESTORE", resealed(p, func(b []byte) { b[0] = 0 }))
	// DUMP's payload of a value is not a function's.
	c.do("SET", "s", "v")
	c.expect("-ERR given type is not a function", "FUNCTION", "RESTORE", bulk(t, c.do("DUMP", "s")))
	c.expect(":1", "FCALL", "f1", "1", "fk2")
}

// TestDumpRestoreStreamsWithRedis moves a stream with deleted entries,
// consumer groups, pending entries and consumers from redis-server to
// walrus and back; XINFO STREAM FULL, which shows all of it with its
// delivery and seen times, reads the same on all three copies.
func TestDumpRestoreStreamsWithRedis(t *testing.T) {
	r := dialRaw(t, redisServer(t))
	w := dialRaw(t, startServer(t).Addr().String())
	fillStream(r, "s")
	full := func(c *rawConn, k string) string {
		return raxNodes.ReplaceAllString(c.do("XINFO", "STREAM", k, "FULL"), "$$radix-tree-nodes :N")
	}
	want := full(r, "s")
	w.expect("+OK", "RESTORE", "s", "0", bulk(t, r.do("DUMP", "s")))
	if got := full(w, "s"); got != want {
		t.Fatalf("stream restored from redis:\n%.2000s\nwant\n%.2000s", got, want)
	}
	r.expect("+OK", "RESTORE", "s:back", "0", bulk(t, w.do("DUMP", "s")))
	if got := strings.ReplaceAll(full(r, "s:back"), "s:back", "s"); got != want {
		t.Fatalf("stream restored in redis from walrus:\n%.2000s\nwant\n%.2000s", got, want)
	}
	r.expect(r.do("XRANGE", "s", "-", "+"), "XRANGE", "s:back", "-", "+")
}

// fillStream writes a stream of a few hundred entries (enough for
// several of Redis's nodes, with fields that change) with deletions and
// two consumer groups with pending entries and consumers.
func fillStream(c *rawConn, k string) {
	for i := 1; i <= 300; i++ {
		f := []string{"XADD", k, strconv.Itoa(1000+i/7) + "-" + strconv.Itoa(i), "f", strconv.Itoa(i)}
		if i%10 == 0 {
			f = append(f, "other", strings.Repeat("x", i))
		}
		c.do(f...)
	}
	c.do("XDEL", k, "1000-1", "1014-100", "1042-299")
	c.do("XGROUP", "CREATE", k, "g1", "0")
	c.do("XREADGROUP", "GROUP", "g1", "c1", "COUNT", "5", "STREAMS", k, ">")
	c.do("XREADGROUP", "GROUP", "g1", "c2", "COUNT", "3", "STREAMS", k, ">")
	c.do("XACK", k, "g1", "1000-2")
	c.do("XCLAIM", k, "g1", "c2", "0", "1000-3", "RETRYCOUNT", "7")
	c.do("XGROUP", "CREATE", k, "g2", "$")
	c.do("XGROUP", "CREATECONSUMER", k, "g2", "idle")
}

// TestRestoredStreamReplicates: a stream RESTOREd on a master (a logged
// RESTORE the replica decodes and rebuilds) reads the same on its replica.
func TestRestoredStreamReplicates(t *testing.T) {
	_, _, mc, rc := masterAndReplica(t)
	fillStream(mc, "s")
	mc.expect("+OK", "RESTORE", "copy", "0", bulk(t, mc.do("DUMP", "s")))
	waitConverged(t, mc, rc)
	if got, want := rc.do("XINFO", "STREAM", "copy", "FULL"), mc.do("XINFO", "STREAM", "copy", "FULL"); got != want {
		t.Fatalf("replica's restored stream:\n%.1000s\nmaster's:\n%.1000s", got, want)
	}
}
