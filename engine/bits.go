package engine

import (
	"math"
	"math/bits"
	"strings"
)

// Bitmaps: GETBIT, SETBIT, BITCOUNT, BITPOS and BITOP on string values,
// as Redis 7.0 has them. Bit 0 is the most significant bit of the first
// byte. A SETBIT past the end grows the string with zero bytes. BITOP
// writes its result as a plain SET (or a DEL when every source is empty),
// so a replica replays the result, not the operation over keys whose
// expiry it does not evaluate.

func init() {
	bit := func(name string, arity int, flags Flags, first, last int, summary string, run func(*ctx, [][]byte)) *Command {
		return &Command{Spec{Name: name, Arity: arity, Flags: flags, FirstKey: first, LastKey: last, Step: 1, Group: "bitmap", Summary: summary}, run}
	}
	register(
		bit("getbit", 3, ReadOnly|Fast, 1, 1, "Returns the bit value at offset in the string value stored at key", cmdGetBit),
		bit("setbit", 4, Write|DenyOOM, 1, 1, "Sets or clears the bit at offset in the string value stored at key", cmdSetBit),
		bit("bitcount", -2, ReadOnly, 1, 1, "Count set bits in a string", cmdBitCount),
		bit("bitpos", -3, ReadOnly, 1, 1, "Find first bit set or clear in a string", cmdBitPos),
		bit("bitop", -4, Write|DenyOOM, 2, -1, "Perform bitwise operations between strings", cmdBitOp),
		bit("bitfield", -2, Write|DenyOOM, 1, 1, "Perform arbitrary bitfield integer operations on strings", cmdBitField),
		bit("bitfield_ro", -2, ReadOnly|Fast, 1, 1, "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", cmdBitField),
	)
}

const (
	errBitOffset = "ERR bit offset is not an integer or out of range"
	errBitValue  = "ERR bit is not an integer or out of range"
)

// bitOffset parses a bit offset: 0 up to the last bit of the largest
// string.
func bitOffset(arg []byte) (int64, bool) {
	n, err := parseInt(arg)
	if err != nil || n < 0 || n >= maxStringSize*8 {
		return 0, false
	}
	return n, true
}

func cmdGetBit(c *ctx, args [][]byte) {
	off, ok := bitOffset(args[2])
	if !ok {
		c.replyError(errBitOffset)
		return
	}
	m, _, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	c.replyInt(int64(bitAt(m.value, off)))
}

func bitAt(v []byte, i int64) byte {
	if i>>3 >= int64(len(v)) {
		return 0
	}
	return v[i>>3] >> (7 - i&7) & 1
}

func cmdSetBit(c *ctx, args [][]byte) {
	off, ok := bitOffset(args[2])
	if !ok {
		c.replyError(errBitOffset)
		return
	}
	on, err := parseInt(args[3])
	if err != nil || on&^1 != 0 {
		c.replyError(errBitValue)
		return
	}
	m, exists, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	v := append([]byte(nil), m.value...)
	grew := false
	if need := int(off>>3) + 1; need > len(v) {
		v = append(v, make([]byte, need-len(v))...)
		grew = true
	}
	old := bitAt(v, off)
	if exists && !grew && int64(old) == on {
		c.replyInt(int64(old)) // nothing changes: nothing is written, as in Redis
		return
	}
	mask := byte(1) << (7 - off&7)
	if on == 1 {
		v[off>>3] |= mask
	} else {
		v[off>>3] &^= mask
	}
	var oldp *meta
	if exists {
		oldp = &m
	}
	c.setString(args[1], oldp, v, m.expireAt)
	c.notify(NotifyString, "setbit", args[1])
	c.emit(args...)
	c.replyInt(int64(old))
}

// bitRange turns BITCOUNT's and BITPOS's start and end (bytes, or bits
// with isBit) into an inclusive range of bits of a string of n bytes, as
// Redis converts them: negative counts from the end, both clamped to the
// string. empty reports start past end.
func bitRange(start, end int64, isBit bool, n int64) (lo, hi int64, empty bool) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	end = min(end, total-1)
	if start > end {
		return 0, 0, true
	}
	if isBit {
		return start, end, false
	}
	return start << 3, end<<3 + 7, false
}

// unitArg parses BITCOUNT's and BITPOS's BYTE|BIT.
func unitArg(arg []byte) (isBit, ok bool) {
	switch strings.ToLower(string(arg)) {
	case "bit":
		return true, true
	case "byte":
		return false, true
	}
	return false, false
}

