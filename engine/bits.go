package engine

import (
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
	if need := int(off>>3) + 1; need > len(v) {
		v = append(v, make([]byte, need-len(v))...)
	}
	old := bitAt(v, off)
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
		m, _, wrong := c.lookupString(k)
		if wrong {
			return
		}
		srcs = append(srcs, m.value)
		maxLen = max(maxLen, len(m.value))
	}
	dest := args[2]
	old, had := c.lookup(dest)
	if maxLen == 0 {
		if had {
			c.deleteKey(dest, &old)
			c.emit(bs("DEL"), dest)
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
	c.emit(bs("SET"), dest, res)
	c.replyInt(int64(maxLen))
}
