package server

import (
	"strings"
	"testing"
)

// The RESP3 replies of the data-type commands in forms the differential
// families do not draw (random picks from one-element collections, pops
// of part of a set, blocked clients served or unblocked, transactions),
// compared with Redis's in both protocols: RESP2 replies must not
// change, RESP3 ones must have Redis's types.

// data3Transcript records replies, each as its shape and its rendering.
type data3Transcript struct {
	t     *testing.T
	lines []string
}

// do runs args on c and records the reply.
func (tr *data3Transcript) do(c *rawConn, args ...string) {
	tr.t.Helper()
	c.send(args...)
	tr.read(c, args...)
}

// read records the reply to args, sent earlier on c.
func (tr *data3Transcript) read(c *rawConn, args ...string) {
	tr.t.Helper()
	v, shape, err := c.readShape()
	if err != nil {
		tr.t.Fatalf("%s: %v", quoteCmd(args), err)
	}
	tr.lines = append(tr.lines, quoteCmd(args)+" -> "+shape+" "+v)
}

// shape runs args on c and records the reply's shape only (a random
// pick).
func (tr *data3Transcript) shape(c *rawConn, args ...string) {
	tr.t.Helper()
	c.send(args...)
	_, shape, err := c.readShape()
	if err != nil {
		tr.t.Fatalf("%s: %v", quoteCmd(args), err)
	}
	tr.lines = append(tr.lines, quoteCmd(args)+" -> "+shape)
}

