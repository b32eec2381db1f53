package engine

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Hashes.
//
// Encoding: metadata count = number of fields; one element per field,
//
//	elemPrefix(phys, version) + xxhash64(field) + field  ->  value
//
// so HGET/HSET/HDEL/HEXISTS are point operations, HLEN reads the
// metadata, HSCAN's cursor is a hash position (stateless, Redis's SCAN
// guarantee), and DEL/UNLINK/EXPIRE of any size is one range deletion.
// HGETALL/HKEYS/HVALS return fields in hash order.

func init() {
	h := func(name string, arity int, flags Flags, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: "hash", Summary: summary}, run}
	}
	register(
		h("hset", -4, Write|DenyOOM|Fast, "Set the string value of a hash field", cmdHSet),
		h("hmset", -4, Write|DenyOOM|Fast, "Set multiple hash fields to multiple values", cmdHSet),
		h("hsetnx", 4, Write|DenyOOM|Fast, "Set the value of a hash field, only if the field does not exist", cmdHSetNX),
		h("hget", 3, ReadOnly|Fast, "Get the value of a hash field", cmdHGet),
		h("hmget", -3, ReadOnly|Fast, "Get the values of all the given hash fields", cmdHMGet),
		h("hdel", -3, Write|Fast, "Delete one or more hash fields", cmdHDel),
		h("hlen", 2, ReadOnly|Fast, "Get the number of fields in a hash", cmdCollLen(typeHash)),
		h("hstrlen", 3, ReadOnly|Fast, "Get the length of the value of a hash field", cmdHStrlen),
		h("hexists", 3, ReadOnly|Fast, "Determine if a hash field exists", cmdHExists),
		h("hkeys", 2, ReadOnly, "Get all the fields in a hash", cmdHGetAll),
		h("hvals", 2, ReadOnly, "Get all the values in a hash", cmdHGetAll),
		h("hgetall", 2, ReadOnly, "Get all the fields and values in a hash", cmdHGetAll),
		h("hincrby", 4, Write|DenyOOM|Fast, "Increment the integer value of a hash field by the given number", cmdHIncrBy),
		h("hincrbyfloat", 4, Write|DenyOOM|Fast, "Increment the float value of a hash field by the given amount", cmdHIncrByFloat),
		h("hrandfield", -2, ReadOnly, "Get one or multiple random fields from a hash", cmdHRandField),
		h("hscan", -3, ReadOnly, "Incrementally iterate hash fields and associated values", cmdScanColl(typeHash, allElems, func(f, v []byte) [][]byte { return [][]byte{clone(f), clone(v)} })),
	)
}

// hashField reads one field; ok is false when absent.
func (c *ctx) hashField(m *meta, field []byte) ([]byte, bool) {
	return c.get(hashedElem(elemPrefix(nil, c.phys, m.version), field))
}

// HSET key field value [field value ...] / HMSET
func cmdHSet(c *ctx, args [][]byte) {
	if len(args)%2 != 0 {
		c.replyArgsError(strings.ToLower(string(args[0])))
		return
	}
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeHash)
	if wrong {
		return
	}
	if !exists {
		m = c.newColl(typeHash)
	}
	p := elemPrefix(nil, c.phys, m.version)
	var added int64
	for i := 2; i < len(args); i += 2 {
		ek := hashedElem(p, args[i])
		if _, ok := c.get(ek); !ok {
			added++
		}
		c.set(ek, args[i+1])
	}
	m.count += added
	c.saveColl(key, &m, exists)
	c.notify(NotifyHash, "hset", key)
	c.emit(args...)
	if strings.EqualFold(string(args[0]), "hmset") {
		c.replyOK()
		return
	}
	c.replyInt(added)
}

func cmdHSetNX(c *ctx, args [][]byte) {
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeHash)
	if wrong {
		return
	}
	if exists {
		if _, ok := c.hashField(&m, args[2]); ok {
			c.replyInt(0)
			return
		}
	} else {
		m = c.newColl(typeHash)
	}
	c.set(hashedElem(elemPrefix(nil, c.phys, m.version), args[2]), args[3])
	m.count++
	c.saveColl(key, &m, exists)
	c.notify(NotifyHash, "hset", key)
	c.emit(bs("HSET"), key, args[2], args[3])
	c.replyInt(1)
}