// BITCOUNT key [start end [BYTE|BIT]]. As in Redis, a missing key
// counts 0 before the arguments are looked at.
func cmdBitCount(c *ctx, args [][]byte) {
	m, exists, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	if !exists {
		c.replyInt(0)
		return
	}
	start, end := int64(0), int64(-1)
	isBit := false
	switch len(args) {
	case 2:
	case 4, 5:
		var err1, err2 error
		start, err1 = parseInt(args[2])
		end, err2 = parseInt(args[3])
		if err1 != nil || err2 != nil {
			c.replyError(errNotInt)
			return
		}
		if start < 0 && end < 0 && start > end { // before BYTE|BIT, as in Redis
			c.replyInt(0)
			return
		}
		if len(args) == 5 {
			var ok bool
			if isBit, ok = unitArg(args[4]); !ok {
				c.replyError(errSyntax)
				return
			}
		}
	default:
		c.replyError(errSyntax)
		return
	}
	lo, hi, empty := bitRange(start, end, isBit, int64(len(m.value)))
	if empty {
		c.replyInt(0)
		return
	}
	var n int64
	for i := lo; i <= hi; {
		if i&7 == 0 && i+7 <= hi {
			n += int64(bits.OnesCount8(m.value[i>>3]))
			i += 8
			continue
		}
		n += int64(bitAt(m.value, i))
		i++
	}
	c.replyInt(n)
}

