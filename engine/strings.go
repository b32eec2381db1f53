package engine

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
)

// maxStringSize is Redis's proto-max-bulk-len default: the largest string.
const maxStringSize = 512 << 20

func init() {
	register(
		&Command{Spec{Name: "get", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get the value of a key"}, cmdGet},
		&Command{Spec{Name: "set", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Set the string value of a key"}, cmdSet},
		&Command{Spec{Name: "setnx", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Set the value of a key, only if the key does not exist"}, cmdSetNX},
		&Command{Spec{Name: "setex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Set the value and expiration of a key"}, cmdSetEX},
		&Command{Spec{Name: "psetex", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Set the value and expiration in milliseconds of a key"}, cmdSetEX},
		&Command{Spec{Name: "mget", Arity: -2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: -1, Step: 1, Group: "string", Summary: "Get the values of all the given keys"}, cmdMGet},
		&Command{Spec{Name: "mset", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Group: "string", Summary: "Set multiple keys to multiple values"}, cmdMSet},
		&Command{Spec{Name: "msetnx", Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: -1, Step: 2, Group: "string", Summary: "Set multiple keys to multiple values, only if none of the keys exist"}, cmdMSet},
		&Command{Spec{Name: "getset", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Set the string value of a key and return its old value"}, cmdGetSet},
		&Command{Spec{Name: "getdel", Arity: 2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get the value of a key and delete the key"}, cmdGetDel},
		&Command{Spec{Name: "getex", Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get the value of a key and optionally set its expiration"}, cmdGetEx},
		&Command{Spec{Name: "append", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Append a value to a key"}, cmdAppend},
		&Command{Spec{Name: "strlen", Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get the length of the value stored in a key"}, cmdStrlen},
		&Command{Spec{Name: "incr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Increment the integer value of a key by one"}, cmdIncr},
		&Command{Spec{Name: "decr", Arity: 2, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Decrement the integer value of a key by one"}, cmdIncr},
		&Command{Spec{Name: "incrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Increment the integer value of a key by the given amount"}, cmdIncr},
		&Command{Spec{Name: "decrby", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Decrement the integer value of a key by the given number"}, cmdIncr},
		&Command{Spec{Name: "incrbyfloat", Arity: 3, Flags: Write | DenyOOM | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Increment the float value of a key by the given amount"}, cmdIncrByFloat},
		&Command{Spec{Name: "lcs", Arity: -3, Flags: ReadOnly, FirstKey: 1, LastKey: 2, Step: 1, Group: "string", Summary: "Find longest common substring"}, cmdLCS},
		&Command{Spec{Name: "getrange", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get a substring of the string stored at a key"}, cmdGetRange},
		&Command{Spec{Name: "substr", Arity: 4, Flags: ReadOnly, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Get a substring of the string stored at a key"}, cmdGetRange},
		&Command{Spec{Name: "setrange", Arity: 4, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "string", Summary: "Overwrite part of a string at key starting at the specified offset"}, cmdSetRange},
	)
}

// lookupString returns key's string value; wrong is true (and the
// WRONGTYPE reply written) when key holds another type.
func (c *ctx) lookupString(key []byte) (m meta, ok, wrong bool) {
	m, ok = c.lookup(key)
	if ok && m.typ != typeString {
		c.replyWrongType()
		return m, ok, true
	}
	return m, ok, false
}

// setString stores a string value with an absolute expiry (0: none).
func (c *ctx) setString(key []byte, old *meta, value []byte, expireAt int64) {
	m := meta{typ: typeString, expireAt: expireAt, value: value}
	c.putMeta(key, old, &m)
}

func cmdGet(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupString(args[1])
	switch {
	case wrong:
	case !ok:
		c.replyNull()
	default:
		c.replyBulk(m.value)
	}
}

// expireArg parses a relative or absolute expiry option into absolute
// Unix milliseconds; unit is "ex", "px", "exat" or "pxat".
func (c *ctx) expireArg(unit string, arg []byte, cmd string) (int64, bool) {
	n, err := parseInt(arg)
	if err != nil {
		c.replyError(errNotInt)
		return 0, false
	}
	if n <= 0 {
		c.replyError("ERR invalid expire time in '" + cmd + "' command")
		return 0, false
	}
	var at int64
	switch unit {
	case "ex":
		if n > math.MaxInt64/1000-c.now/1000 {
			c.replyError("ERR invalid expire time in '" + cmd + "' command")
			return 0, false
		}
		at = c.now + n*1000
	case "px":
		if n > math.MaxInt64-c.now {
			c.replyError("ERR invalid expire time in '" + cmd + "' command")
			return 0, false
		}
		at = c.now + n
	case "exat":
		if n > math.MaxInt64/1000 {
			c.replyError("ERR invalid expire time in '" + cmd + "' command")
			return 0, false
		}
		at = n * 1000
	case "pxat":
		at = n
	}
	return at, true
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts|KEEPTTL]
func cmdSet(c *ctx, args [][]byte) {
	key, value := args[1], args[2]
	var nx, xx, get, keepTTL bool
	unit, expArg, prev := "", []byte(nil), ""
	for i := 3; i < len(args); i++ {
		switch opt := strings.ToLower(string(args[i])); opt {
		case "nx":
			if xx {
				c.replyError(errSyntax)
				return
			}
			nx = true
		case "xx":
			if nx {
				c.replyError(errSyntax)
				return
			}
			xx = true
		case "get":
			get = true
		case "keepttl":
			if unit != "" {
				c.replyError(errSyntax)
				return
			}
			keepTTL = true
		case "ex", "px", "exat", "pxat":
			if unit != "" || keepTTL || i+1 >= len(args) {
				c.replyError(errSyntax)
				return
			}
			unit, expArg = opt, args[i+1]
			i++
		case prevOption:
			// Only in the log (see prevHint); a client's SET has no such option.
			if !c.raw || prev != "" || i+1 >= len(args) {
				c.replyError(errSyntax)
				return
			}
			prev = strings.ToLower(string(args[i+1]))
			if prev != prevNone && prev != prevString {
				c.replyError(errSyntax)
				return
			}
			i++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	var expireAt int64
	if unit != "" {
		at, ok := c.expireArg(unit, expArg, "set")
		if !ok {
			return
		}
		expireAt = at
	}
	var old meta
	var exists bool
	switch prev {
	case prevNone:
	case prevString:
		old, exists = meta{typ: typeString}, true
	default:
		c.readLookup = get // SET ... GET reads the key first, as Redis's GET
		old, exists = c.lookup(key)
		c.readLookup = false
	}
	if get && exists && old.typ != typeString {
		c.replyWrongType()
		return
	}
	reply := func() {
		switch {
		case get && exists:
			c.replyBulk(old.value)
		case get:
			c.replyNull()
		default:
			c.replyOK()
		}
	}
	if (nx && exists) || (xx && !exists) {
		if get {
			reply()
		} else {
			c.replyNull()
		}
		return
	}
	var oldp *meta
	if exists {
		oldp = &old
	}
	if keepTTL && exists {
		expireAt = old.expireAt
	}
	if expireAt != 0 && expireAt <= c.now && !c.raw {
		// Already expired: the key is gone. Redis sets it and lets it
		// expire, so its events are new (for a key that was not there),
		// set, expire and expired.
		if exists {
			c.deleteKey(key, oldp)
			c.emit(bs("DEL"), key)
		} else {
			c.notify(NotifyNew, "new", key)
		}
		c.notify(NotifyString, "set", key)
		c.notify(NotifyGeneric, "expire", key)
		c.notify(NotifyExpired, "expired", key)
		reply()
		return
	}
	c.setString(key, oldp, value, expireAt)
	c.notify(NotifyString, "set", key)
	if expireAt != 0 && !keepTTL {
		c.notify(NotifyGeneric, "expire", key)
	}
	effect := append(make([][]byte, 0, 7), bs("SET"), key, value)
	switch {
	case expireAt != 0 && !keepTTL:
		effect = append(effect, bs("PXAT"), strconv.AppendInt(nil, expireAt, 10))
	case keepTTL:
		effect = append(effect, bs("KEEPTTL"))
	}
	c.emit(prevHint(effect, oldp)...)
	reply()
}

// A SET in the log may end in PREV none or PREV string: what the key held
// before, as the master found it, when that is all the replay needs to
// know. A replica or a recovery then applies the SET without reading the
// key, a read that misses every cache on a replica that has just
// installed a checkpoint (the key count, the old TTL's index entry and a
// collection's elements are what the read is for).
const (
	prevOption = "prev"
	prevNone   = "none"   // no key
	prevString = "string" // a string without a TTL
)

// prevHint appends PREV to a SET effect when old (nil: no key) is one of
// the states it can name.
func prevHint(effect [][]byte, old *meta) [][]byte {
	switch {
	case old == nil:
		return append(effect, bs("PREV"), bs(prevNone))
	case old.typ == typeString && old.expireAt == 0:
		return append(effect, bs("PREV"), bs(prevString))
	}
	return effect
}

func cmdSetNX(c *ctx, args [][]byte) {
	if _, exists := c.lookup(args[1]); exists {
		c.replyInt(0)
		return
	}
	c.setString(args[1], nil, args[2], 0)
	c.notify(NotifyString, "set", args[1])
	c.emit(prevHint([][]byte{bs("SET"), args[1], args[2]}, nil)...)
	c.replyInt(1)
}

// SETEX key seconds value / PSETEX key milliseconds value
func cmdSetEX(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	unit := "ex"
	if name == "psetex" {
		unit = "px"
	}
	at, ok := c.expireArg(unit, args[2], name)
	if !ok {
		return
	}
	cmdSet(c, [][]byte{bs("SET"), args[1], args[3], bs("PXAT"), strconv.AppendInt(nil, at, 10)})
}

func cmdMGet(c *ctx, args [][]byte) {
	c.replyArray(len(args) - 1)
	for _, k := range args[1:] {
		if m, ok := c.lookup(k); ok && m.typ == typeString {
			c.replyBulk(m.value)
		} else {
			c.replyNull()
		}
	}
}

// MSET / MSETNX key value [key value ...]
func cmdMSet(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	if len(args)%2 != 1 {
		c.replyArgsError(name)
		return
	}
	if name == "msetnx" {
		for i := 1; i < len(args); i += 2 {
			if _, exists := c.lookup(args[i]); exists {
				c.replyInt(0)
				return
			}
		}
	}
	for i := 1; i < len(args); i += 2 {
		old, exists := c.lookup(args[i])
		var oldp *meta
		if exists {
			oldp = &old
		}
		c.setString(args[i], oldp, args[i+1], 0)
		c.notify(NotifyString, "set", args[i])
	}
	effect := append([][]byte{bs("MSET")}, args[1:]...)
	c.emit(effect...)
	if name == "msetnx" {
		c.replyInt(1)
	} else {
		c.replyOK()
	}
}

func cmdGetSet(c *ctx, args [][]byte) {
	cmdSet(c, [][]byte{bs("SET"), args[1], args[2], bs("GET")})
}

func cmdGetDel(c *ctx, args [][]byte) {
	var m meta
	var ok, wrong bool
	c.reading(func() { m, ok, wrong = c.lookupString(args[1]) })
	switch {
	case wrong:
	case !ok:
		c.replyNull()
	default:
		c.deleteKey(args[1], &m)
		c.emit(bs("DEL"), args[1])
		c.notify(NotifyGeneric, "del", args[1])
		c.replyBulk(m.value)
	}
}

// GETEX key [EX s|PX ms|EXAT ts|PXAT ts|PERSIST]
func cmdGetEx(c *ctx, args [][]byte) {
	unit, persist := "", false
	var expArg []byte
	for i := 2; i < len(args); i++ {
		switch opt := strings.ToLower(string(args[i])); opt {
		case "persist":
			if unit != "" || persist {
				c.replyError(errSyntax)
				return
			}
			persist = true
		case "ex", "px", "exat", "pxat":
			if unit != "" || persist || i+1 >= len(args) {
				c.replyError(errSyntax)
				return
			}
			unit, expArg = opt, args[i+1]
			i++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	// Like Redis, a missing key is nil and a wrong type WRONGTYPE before
	// the expire time is looked at.
	var m meta
	var ok, wrong bool
	c.reading(func() { m, ok, wrong = c.lookupString(args[1]) })
	if wrong {
		return
	}
	if !ok {
		c.replyNull()
		return
	}
	var at int64
	if unit != "" {
		if at, ok = c.expireArg(unit, expArg, "getex"); !ok {
			return
		}
	}
	c.replyBulk(m.value)
	switch {
	case unit != "" && at <= c.now:
		c.deleteKey(args[1], &m)
		c.emit(bs("DEL"), args[1])
		c.notify(NotifyGeneric, "del", args[1])
	case unit != "":
		c.setExpire(args[1], &m, at)
		c.emit(bs("PEXPIREAT"), args[1], strconv.AppendInt(nil, at, 10))
		c.notify(NotifyGeneric, "expire", args[1])
	case persist && m.expireAt != 0:
		c.setExpire(args[1], &m, 0)
		c.emit(bs("PERSIST"), args[1])
		c.notify(NotifyGeneric, "persist", args[1])
	}
}

// setExpire changes key's expiry, keeping its value.
func (c *ctx) setExpire(key []byte, m *meta, at int64) {
	nm := *m
	nm.expireAt = at
	c.putMeta(key, m, &nm)
}

func cmdAppend(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	if len(m.value)+len(args[2]) > maxStringSize {
		c.replyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return
	}
	var oldp *meta
	if ok {
		oldp = &m
	}
	v := append(append([]byte(nil), m.value...), args[2]...)
	c.setString(args[1], oldp, v, m.expireAt)
	c.notify(NotifyString, "append", args[1])
	c.emit(args...)
	c.replyInt(int64(len(v)))
}

func cmdStrlen(c *ctx, args [][]byte) {
	m, _, wrong := c.lookupString(args[1])
	if !wrong {
		c.replyInt(int64(len(m.value)))
	}
}

// INCR / DECR / INCRBY / DECRBY
func cmdIncr(c *ctx, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	delta := int64(1)
	if len(args) == 3 {
		d, err := parseInt(args[2])
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		delta = d
	}
	if name == "decr" || name == "decrby" {
		if delta == math.MinInt64 {
			c.replyError("ERR decrement would overflow")
			return
		}
		delta = -delta
	}
	m, ok, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	var cur int64
	if ok {
		n, err := parseInt(m.value)
		if err != nil {
			c.replyError(errNotInt)
			return
		}
		cur = n
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		c.replyError(errOverflow)
		return
	}
	cur += delta
	var oldp *meta
	if ok {
		oldp = &m
	}
	v := strconv.AppendInt(nil, cur, 10)
	c.setString(args[1], oldp, v, m.expireAt)
	c.notify(NotifyString, "incrby", args[1])
	c.emit(args...)
	c.replyInt(cur)
}

func cmdIncrByFloat(c *ctx, args [][]byte) {
	incr, ok := parseLongDouble(args[2])
	if !ok {
		c.replyError(errNotFloat)
		return
	}
	m, exists, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	if exists {
		if cur, ok = parseLongDouble(m.value); !ok {
			c.replyError(errNotFloat)
			return
		}
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		c.replyError("ERR increment would produce NaN or Infinity")
		return
	}
	var oldp *meta
	if exists {
		oldp = &m
	}
	v := []byte(formatLongDouble(sum))
	c.setString(args[1], oldp, v, m.expireAt)
	c.notify(NotifyString, "incrbyfloat", args[1])
	c.emit(bs("SET"), args[1], v, bs("KEEPTTL"))
	c.replyBulk(v)
}

// clampRange turns Redis's inclusive, possibly negative [start, end] over
// n elements into a half-open range, as LRANGE and ZRANGE do; ok is false
// when the range is empty.
func clampRange(start, end, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= n {
		return 0, 0, false
	}
	if end >= n {
		end = n - 1
	}
	return start, end + 1, true
}

func cmdGetRange(c *ctx, args [][]byte) {
	start, err1 := parseInt(args[2])
	end, err2 := parseInt(args[3])
	if err1 != nil || err2 != nil {
		c.replyError(errNotInt)
		return
	}
	m, _, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	// Redis's getrange arithmetic (it differs from LRANGE's).
	n := int64(len(m.value))
	if start < 0 && end < 0 && start > end {
		c.replyBulk(nil)
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	end = min(end, n-1)
	if start > end || n == 0 {
		c.replyBulk(nil)
		return
	}
	c.replyBulk(m.value[start : end+1])
}

func cmdSetRange(c *ctx, args [][]byte) {
	off, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if off < 0 {
		c.replyError("ERR offset is out of range")
		return
	}
	m, ok, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	val := args[3]
	if len(val) == 0 {
		c.replyInt(int64(len(m.value)))
		return
	}
	if off+int64(len(val)) > maxStringSize {
		c.replyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
		return
	}
	v := append([]byte(nil), m.value...)
	if need := int(off) + len(val); need > len(v) {
		v = append(v, make([]byte, need-len(v))...)
	}
	copy(v[off:], val)
	var oldp *meta
	if ok {
		oldp = &m
	}
	c.setString(args[1], oldp, v, m.expireAt)
	c.notify(NotifyString, "setrange", args[1])
	c.emit(args...)
	c.replyInt(int64(len(v)))
}

// lcsLarge serializes the LCS tables over 16 MB.
var lcsLarge sync.Mutex

// cmdLCS is Redis 7.0's LCS: the longest common subsequence of two
// strings by the textbook dynamic programme, its length (LEN), or the
// matching ranges from the end backwards (IDX), as Redis walks them.
func cmdLCS(c *ctx, args [][]byte) {
	ma, okA := c.lookup(args[1])
	mb, okB := c.lookup(args[2])
	if okA && ma.typ != typeString || okB && mb.typ != typeString {
		c.replyError("ERR The specified keys must contain string values")
		return
	}
	a, b := ma.value, mb.value
	var getLen, getIdx, withMatchLen bool
	var minMatchLen int64
	for i := 3; i < len(args); i++ {
		switch opt := strings.ToUpper(string(args[i])); {
		case opt == "IDX":
			getIdx = true
		case opt == "LEN":
			getLen = true
		case opt == "WITHMATCHLEN":
			withMatchLen = true
		case opt == "MINMATCHLEN" && i+1 < len(args):
			n, err := parseInt(args[i+1])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			minMatchLen = max(n, 0)
			i++
		default:
			c.replyError(errSyntax)
			return
		}
	}
	if getLen && getIdx {
		c.replyError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	// The table takes four bytes for each pair of prefixes; Redis bounds
	// it by proto-max-bulk-len.
	if (uint64(len(a))+1)*(uint64(len(b))+1)*4 > maxStringSize {
		c.replyError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	// Reads run side by side here (Redis runs one command at a time), so
	// tables past 16 MB are built one at a time: many clients asking for
	// large ones at once cannot make the server hold many of them.
	if (uint64(len(a))+1)*(uint64(len(b))+1)*4 > 16<<20 {
		lcsLarge.Lock()
		defer lcsLarge.Unlock()
	}
	// lcs[i*w+j] is the length of the LCS of a[:i] and b[:j].
	w := len(b) + 1
	lcs := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				lcs[i*w+j] = lcs[(i-1)*w+j-1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i-1)*w+j], lcs[i*w+j-1])
			}
		}
	}
	total := lcs[len(a)*w+len(b)]
	if getLen {
		c.replyInt(int64(total))
		return
	}
	// Walk back from the end, collecting the string and the ranges of
	// contiguous matches in both strings.
	result := make([]byte, total)
	idx := total
	type span struct{ aStart, aEnd, bStart, bEnd int }
	var matches []span
	cur, open := span{}, false
	for i, j := len(a), len(b); i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			switch {
			case !open:
				cur, open = span{i - 1, i - 1, j - 1, j - 1}, true
			case cur.aStart == i && cur.bStart == j:
				cur.aStart--
				cur.bStart--
			default:
				emit = true
			}
			if cur.aStart == 0 || cur.bStart == 0 {
				emit = true
			}
			idx, i, j = idx-1, i-1, j-1
		} else {
			if lcs[(i-1)*w+j] > lcs[i*w+j-1] {
				i--
			} else {
				j--
			}
			emit = open
		}
		if emit {
			if n := int64(cur.aEnd - cur.aStart + 1); minMatchLen == 0 || n >= minMatchLen {
				matches = append(matches, cur)
			}
			open = false
		}
	}
	if !getIdx {
		c.replyBulk(result)
		return
	}
	c.replyMap(2) // matches, len
	c.replyBulkString("matches")
	c.replyArray(len(matches))
	for _, m := range matches {
		if withMatchLen {
			c.replyArray(3)
		} else {
			c.replyArray(2)
		}
		c.replyArray(2)
		c.replyInt(int64(m.aStart))
		c.replyInt(int64(m.aEnd))
		c.replyArray(2)
		c.replyInt(int64(m.bStart))
		c.replyInt(int64(m.bEnd))
		if withMatchLen {
			c.replyInt(int64(m.aEnd - m.aStart + 1))
		}
	}
	c.replyBulkString("len")
	c.replyInt(int64(total))
}