func cmdHGet(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	switch {
	case wrong:
	case !ok:
		c.replyNull()
	default:
		if v, ok := c.hashField(&m, args[2]); ok {
			c.replyBulk(v)
		} else {
			c.replyNull()
		}
	}
}

func cmdHMGet(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	if wrong {
		return
	}
	c.replyArray(len(args) - 2)
	for _, f := range args[2:] {
		if !ok {
			c.replyNull()
			continue
		}
		if v, found := c.hashField(&m, f); found {
			c.replyBulk(v)
		} else {
			c.replyNull()
		}
	}
}

func cmdHDel(c *ctx, args [][]byte) {
	key := args[1]
	m, ok, wrong := c.lookupColl(key, typeHash)
	if wrong {
		return
	}
	if !ok {
		c.replyInt(0)
		return
	}
	p := elemPrefix(nil, c.phys, m.version)
	removed := [][]byte{bs("HDEL"), key}
	for _, f := range args[2:] {
		ek := hashedElem(p, f)
		if _, found := c.get(ek); found {
			c.del(ek)
			removed = append(removed, f)
			m.count--
		}
	}
	n := int64(len(removed) - 2)
	if n > 0 {
		c.saveColl(key, &m, true)
		c.notifyColl(NotifyHash, "hdel", key, &m)
		c.emit(removed...)
	}
	c.replyInt(n)
}

func cmdHStrlen(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	switch {
	case wrong:
	case !ok:
		c.replyInt(0)
	default:
		v, _ := c.hashField(&m, args[2])
		c.replyInt(int64(len(v)))
	}
}

func cmdHExists(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	switch {
	case wrong:
	case !ok:
		c.replyInt(0)
	default:
		if _, found := c.hashField(&m, args[2]); found {
			c.replyInt(1)
		} else {
			c.replyInt(0)
		}
	}
}

// forEachHashed calls fn for each element of a hash-ordered collection.
func (c *ctx) forEachHashed(m *meta, fn func(member, value []byte) bool) {
	p := elemPrefix(nil, c.phys, m.version)
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(p):]
		if len(k) < 8 {
			continue
		}
		if !fn(k[8:], it.Value()) {
			return
		}
	}
}

// HKEYS / HVALS / HGETALL: O(N).
func cmdHGetAll(c *ctx, args [][]byte) {
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	if wrong {
		return
	}
	name := strings.ToLower(string(args[0]))
	switch {
	case name == "hgetall" && !ok:
		c.replyMap(0)
		return
	case !ok:
		c.replyArray(0)
		return
	case name == "hgetall": // a map of fields to values
		c.replyMap(int(m.count))
	default:
		c.replyArray(int(m.count))
	}
	c.forEachHashed(&m, func(f, v []byte) bool {
		if name != "hvals" {
			c.replyBulk(f)
		}
		if name != "hkeys" {
			c.replyBulk(v)
		}
		return true
	})
}

// HINCRBY key field increment
func cmdHIncrBy(c *ctx, args [][]byte) {
	incr, err := parseInt(args[3])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeHash)
	if wrong {
		return
	}
	var cur int64
	had := false
	if exists {
		if v, found := c.hashField(&m, args[2]); found {
			had = true
			if cur, err = parseInt(v); err != nil {
				c.replyError("ERR hash value is not an integer")
				return
			}
		}
	} else {
		m = c.newColl(typeHash)
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		c.replyError(errOverflow)
		return
	}
	cur += incr
	c.set(hashedElem(elemPrefix(nil, c.phys, m.version), args[2]), strconv.AppendInt(nil, cur, 10))
	if !had {
		m.count++
	}
	c.saveColl(key, &m, exists)
	c.notify(NotifyHash, "hincrby", key)
	c.emit(args...)
	c.replyInt(cur)
}

