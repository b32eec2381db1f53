package server

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Differential tests: the same seeded random command sequence goes to
// walrus and to a real redis-server; every reply must be equal. A failure
// prints the seed and the first differing command.

var diffSeed = flag.Uint64("diff.seed", 0, "seed for differential tests (0: time-based)")
var diffN = flag.Int("diff.n", 0, "commands per family (0: default)")

// gen draws random arguments over a small key space so commands collide.
type gen struct {
	r   *rand.Rand
	now int64 // Unix seconds at the start, for absolute expiry times
}

func (g *gen) key() string {
	return "k" + strconv.Itoa(g.r.IntN(8))
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// mpop builds LMPOP/ZMPOP-style arguments after the command name (and a
// blocking form's timeout): numkeys (now and then wrong), 1-3 keys of
// which k is one, one of ends (or a bad one), and sometimes COUNT.
func (g *gen) mpop(k string, ends ...string) []string {
	keys := []string{k}
	for n := g.r.IntN(3); n > 0; n-- {
		keys = append(keys, g.key())
	}
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	numkeys := strconv.Itoa(len(keys))
	if g.r.IntN(8) == 0 {
		numkeys = g.pick("0", "-1", "x", strconv.Itoa(len(keys)+1), "99999999999999999999")
	}
	c := append(append([]string{numkeys}, keys...), g.pick(append(ends, "UP")...))
	switch g.r.IntN(6) {
	case 0, 1:
		c = append(c, "COUNT", g.pick("1", "2", "10"))
	case 2:
		c = append(c, "COUNT", g.pick("0", "-1", "x", "2"), g.pick("COUNT", "BAD"), "1")
	case 3:
		c = append(c, "COUNT")
	}
	return c
}

// val returns a value that is sometimes an integer, sometimes a float,
// sometimes text or empty.
func (g *gen) val() string {
	switch g.r.IntN(6) {
	case 0:
		return strconv.Itoa(g.r.IntN(200) - 100)
	case 1:
		return g.pick("", "0", "-0", "1.5", "abc", "9223372036854775807", "-9223372036854775808", " 1", "1e3", "inf")
	case 2:
		return strconv.FormatFloat(g.r.Float64()*100-50, 'f', 3, 64)
	default:
		return "v" + strconv.Itoa(g.r.IntN(50))
	}
}

func (g *gen) int(lo, hi int) string { return strconv.Itoa(lo + g.r.IntN(hi-lo+1)) }

// Expiry times are never within the run: a key that expires mid-run is
// alive on one server and gone on the other when a command reaches them
// on either side of its deadline, microseconds apart, and the replies
// differ for no fault of either. So relative times are at most 0 (the
// key goes at once, or the command fails) or a minute and more, and
// absolute ones are in the past or a minute and more ahead.

// ttl is a relative expiry in units per second (1: seconds, 1000: ms).
func (g *gen) ttl(perSecond int) string {
	if g.r.IntN(5) == 0 {
		return g.int(-5, 0)
	}
	return g.int(60*perSecond, 5000*perSecond)
}

// at is an absolute expiry in Unix seconds.
func (g *gen) at() int64 {
	if g.r.IntN(20) == 0 {
		return g.now - 1 - int64(g.r.IntN(100))
	}
	return g.now + 60 + int64(g.r.IntN(2000))
}

// family is a named generator of commands.
type family struct {
	name string
	next func(g *gen) []string
	// unordered lists commands whose array reply order is unspecified.
	unordered map[string]bool
	// normalize, when set, rewrites both replies of a command before they
	// are compared (random picks, unordered pairs, nested arrays).
	normalize func(cmd []string, reply string) string
	// equal, when set, accepts a pair of replies that differ as text (a
	// last-bit difference that Redis's C library makes, say).
	equal func(cmd []string, got, want string) bool
	// shape, when set, rewrites both replies' RESP3 shapes before they
	// are compared, for replies whose elements normalize drops.
	shape func(cmd []string, shape string) string
}

// approx are integer replies that depend on the moment a server ran the
// command (relative expiry): equal within this tolerance.
var approx = map[string]int64{"TTL": 1, "PTTL": 1000, "EXPIRETIME": 1, "PEXPIRETIME": 1000}

func closeInts(a, b string, tol int64) bool {
	if !strings.HasPrefix(a, ":") || !strings.HasPrefix(b, ":") {
		return false
	}
	x, err1 := strconv.ParseInt(a[1:], 10, 64)
	y, err2 := strconv.ParseInt(b[1:], 10, 64)
	if err1 != nil || err2 != nil || (x < 0) != (y < 0) {
		return false
	}
	return x-y <= tol && y-x <= tol
}

var stringFamily = family{
	name: "strings",
	next: func(g *gen) []string {
		k := g.key()
		switch g.r.IntN(24) {
		case 0:
			return []string{"SET", k, g.val()}
		case 1:
			opts := [][]string{{"NX"}, {"XX"}, {"GET"}, {"KEEPTTL"}, {"EX", g.ttl(1)}, {"PX", g.ttl(1000)}, {"EXAT", strconv.FormatInt(g.at(), 10)}, {"NX", "GET"}, {"XX", "EX", "0"}, {"BOGUS"}, {"EX", "abc"}}
			return append([]string{"SET", k, g.val()}, opts[g.r.IntN(len(opts))]...)
		case 2:
			return []string{"GET", k}
		case 3:
			return []string{"SETNX", k, g.val()}
		case 4:
			return []string{"SETEX", k, g.ttl(1), g.val()}
		case 5:
			return []string{"MGET", k, g.key(), g.key()}
		case 6:
			return []string{"MSET", k, g.val(), g.key(), g.val()}
		case 7:
			return []string{"MSETNX", k, g.val(), g.key(), g.val()}
		case 8:
			return []string{"GETSET", k, g.val()}
		case 9:
			return []string{"GETDEL", k}
		case 10:
			return append([]string{"GETEX", k}, [][]string{{}, {"PERSIST"}, {"EX", g.ttl(1)}, {"PXAT", strconv.FormatInt(g.at()*1000, 10)}, {"EX"}}[g.r.IntN(5)]...)
		case 11:
			return []string{"APPEND", k, g.val()}
		case 12:
			return []string{"STRLEN", k}
		case 13:
			return []string{g.pick("INCR", "DECR"), k}
		case 14:
			return []string{g.pick("INCRBY", "DECRBY"), k, g.pick(g.int(-1000, 1000), "abc", "9223372036854775807")}
		case 15:
			return []string{"INCRBYFLOAT", k, g.pick("1.5", "-2", "0.25", "abc", "1e2", "3")}
		case 16:
			return []string{"GETRANGE", k, g.int(-10, 10), g.int(-10, 10)}
		case 17:
			return []string{"SETRANGE", k, g.int(-1, 12), g.val()}
		case 18:
			return []string{"SET", k}
		case 19:
			return []string{"PSETEX", k, g.ttl(1000), g.val()}
		case 20:
			return []string{"SUBSTR", k, g.int(0, 3), g.int(0, 5)}
		case 21, 22:
			c := []string{"LCS", k, g.key()}
			for n := g.r.IntN(4); n > 0; n-- {
				c = append(c, [][]string{{"LEN"}, {"IDX"}, {"WITHMATCHLEN"}, {"MINMATCHLEN", g.int(-1, 3)}, {"MINMATCHLEN", "x"}, {"MINMATCHLEN"}, {"BOGUS"}}[g.r.IntN(7)]...)
			}
			return c
		default:
			return []string{"GET", k, "extra"}
		}
	},
}

var keysFamily = family{
	name:      "keys",
	unordered: map[string]bool{"KEYS": true},
	next: func(g *gen) []string {
		k := g.key()
		at := strconv.FormatInt(g.at(), 10)
		switch g.r.IntN(24) {
		case 0, 1:
			return []string{"SET", k, g.val()}
		case 2:
			return []string{"DEL", k, g.key()}
		case 3:
			return []string{"UNLINK", k}
		case 4:
			return []string{"EXISTS", k, g.key(), k}
		case 5:
			return []string{"TYPE", k}
		case 6:
			return []string{"KEYS", g.pick("*", "k[1-3]", "k?", "x*", "k\\1")}
		case 7:
			return []string{"RENAME", k, g.key()}
		case 8:
			return []string{"RENAMENX", k, g.key()}
		case 9:
			return append([]string{"COPY", k, g.key()}, [][]string{{}, {"REPLACE"}, {"DB", g.int(0, 2)}, {"DB", "99"}}[g.r.IntN(4)]...)
		case 10:
			return []string{"MOVE", k, g.int(0, 2)}
		case 11:
			opts := [][]string{{}, {"NX"}, {"XX"}, {"GT"}, {"LT"}, {"NX", "XX"}, {"GT", "LT"}, {"FOO"}}[g.r.IntN(8)]
			if len(opts) == 1 && (opts[0] == "GT" || opts[0] == "LT") {
				// GT/LT compare with the current expiry: relative times
				// would make the outcome depend on each server's clock.
				return append([]string{"EXPIREAT", k, at}, opts...)
			}
			if g.r.IntN(2) == 0 {
				return append([]string{"EXPIRE", k, g.ttl(1)}, opts...)
			}
			return append([]string{"PEXPIRE", k, g.ttl(1000)}, opts...)
		case 12:
			return []string{"EXPIREAT", k, at}
		case 13:
			return []string{"PEXPIREAT", k, at + "000"}
		case 14:
			return []string{"TTL", k}
		case 15:
			return []string{"EXPIRETIME", k}
		case 16:
			return []string{"PERSIST", k}
		case 17:
			return []string{"DBSIZE"}
		case 18:
			return []string{"SELECT", g.pick("0", "0", "0", "1", "2", "99", "x")}
		case 19:
			return []string{"SWAPDB", g.int(0, 2), g.pick("0", "1", "2", "16", "x")}
		case 20:
			if g.r.IntN(20) == 0 {
				return []string{"FLUSHDB"}
			}
			return []string{"PEXPIRETIME", k}
		case 21:
			return []string{"SCAN", "0", "COUNT", "1000", "MATCH", "zz*"}
		case 22:
			if g.r.IntN(2) == 0 {
				return []string{"TOUCH", k, g.key(), k}
			}
			return []string{"PTTL", "nokey"}
		default:
			return []string{"ECHO", g.val()}
		}
	},
}

// families are the command families compared with Redis; data-type work
// adds its own.
var families = []family{stringFamily, keysFamily}

func TestDifferentialAgainstRedis(t *testing.T) { runFamilies(t, 20000, 1000, false) }

// TestDifferentialRESP3 runs every family with both connections in RESP3
// (HELLO 3): replies must have Redis's RESP3 types as well as its values.
func TestDifferentialRESP3(t *testing.T) { runFamilies(t, 5000, 500, true) }

// runFamilies runs every family against one walrus and one redis-server,
// def commands each (short under -short).
func runFamilies(t *testing.T, def, short int, resp3 bool) {
	redisAddr := redisServer(t)
	seed, n := diffParams(def, short)
	s := startServer(t)
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			runDifferentialProto(t, fam, seed, n, s.Addr().String(), redisAddr, resp3)
		})
	}
}