// data3Scenario runs every case on a server at addr, the main connection
// in RESP3 when resp3 is set (the other one stays in RESP2).
func data3Scenario(t *testing.T, addr string, resp3 bool) []string {
	c, other := dialRaw(t, addr), dialRaw(t, addr)
	if resp3 {
		if got := c.do("HELLO", "3"); !strings.Contains(got, "$proto :3") {
			t.Fatalf("HELLO 3: %s", got)
		}
	}
	c.do("FLUSHALL")
	tr := &data3Transcript{t: t}
	do := func(args ...string) { tr.do(c, args...) }

	// Sorted sets: doubles, and pairs nested in RESP3.
	do("ZADD", "z", "1", "a", "2.5", "b", "inf", "c", "-inf", "d")
	do("ZADD", "z1", "7", "only")
	for _, cmd := range [][]string{
		{"ZSCORE", "z", "c"}, {"ZSCORE", "z", "d"}, {"ZSCORE", "z", "nope"},
		{"ZMSCORE", "z", "a", "nope", "b"}, {"ZMSCORE", "nokey", "a"},
		{"ZINCRBY", "z", "0.5", "a"}, {"ZADD", "z", "INCR", "1", "b"}, {"ZADD", "z", "NX", "INCR", "1", "b"},
		{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"ZRANGE", "z", "(1", "inf", "BYSCORE", "REV", "WITHSCORES", "LIMIT", "0", "2"},
		{"ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"}, {"ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "1", "2"},
		{"ZREVRANGE", "z", "0", "-1", "WITHSCORES"}, {"ZREVRANGE", "z", "0", "1"}, {"ZRANGE", "nokey", "0", "-1", "WITHSCORES"},
		{"ZUNION", "2", "z", "z1", "WITHSCORES"}, {"ZINTER", "2", "z", "z", "WITHSCORES"}, {"ZDIFF", "2", "z", "z1", "WITHSCORES"},
		{"ZINTER", "2", "z", "z1", "WITHSCORES"}, {"ZUNION", "1", "z"},
		{"ZRANDMEMBER", "z1"}, {"ZRANDMEMBER", "z1", "1", "WITHSCORES"}, {"ZRANDMEMBER", "z1", "-3", "WITHSCORES"},
		{"ZRANDMEMBER", "z1", "5", "WITHSCORES"}, {"ZRANDMEMBER", "z1", "0", "WITHSCORES"}, {"ZRANDMEMBER", "nokey", "2", "WITHSCORES"},
		{"ZRANDMEMBER", "nokey"},
		{"ZPOPMIN", "z"}, {"ZPOPMAX", "z", "1"}, {"ZPOPMIN", "z", "0"}, {"ZPOPMIN", "nokey"}, {"ZPOPMIN", "nokey", "2"},
		{"ZADD", "z", "1", "a", "2", "b", "3", "c"},
		{"ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "2"}, {"ZMPOP", "1", "nokey", "MAX"},
		{"BZPOPMIN", "nokey", "z", "0"}, {"BZPOPMAX", "nokey", "0.01"}, {"BZMPOP", "0.01", "1", "nokey", "MIN"},
		{"ZADD", "z", "5", "e", "6", "f"}, {"BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"},
		{"ZSCAN", "z1", "0"},
	} {
		do(cmd...)
	}

	// Hashes: a map, and pairs nested in RESP3.
	do("HSET", "h", "f", "v")
	for _, cmd := range [][]string{
		{"HGETALL", "h"}, {"HGETALL", "nokey"}, {"HKEYS", "h"}, {"HVALS", "nokey"},
		{"HGET", "h", "nope"}, {"HMGET", "h", "f", "nope"}, {"HINCRBYFLOAT", "hf", "n", "1.5"},
		{"HRANDFIELD", "h"}, {"HRANDFIELD", "nokey"}, {"HRANDFIELD", "h", "1", "WITHVALUES"},
		{"HRANDFIELD", "h", "-3", "WITHVALUES"}, {"HRANDFIELD", "h", "-2"}, {"HRANDFIELD", "nokey", "2", "WITHVALUES"},
		{"HRANDFIELD", "h", "0"}, {"HSCAN", "h", "0"},
	} {
		do(cmd...)
	}

	// Sets: sets for the set operations and pops, arrays for random
	// members.
	do("SADD", "s", "a", "b", "c")
	do("SADD", "s1", "x")
	for _, cmd := range [][]string{
		{"SRANDMEMBER", "s1"}, {"SRANDMEMBER", "s1", "1"}, {"SRANDMEMBER", "s1", "5"}, {"SRANDMEMBER", "s1", "-3"},
		{"SRANDMEMBER", "s1", "0"}, {"SRANDMEMBER", "nokey", "2"}, {"SRANDMEMBER", "nokey"},
		{"SMEMBERS", "s1"}, {"SMEMBERS", "nokey"}, {"SINTER", "s", "nokey"}, {"SUNION", "s1", "nokey"}, {"SDIFF", "nokey", "s"},
		{"SMISMEMBER", "s", "a", "z"}, {"SINTERCARD", "1", "s"},
		{"SPOP", "nokey"}, {"SPOP", "nokey", "2"}, {"SPOP", "s1", "0"}, {"SPOP", "s1", "5"},
	} {
		do(cmd...)
	}
	tr.shape(c, "SPOP", "s", "2")
	tr.shape(c, "SPOP", "s")
	tr.shape(c, "SRANDMEMBER", "s", "2")

	// Lists, strings, bits, geo, sort.
	do("RPUSH", "l", "a", "b", "a")
	do("SET", "s1", "ohmytext")
	do("SET", "s2", "mynewtext")
	do("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
	for _, cmd := range [][]string{
		{"LPOP", "nokey"}, {"LPOP", "nokey", "2"}, {"LPOP", "l", "0"}, {"LINDEX", "l", "9"}, {"LPOS", "l", "z"},
		{"LPOS", "l", "a", "COUNT", "0"}, {"LMPOP", "1", "nokey", "LEFT"}, {"LMPOP", "1", "l", "RIGHT", "COUNT", "2"},
		{"BLPOP", "nokey", "0.01"}, {"BRPOP", "nokey", "0.01"}, {"BLMOVE", "nokey", "l", "LEFT", "LEFT", "0.01"},
		{"BRPOPLPUSH", "nokey", "l", "0.01"}, {"BLMPOP", "0.01", "1", "nokey", "LEFT"}, {"BLPOP", "l", "0"},
		{"GET", "nokey"}, {"MGET", "s1", "nokey"}, {"GETDEL", "nokey"}, {"GETEX", "nokey"}, {"SET", "fresh", "v", "GET"},
		{"INCRBYFLOAT", "f", "1.5"}, {"LCS", "s1", "s2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"}, {"LCS", "s1", "s2", "IDX"},
		{"BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5", "GET", "u4", "0"},
		{"GEOPOS", "g", "Palermo", "nope"}, {"GEOPOS", "nokey", "a"}, {"GEODIST", "g", "Palermo", "Catania", "km"},
		{"GEODIST", "g", "Palermo", "nope"}, {"GEOHASH", "g", "Palermo", "nope"},
		{"GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"},
		{"GEORADIUSBYMEMBER_RO", "g", "Palermo", "200", "km", "WITHCOORD", "ASC"},
		{"GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "WITHCOORD", "WITHDIST", "ASC"},
		{"GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "m", "WITHHASH"},
		{"SORT", "l", "BY", "nosort", "GET", "nokey*"},
		{"OBJECT", "ENCODING", "nokey"}, {"DUMP", "nokey"}, {"SELECT", "9"}, {"RANDOMKEY"}, {"SELECT", "0"}, {"TYPE", "g"}, {"SCAN", "0", "MATCH", "nokey"},
	} {
		do(cmd...)
	}

	// Streams: maps for XINFO and for the streams XREAD and XREADGROUP
	// serve; nulls in XPENDING's summary and for a deleted entry.
	for _, cmd := range [][]string{
		{"XADD", "x", "1-0", "a", "1"}, {"XADD", "x", "2-0", "b", "2"}, {"XADD", "x2", "1-0", "c", "3"},
		{"XADD", "nokey", "NOMKSTREAM", "*", "a", "1"},
		{"XREAD", "STREAMS", "x", "x2", "0", "0"}, {"XREAD", "COUNT", "1", "STREAMS", "x", "0"}, {"XREAD", "STREAMS", "x", "$"},
		{"XREAD", "BLOCK", "10", "STREAMS", "x", "$"},
		{"XGROUP", "CREATE", "x", "g", "0"}, {"XGROUP", "CREATE", "x2", "g", "0"},
		{"XPENDING", "x", "g"}, {"XINFO", "GROUPS", "x"}, {"XINFO", "CONSUMERS", "x", "g"},
		{"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "x", "x2", ">", ">"},
		{"XREADGROUP", "GROUP", "g", "c1", "BLOCK", "10", "STREAMS", "x", ">"},
		{"XDEL", "x", "1-0"}, {"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "x", "0"},
		{"XPENDING", "x", "g"}, {"XPENDING", "x", "g", "-", "+", "10", "c9"},
		{"XCLAIM", "x", "g", "c2", "0", "1-0", "2-0"}, {"XCLAIM", "x", "g", "c2", "0", "2-0", "JUSTID"},
		{"XAUTOCLAIM", "x", "g", "c1", "0", "0"}, {"XRANGE", "x", "-", "+"}, {"XREVRANGE", "nokey", "+", "-"},
		{"XINFO", "STREAM", "x"}, {"XINFO", "STREAM", "x2"}, {"XINFO", "HELP"},
	} {
		do(cmd...)
	}
	// XINFO STREAM FULL, XINFO CONSUMERS and XPENDING carry times:
	// shapes only.
	tr.shape(c, "XINFO", "STREAM", "x", "FULL")
	tr.shape(c, "XINFO", "STREAM", "x2", "FULL", "COUNT", "1")
	tr.shape(c, "XINFO", "CONSUMERS", "x", "g")
	tr.shape(c, "XPENDING", "x", "g", "-", "+", "10", "c1")
	do("XTRIM", "x2", "MAXLEN", "0")
	do("XINFO", "STREAM", "x2")

	// Blocked clients: served by another connection, or unblocked.
	served := func(wait, wake []string) {
		t.Helper()
		c.send(wait...)
		other.waitBlocked("1")
		other.do(wake...)
		tr.read(c, wait...)
	}
	served([]string{"BLPOP", "bl", "0"}, []string{"RPUSH", "bl", "x"})
	served([]string{"BLMOVE", "bl", "bl2", "LEFT", "RIGHT", "0"}, []string{"RPUSH", "bl", "y"})
	served([]string{"BLMPOP", "0", "1", "bl", "LEFT", "COUNT", "3"}, []string{"RPUSH", "bl", "y", "z"})
	served([]string{"BZPOPMIN", "bz", "0"}, []string{"ZADD", "bz", "1.5", "m"})
	served([]string{"BZMPOP", "0", "1", "bz", "MIN", "COUNT", "2"}, []string{"ZADD", "bz", "2", "n", "3", "o"})
	served([]string{"XREADGROUP", "GROUP", "g", "c3", "BLOCK", "0", "STREAMS", "x", ">"}, []string{"XADD", "x", "5-0", "f", "v"})
	served([]string{"XREAD", "BLOCK", "0", "STREAMS", "x", "$"}, []string{"XADD", "x", "6-0", "f", "v"})
	id := strings.TrimPrefix(c.do("CLIENT", "ID"), ":")
	for _, wait := range [][]string{{"BLPOP", "nokey", "0"}, {"BZPOPMAX", "nokey", "0"}, {"XREAD", "BLOCK", "0", "STREAMS", "x", "$"}} {
		served(wait, []string{"CLIENT", "UNBLOCK", id})
	}

	// A transaction: blocking commands do not block, replies keep their
	// types.
	for _, cmd := range [][]string{
		{"MULTI"}, {"BLPOP", "nokey", "0"}, {"BZPOPMIN", "nokey", "0"}, {"ZADD", "tz", "1", "a"}, {"ZSCORE", "tz", "a"},
		{"ZRANGE", "tz", "0", "-1", "WITHSCORES"}, {"HGETALL", "h"}, {"SADD", "ts", "a"}, {"SMEMBERS", "ts"}, {"XREAD", "BLOCK", "0", "STREAMS", "x", "$"},
		{"EXEC"},
	} {
		do(cmd...)
	}
	return tr.lines
}

func TestRESP3DataTypesAgainstRedis(t *testing.T) {
	redisAddr := redisServer(t)
	walrusAddr := startServer(t).Addr().String()
	for _, resp3 := range []bool{false, true} {
		got := data3Scenario(t, walrusAddr, resp3)
		want := data3Scenario(t, redisAddr, resp3)
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("resp3=%v, step %d:\nwalrus: %s\nredis:  %s", resp3, i, g, w)
			}
		}
	}
}