// BITPOS key bit [start [end [BYTE|BIT]]]
func cmdBitPos(c *ctx, args [][]byte) {
	bit, err := parseInt(args[2])
	if err != nil {
		c.replyError(errNotInt)
		return
	}
	if bit != 0 && bit != 1 {
		c.replyError("ERR The bit argument must be 1 or 0.")
		return
	}
	m, exists, wrong := c.lookupString(args[1])
	if wrong {
		return
	}
	if !exists { // an endless run of clear bits
		if bit == 1 {
			c.replyInt(-1)
		} else {
			c.replyInt(0)
		}
		return
	}
	n := int64(len(m.value))
	start, end := int64(0), n-1
	isBit, endGiven := false, false
	switch len(args) {
	case 3:
	case 4, 5, 6:
		if start, err = parseInt(args[3]); err != nil {
			c.replyError(errNotInt)
			return
		}
		if len(args) == 6 {
			var ok bool
			if isBit, ok = unitArg(args[5]); !ok {
				c.replyError(errSyntax)
				return
			}
		}
		if len(args) >= 5 {
			if end, err = parseInt(args[4]); err != nil {
				c.replyError(errNotInt)
				return
			}
			endGiven = true
		}
	default:
		c.replyError(errSyntax)
		return
	}
	lo, hi, empty := bitRange(start, end, isBit, n)
	if empty {
		c.replyInt(-1)
		return
	}
	skip := byte(0xff) // a whole byte with no bit sought
	if bit == 1 {
		skip = 0
	}
	for i := lo; i <= hi; {
		if i&7 == 0 && i+7 <= hi && m.value[i>>3] == skip {
			i += 8
			continue
		}
		if int64(bitAt(m.value, i)) == bit {
			c.replyInt(i)
			return
		}
		i++
	}
	if bit == 1 || endGiven {
		c.replyInt(-1)
		return
	}
	// Looking for a clear bit with no end given: the string goes on as
	// zeros past the range.
	c.replyInt(hi + 1)
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
func cmdBitOp(c *ctx, args [][]byte) {
	op := strings.ToLower(string(args[1]))
	switch op {
	case "and", "or", "xor", "not":
	default:
		c.replyError(errSyntax)
		return
	}
	if op == "not" && len(args) != 4 {
		c.replyError("ERR BITOP NOT must be called with a single source key.")
		return
	}
	srcs := make([][]byte, 0, len(args)-3)
	maxLen := 0
	for _, k := range args[3:] {
		var m meta
		var wrong bool
		c.reading(func() { m, _, wrong = c.lookupString(k) })
		if wrong {
			return
		}
		srcs = append(srcs, m.value)
		maxLen = max(maxLen, len(m.value))
	}
	dest := args[2]
	var old meta
	var had bool
	c.writing(func() { old, had = c.lookup(dest) })
	if maxLen == 0 {
		if had {
			c.deleteKey(dest, &old)
			c.emit(bs("DEL"), dest)
			c.notify(NotifyGeneric, "del", dest)
		}
		c.replyInt(0)
		return
	}
	res := make([]byte, maxLen)
	byteAt := func(v []byte, j int) byte {
		if j < len(v) {
			return v[j]
		}
		return 0
	}
	for j := range res {
		out := byteAt(srcs[0], j)
		if op == "not" {
			out = ^out
		}
		for _, v := range srcs[1:] {
			switch b := byteAt(v, j); op {
			case "and":
				out &= b
			case "or":
				out |= b
			case "xor":
				out ^= b
			}
		}
		res[j] = out
	}
	var oldp *meta
	if had {
		oldp = &old
	}
	c.setString(dest, oldp, res, 0)
	c.notify(NotifyString, "set", dest)
	c.emit(bs("SET"), dest, res)
	c.replyInt(int64(maxLen))
}

// BITFIELD key [GET type offset] [SET type offset value]
// [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ..., and
// BITFIELD_RO key [GET type offset] ..., as Redis's bitfieldGeneric:
// every operation is parsed (and refused) before any runs, a write grows
// the string to its highest bit first, GET reads past the end as zeros,
// SET replies the old value and INCRBY the new one, and an overflow under
// FAIL replies a null and writes nothing.
func cmdBitField(c *ctx, args [][]byte) {
	type op struct {
		name     string // get, set, incrby
		signed   bool
		bits     int
		offset   int64
		value    int64
		overflow string // wrap, sat, fail
	}
	var ops []op
	overflow, writes, highest := "wrap", false, int64(-1)
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		name := strings.ToLower(string(args[j]))
		switch {
		case name == "get" && rem >= 2, (name == "set" || name == "incrby") && rem >= 3:
		case name == "overflow" && rem >= 1:
			j++
			switch o := strings.ToLower(string(args[j])); o {
			case "wrap", "sat", "fail":
				overflow = o
			default:
				c.replyError("ERR Invalid OVERFLOW type specified")
				return
			}
			continue
		default:
			c.replyError(errSyntax)
			return
		}
		o := op{name: name, overflow: overflow}
		var ok bool
		if o.signed, o.bits, ok = bitfieldType(args[j+1]); !ok {
			c.replyError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
			return
		}
		if o.offset, ok = bitfieldOffset(args[j+2], o.bits); !ok {
			c.replyError(errBitOffset)
			return
		}
		if name != "get" {
			writes = true
			highest = max(highest, o.offset+int64(o.bits)-1)
			v, err := parseInt(args[j+3])
			if err != nil {
				c.replyError(errNotInt)
				return
			}
			o.value = v
			j++
		}
		j += 2
		ops = append(ops, o)
	}
	if writes && strings.EqualFold(string(args[0]), "bitfield_ro") {
		c.replyError("ERR BITFIELD_RO only supports the GET subcommand") // before the key's type, as in Redis
		return
	}
	var m meta
	var exists, wrong bool
	lookup := func() { m, exists, wrong = c.lookupString(args[1]) }
	if writes {
		lookup()
	} else {
		c.reading(lookup) // GETs only: Redis reads the key (lookupKeyRead)
	}
	if wrong {
		return
	}
	v := m.value // lookup's copy
	// As Redis 7.0: the key is written only if it is created, grown, or
	// one of its fields changes, and its event is sent only if, besides,
	// a SET or INCRBY ran (a FAIL overflow runs nothing).
	dirty, ran := writes && !exists, false
	if writes {
		if need := int(highest>>3) + 1; need > len(v) {
			v = append(v, make([]byte, need-len(v))...)
			dirty = true
		}
	}
	c.replyArray(len(ops))
	for _, o := range ops {
		if o.name == "get" {
			u := getBitfield(v, o.offset, o.bits)
			if o.signed {
				c.replyInt(signExtend(u, o.bits))
			} else {
				c.replyInt(int64(u))
			}
			continue
		}
		old := getBitfield(v, o.offset, o.bits)
		var next, reply uint64
		var over bool
		if o.signed {
			oldv := signExtend(old, o.bits)
			var n int64
			if o.name == "incrby" {
				n, over = signedOverflow(oldv, o.value, o.bits, o.overflow)
				if !over {
					n = oldv + o.value
				}
				reply = uint64(n)
			} else {
				if n, over = signedOverflow(o.value, 0, o.bits, o.overflow); !over {
					n = o.value
				}
				reply = uint64(oldv)
			}
			next = uint64(n)
		} else {
			if o.name == "incrby" {
				if next, over = unsignedOverflow(old, o.value, o.bits, o.overflow); !over {
					next = old + uint64(o.value)
				}
				reply = next
			} else {
				if next, over = unsignedOverflow(uint64(o.value), 0, o.bits, o.overflow); !over {
					next = uint64(o.value)
				}
				reply = old
			}
		}
		if over && o.overflow == "fail" {
			c.replyNull()
			continue
		}
		c.replyInt(int64(reply))
		setBitfield(v, o.offset, o.bits, next)
		dirty = dirty || getBitfield(v, o.offset, o.bits) != old
		ran = true
	}
	if dirty {
		var oldp *meta
		if exists {
			oldp = &m
		}
		c.setString(args[1], oldp, v, m.expireAt)
		if ran {
			c.notify(NotifyString, "setbit", args[1])
		}
		c.emit(args...) // deterministic from the value a replica holds
	}
}