// diffParams is the seed (-diff.seed, or the clock) and the commands per
// family (-diff.n, or def, short under -short) of a differential test.
func diffParams(def, short int) (uint64, int) {
	seed := *diffSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	n := *diffN
	if n == 0 {
		n = def
		if testing.Short() {
			n = short
		}
	}
	return seed, n
}

func runDifferential(t *testing.T, fam family, seed uint64, n int, walrusAddr, redisAddr string) {
	runDifferentialProto(t, fam, seed, n, walrusAddr, redisAddr, false)
}

// runDifferentialProto is runDifferential with the connections in RESP3
// when resp3 is set: then each reply's shape (its RESP3 types) must be
// Redis's too.
func runDifferentialProto(t *testing.T, fam family, seed uint64, n int, walrusAddr, redisAddr string, resp3 bool) {
	w := dialRaw(t, walrusAddr)
	r := dialRaw(t, redisAddr)
	for _, c := range []*rawConn{w, r} {
		if resp3 {
			if got := c.do("HELLO", "3"); !strings.Contains(got, "$proto :3") {
				t.Fatalf("HELLO 3: %s", got)
			}
		}
		c.do("SELECT", "0")
		c.do("FLUSHALL")
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, 0)), now: time.Now().Unix()}
	for i := 0; i < n; i++ {
		cmd := fam.next(g)
		w.send(cmd...)
		r.send(cmd...)
		got, gotShape, err := w.readShape()
		if err != nil {
			t.Fatalf("walrus: %s: %v", quoteCmd(cmd), err)
		}
		want, wantShape, err := r.readShape()
		if err != nil {
			t.Fatalf("redis: %s: %v", quoteCmd(cmd), err)
		}
		if fam.shape != nil {
			gotShape, wantShape = fam.shape(cmd, gotShape), fam.shape(cmd, wantShape)
		}
		if resp3 && gotShape != wantShape && !strings.HasPrefix(got, "-") {
			t.Fatalf("seed %d (-diff.seed=%d), command %d: %s: RESP3 types differ\nwalrus: %s %s\nredis:  %s %s", seed, seed, i, quoteCmd(cmd), gotShape, got, wantShape, want)
		}
		if fam.unordered[strings.ToUpper(cmd[0])] {
			got, want = sortedReply(got), sortedReply(want)
		}
		if fam.normalize != nil {
			got, want = fam.normalize(cmd, got), fam.normalize(cmd, want)
		}
		if tol, ok := approx[strings.ToUpper(cmd[0])]; ok && closeInts(got, want, tol) {
			continue
		}
		if got != want && (fam.equal == nil || !fam.equal(cmd, got, want)) {
			t.Fatalf("seed %d (-diff.seed=%d), command %d: %s\nwalrus: %s\nredis:  %s", seed, seed, i, quoteCmd(cmd), got, want)
		}
	}
	// The datasets must end equal too.
	for db := 0; db < 3; db++ {
		for _, c := range []*rawConn{w, r} {
			c.do("SELECT", strconv.Itoa(db))
		}
		if got, want := sortedReply(w.do("KEYS", "*")), sortedReply(r.do("KEYS", "*")); got != want {
			t.Fatalf("seed %d: db %d keys differ at the end\nwalrus: %s\nredis:  %s", seed, db, got, want)
		}
	}
}

// sortedReply sorts the elements of a flat array reply.
func sortedReply(s string) string {
	if !strings.HasPrefix(s, "[") || strings.Contains(s[1:], "[") {
		return s
	}
	parts := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func quoteCmd(cmd []string) string {
	q := make([]string, len(cmd))
	for i, a := range cmd {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, " ")
}