// HINCRBYFLOAT key field increment: computed in long double like Redis;
// the effect is an HSET of the result.
func cmdHIncrByFloat(c *ctx, args [][]byte) {
	incr, ok := parseLongDouble(args[3])
	if !ok {
		c.replyError(errNotFloat)
		return
	}
	if incr.IsInf() {
		c.replyError("ERR value is NaN or Infinity")
		return
	}
	key := args[1]
	m, exists, wrong := c.lookupColl(key, typeHash)
	if wrong {
		return
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	had := false
	if exists {
		if v, found := c.hashField(&m, args[2]); found {
			had = true
			if cur, ok = parseLongDouble(v); !ok {
				c.replyError("ERR hash value is not a float")
				return
			}
		}
	} else {
		m = c.newColl(typeHash)
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		c.replyError("ERR increment would produce NaN or Infinity")
		return
	}
	v := []byte(formatLongDouble(sum))
	c.set(hashedElem(elemPrefix(nil, c.phys, m.version), args[2]), v)
	if !had {
		m.count++
	}
	c.saveColl(key, &m, exists)
	c.notify(NotifyHash, "hincrbyfloat", key)
	c.emit(bs("HSET"), key, args[2], v)
	c.replyBulk(v)
}

// randomHashed returns up to n distinct random elements (member, value)
// of a hash-ordered collection.
func (c *ctx) randomHashed(m *meta, n int) [][2][]byte {
	return c.randomUnder(elemPrefix(nil, c.phys, m.version), m.count, n)
}

// randomUnder draws up to n distinct elements from the hash-ordered
// element space under p holding count elements: seeks to random hash
// positions (O(log N) each), or reads everything and shuffles when n is
// a large share of count.
func (c *ctx) randomUnder(p []byte, count int64, n int) [][2][]byte {
	it := c.iter(p, prefixEnd(p))
	defer it.Close()
	if int64(n) > count/4 {
		var all [][2][]byte
		for it.First(); it.Valid(); it.Next() {
			all = append(all, [2][]byte{clone(it.Key()[len(p)+8:]), clone(it.Value())})
		}
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:min(n, len(all))]
	}
	seen := map[string]bool{}
	var out [][2][]byte
	for tries := 0; len(out) < n && tries < 64*n+64; tries++ {
		pos := binary.BigEndian.AppendUint64(append([]byte(nil), p...), rand.Uint64())
		if !it.SeekGE(pos) && !it.First() {
			break
		}
		f := it.Key()[len(p)+8:]
		if seen[string(f)] {
			continue
		}
		seen[string(f)] = true
		out = append(out, [2][]byte{clone(f), clone(it.Value())})
	}
	return out
}

// randomOne returns one random element of a hash-ordered collection.
func (c *ctx) randomOne(m *meta) (member, value []byte) {
	r := c.randomHashed(m, 1)
	if len(r) == 0 {
		return nil, nil
	}
	return r[0][0], r[0][1]
}

// HRANDFIELD key [count [WITHVALUES]]
func cmdHRandField(c *ctx, args [][]byte) {
	if len(args) == 2 {
		m, ok, wrong := c.lookupColl(args[1], typeHash)
		switch {
		case wrong:
		case !ok:
			c.replyNull()
		default:
			f, _ := c.randomOne(&m)
			c.replyBulk(f)
		}
		return
	}
	count, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	withValues := false
	if len(args) == 4 {
		if !strings.EqualFold(string(args[3]), "withvalues") {
			c.replyError(errSyntax)
			return
		}
		withValues = true
	} else if len(args) > 4 {
		c.replyError(errSyntax)
		return
	}
	if count < -math.MaxInt64/2 || (withValues && count < -math.MaxInt64/4) {
		c.replyError("ERR value is out of range")
		return
	}
	m, ok, wrong := c.lookupColl(args[1], typeHash)
	if wrong {
		return
	}
	if !ok || count == 0 {
		c.replyArray(0)
		return
	}
	c.replyRandom(&m, count, withValues)
}

// replyRandom answers HRANDFIELD/SRANDMEMBER with a count: a positive
// count gives distinct elements, a negative one |count| elements that may
// repeat. With values, RESP2 has a flat array and RESP3 [field, value]
// pairs, as Redis.
func (c *ctx) replyRandom(m *meta, count int64, withValues bool) {
	per := 1
	if withValues && !c.resp3 {
		per = 2
	}
	reply := func(e [2][]byte) {
		if withValues && c.resp3 {
			c.replyArray(2)
		}
		c.replyBulk(e[0])
		if withValues {
			c.replyBulk(e[1])
		}
	}
	if count > 0 {
		els := c.randomHashed(m, int(min(count, m.count)))
		c.replyArray(len(els) * per)
		for _, e := range els {
			reply(e)
		}
		return
	}
	n := -count
	// Repeats allowed: draw from a sample of distinct elements.
	pool := c.randomHashed(m, int(min(n, m.count, 1024)))
	c.replyArray(int(n) * per)
	for i := int64(0); i < n; i++ {
		reply(pool[rand.IntN(len(pool))])
	}
}