// bitfieldType parses i1..i64 or u1..u63.
func bitfieldType(arg []byte) (signed bool, bits int, ok bool) {
	if len(arg) < 2 || arg[0] != 'i' && arg[0] != 'u' {
		return false, 0, false
	}
	n, err := parseInt(arg[1:])
	signed = arg[0] == 'i'
	if err != nil || n < 1 || signed && n > 64 || !signed && n > 63 {
		return false, 0, false
	}
	return signed, int(n), true
}

// bitfieldOffset parses an offset in bits, or #n for n times bits.
func bitfieldOffset(arg []byte, bits int) (int64, bool) {
	hash := len(arg) > 0 && arg[0] == '#'
	if hash {
		arg = arg[1:]
	}
	n, err := parseInt(arg)
	if err != nil {
		return 0, false
	}
	if hash {
		if n > math.MaxInt64/int64(bits) || n < math.MinInt64/int64(bits) {
			return 0, false
		}
		n *= int64(bits)
	}
	if n < 0 || n>>3 >= maxStringSize {
		return 0, false
	}
	return n, true
}

// getBitfield reads bits bits at offset, most significant first; bits
// past the end of v read as zeros.
func getBitfield(v []byte, offset int64, bits int) uint64 {
	var u uint64
	for i := range bits {
		u = u<<1 | uint64(bitAt(v, offset+int64(i)))
	}
	return u
}

func setBitfield(v []byte, offset int64, bits int, u uint64) {
	for i := range bits {
		off := offset + int64(i)
		mask := byte(1) << (7 - off&7)
		if u>>(bits-1-i)&1 == 1 {
			v[off>>3] |= mask
		} else {
			v[off>>3] &^= mask
		}
	}
}

func signExtend(u uint64, bits int) int64 {
	if bits < 64 && u&(1<<(bits-1)) != 0 {
		u |= ^uint64(0) << bits
	}
	return int64(u)
}

// signedOverflow is Redis's checkSignedBitfieldOverflow: whether value +
// incr leaves a signed field of bits bits, and then the wrapped or
// saturated result.
func signedOverflow(value, incr int64, bits int, mode string) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if bits < 64 {
		maxv = 1<<(bits-1) - 1
	}
	minv := -maxv - 1
	maxincr, minincr := maxv-value, minv-value
	limit := func(sat int64) (int64, bool) {
		if mode != "wrap" {
			return sat, true
		}
		r := uint64(value) + uint64(incr)
		if bits < 64 {
			if r&(1<<(bits-1)) != 0 {
				r |= ^uint64(0) << bits
			} else {
				r &^= ^uint64(0) << bits
			}
		}
		return int64(r), true
	}
	switch {
	case value > maxv || bits != 64 && incr > maxincr || value >= 0 && incr > 0 && incr > maxincr:
		return limit(maxv)
	case value < minv || bits != 64 && incr < minincr || value < 0 && incr < 0 && incr < minincr:
		return limit(minv)
	}
	return 0, false
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow.
func unsignedOverflow(value uint64, incr int64, bits int, mode string) (uint64, bool) {
	maxv := uint64(1)<<bits - 1
	maxincr, minincr := int64(maxv-value), -int64(value)
	limit := func(sat uint64) (uint64, bool) {
		if mode != "wrap" {
			return sat, true
		}
		return (value + uint64(incr)) &^ (^uint64(0) << bits), true
	}
	switch {
	case value > maxv || incr > 0 && incr > maxincr:
		return limit(maxv)
	case incr < 0 && incr < minincr:
		return limit(0)
	}
	return 0, false
}
